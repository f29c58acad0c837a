import Content
import FeedspoolModel
import Foundation

/// JSON Feed 1.0 and 1.1 (https://www.jsonfeed.org/version/1.1/), read with `JSONDecoder`.
enum JSONFeedReader {
    private struct Document: Decodable {
        var version: String?
        var title: String?
        var home_page_url: String?
        var feed_url: String?
        var description: String?
        var icon: String?
        var favicon: String?
        var language: String?
        var author: Person?
        var authors: [Person]?
        var items: Entries?
    }

    /// The first `maxItems` entries (the decoder's `userInfo`), decoded; the rest
    /// only counted. Decoding every entry of a 63 MB feed of 1.6 million tiny
    /// items took 14 s and 1.2 GB, to keep 10,000 of them.
    private struct Entries: Decodable {
        var kept: [Entry] = []
        var dropped = 0

        /// Any JSON value, read past without storing anything.
        private struct Skipped: Decodable {
            init(from decoder: Decoder) throws {}
        }

        init(from decoder: Decoder) throws {
            let limit = decoder.userInfo[JSONFeedReader.maxItemsKey] as? Int ?? Int.max
            var list = try decoder.unkeyedContainer()
            while !list.isAtEnd {
                if kept.count < limit {
                    kept.append(try list.decode(Entry.self))
                } else {
                    _ = try list.decode(Skipped.self)
                    dropped += 1
                }
            }
        }
    }

    private static let maxItemsKey = CodingUserInfoKey(rawValue: "maxItems")!

    private struct Person: Decodable {
        var name: String?
        var url: String?
    }

    private struct Attachment: Decodable {
        var url: String?
        var mime_type: String?
        var size_in_bytes: Lenient<Int64>?
    }

    private struct Entry: Decodable {
        var id: Lenient<String>?
        var url: String?
        var external_url: String?
        var title: String?
        var content_html: String?
        var content_text: String?
        var summary: String?
        var date_published: String?
        var date_modified: String?
        var author: Person?
        var authors: [Person]?
        var tags: [String]?
        var language: String?
        var attachments: [Attachment]?
    }

    /// Decodes a value that feeds write as either a number or a string, or something else (ignored).
    private struct Lenient<T: LosslessStringConvertible & Decodable>: Decodable {
        var value: T?
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let v = try? c.decode(T.self) { value = v; return }
            if let s = try? c.decode(String.self) { value = T(s); return }
            if let i = try? c.decode(Int64.self) { value = T(String(i)); return }
            if let d = try? c.decode(Double.self) { value = T(String(d)); return }
            value = nil
        }
    }

    /// What is wrong with JSON that does not parse, in JSONSerialization's words
    /// ("Too many nested arrays or dictionaries around character 531."): the decoder
    /// only says that it is not valid JSON.
    private static func syntaxProblem(in data: Data) -> String {
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            return "the data is not valid JSON"
        } catch {
            let e = error as NSError
            return (e.userInfo[NSDebugDescriptionErrorKey] as? String) ?? e.localizedDescription
        }
    }

    /// A string of the feed as an XML feed's text would reach the builder: JSON can
    /// escape any character (`\u0001`), XML carries no C0 control but tab, LF and
    /// CR, and the input step drops the rest, so they are dropped here too.
    private static func plain(_ s: String?) -> String? {
        func isDropped(_ b: UInt8) -> Bool { b < 0x20 && b != 0x09 && b != 0x0A && b != 0x0D }
        guard let s, s.utf8.contains(where: isDropped) else { return s }
        return String(decoding: s.utf8.filter { !isDropped($0) }, as: UTF8.self)
    }

    /// The first `maxItems` items as raw drafts for `FeedParser` to finish, and how
    /// many more there were; `.notAFeed` saying why when `data` is not a JSON Feed
    /// (not JSON at all, nested too deep, no 1.x version).
    /// The drafts' texts go to `bytes` (emptied first), which their spans point into.
    static func read(_ data: Data, baseURL: URL?, maxItems: Int, bytes: inout ByteSink) throws(ParseError)
        -> (feed: FeedInfo, drafts: [FeedBuilder.Draft], dropped: Int)
    {
        bytes.removeAll()
        let doc: Document
        do {
            let decoder = JSONDecoder()
            decoder.userInfo[maxItemsKey] = max(0, maxItems)
            doc = try decoder.decode(Document.self, from: data)
        } catch DecodingError.dataCorrupted {
            throw .notAFeed(reason: "JSON that cannot be read: \(Self.syntaxProblem(in: data))")
        } catch {
            throw .notAFeed(reason: "JSON that is not a JSON Feed (\(error))")
        }
        guard let version = doc.version, version.contains("jsonfeed.org/version/1") else {
            throw .notAFeed(reason: "JSON that is not a JSON Feed (no \"version\" of https://jsonfeed.org/version/1.x)")
        }
        func resolve(_ s: String?) -> String? { plain(s).map { URLText.resolve($0, against: baseURL) } }
        let people = (doc.authors ?? doc.author.map { [$0] } ?? []).compactMap { plain($0.name) }
        let info = FeedInfo(
            format: .jsonFeed1, title: plain(doc.title), link: resolve(doc.home_page_url), feedURL: resolve(doc.feed_url),
            description: plain(doc.description), language: plain(doc.language), updated: nil, authors: people,
            image: resolve(doc.icon ?? doc.favicon), generator: nil)
        var drafts: [FeedBuilder.Draft] = []
        for e in doc.items?.kept ?? [] {
            var d = FeedBuilder.Draft()
            d.contentBase = baseURL
            d.guid = plain(e.id?.value)
            d.link = resolve(e.url ?? e.external_url)
            d.linkPriority = 0
            func span(_ s: String, _ mode: TextMode) -> TextSpan {
                let start = bytes.count
                bytes.append(contentsOf: s.utf8)
                return TextSpan(start: start, end: bytes.count, mode: mode)
            }
            if let t = plain(e.title) { d.title = (span(t, .text), 0) }
            if let s = plain(e.summary) { d.summary = (span(s, .text), 0) }
            if let html = plain(e.content_html) {
                d.content = span(html, .html)
            } else if let text = plain(e.content_text) {
                d.content = span(text, .text)
            }
            if let p = e.date_published.flatMap(DateParser.parse) { d.published = (p, 0) }
            if let u = e.date_modified.flatMap(DateParser.parse) { d.updated = (u, 0) }
            d.authors = ShortList((e.authors ?? e.author.map { [$0] } ?? []).compactMap { plain($0.name) }.map { ($0, 0) })
            d.categories = ShortList((e.tags ?? []).compactMap(plain))
            d.language = plain(e.language)
            d.enclosures = (e.attachments ?? []).compactMap { a in
                resolve(a.url).map { Enclosure(url: $0, type: plain(a.mime_type), length: a.size_in_bytes?.value) }
            }
            drafts.append(d)
        }
        return (info, drafts, doc.items?.dropped ?? 0)
    }
}
