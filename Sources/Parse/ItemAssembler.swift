import Content
import FeedspoolModel
import Foundation

/// Turns item drafts into finished `Item`s: text rendered, content sanitized,
/// fallbacks applied, and stable keys and ids assigned.
enum ItemAssembler {
    /// Completes items once the whole document is read: the feed's language where an
    /// item has none, paragraphs recurring across items removed, and the keys (and
    /// ids) of items whose guid turned out not to be unique settled.
    /// `tally` counted the paragraphs of the items' stories as `finish` made them.
    static func complete(
        _ items: consuming [Item], tally: StoryText.ParagraphTally, guids: GuidCensus, feed: FeedInfo, feedID: String
    ) -> (items: [Item], boilerplate: [String]) {
        // Consumed, not copied: a copy would keep every original text alive while the cleaned ones are made.
        if let language = feed.language {
            for i in items.indices where items[i].language == nil { items[i].language = language }
        }
        let boilerplate = removeRecurringParagraphs(&items, tally: tally)
        assignKeys(&items, guids: guids, feedID: feedID)
        return (items, boilerplate)
    }

    /// An item from its draft, as soon as the item's element ends, so that its raw
    /// markup can be freed while the rest of the document is parsed: text rendered,
    /// content sanitized, `content_text` without page junk, and an attribution line
    /// made the item's `source` (evidence `text`) unless a `<source>` element named one.
    /// Pure, so that `DraftFinisher` can run it on another thread.
    /// The item gets the key and id it has if its guid (else its link) is unique in
    /// the document, which `complete` checks.
    ///
    /// `bytes` are the captured bytes the draft's spans point into. `buffers` are
    /// the renderer's, kept from item to item: the story's HTML and text go from
    /// them into the item's block without a String of either.
    /// The item's cleaned story is counted in `tally` (for paragraphs recurring across items).
    /// Its texts go where `arena` has room (the calling thread's: see `ItemTextArena`).
    /// The draft is read where it lies, in its batch: passed as a value (even
    /// `borrowing`) out of an array, it was copied, each of its strings retained
    /// and released again, item by item.
    static func finish(
        _ d: UnsafePointer<FeedBuilder.Draft>, bytes: UnsafeBufferPointer<UInt8>, feedID: String, buffers: inout HTMLRenderBuffers,
        tally: inout StoryText.ParagraphTally, arena: inout ItemTextArena
    ) -> Item {
        // Every field made first and the item once: an item keeps its texts in one
        // block, which each change of a field would make again.
        let guid = d.pointee.itemGuid
        var url = d.pointee.link
        if url == nil, d.pointee.guid != nil, d.pointee.guidIsPermalink, let g = d.pointee.guid,
            let scheme = URLText.scheme(of: g), scheme == "http" || scheme == "https"
        {
            url = g
        }
        let title = d.pointee.title.flatMap { t in
            asItIs(t.0.bytes(in: bytes), t.0.mode) ?? FeedBuilder.plainText(t.0.bytes(in: bytes), mode: t.0.mode).nilIfEmpty.map(Item.Text.string)
        }
        let summary = d.pointee.summary.flatMap { t in
            asItIs(t.0.bytes(in: bytes), t.0.mode)
                ?? FeedBuilder.paragraphs(t.0.bytes(in: bytes), mode: t.0.mode, buffers: &buffers).nilIfEmpty.map(Item.Text.string)
        }
        let fields = Fields(guid: guid, url: url, title: title)
        // The story's text is the content's; when the content gives none, the summary's.
        func assembled(html: Item.Text?, text: UnsafeBufferPointer<UInt8>?) -> Item {
            if let text, !text.isEmpty {
                return assemble(
                    d, fields, feedID: feedID, tally: &tally, arena: &arena, summary: summary, contentHTML: html, contentText: text)
            }
            return summary.withUTF8 {
                assemble(d, fields, feedID: feedID, tally: &tally, arena: &arena, summary: summary, contentHTML: html, contentText: $0)
            }
        }
        guard let content = d.pointee.content else { return assembled(html: nil, text: nil) }
        switch content.mode {
        case .html, .xhtml:
            let markup = content.bytes(in: bytes)
            // The renderer's output is well-formed UTF-8 when its input is (it copies
            // characters whole and writes references as scalars), so the input is
            // checked, once: checking both outputs read twice the bytes, and the
            // decoded references (curly quotes) were where it stopped to look.
            let wellFormed = UTF8String.isValid(markup)
            if PlainTextMarkup.hasMarkup(markup) {
                HTMLRenderer.render(markup, baseURL: d.pointee.contentBase, sanitize: true, text: true, trimmingHTML: true, into: &buffers)
            } else {
                PlainTextMarkup.paragraphed(markup).withUnsafeBufferPointer {
                    HTMLRenderer.render($0, baseURL: d.pointee.contentBase, sanitize: true, text: true, trimmingHTML: true, into: &buffers)
                }
            }
            return buffers.withOutput { html, text in
                guard wellFormed else {
                    // Not expected (the parser makes its input well-formed on the way in);
                    // should it happen, Strings repair what is invalid with U+FFFD.
                    var text = UTF8String.make(text)
                    let html = UTF8String.make(html)
                    return text.withUTF8 { assembled(html: html.isEmpty ? nil : .string(html), text: $0) }
                }
                return assembled(html: html.isEmpty ? nil : .utf8(html), text: text)
            }
        case .text:
            var text = TextBytes.trimmed(content.bytes(in: bytes))
            let html = textAsHTML(text)
            return text.withUTF8 { assembled(html: html.isEmpty ? nil : .string(html), text: $0) }
        }
    }

    /// A title or summary that is its own plain text, as its captured bytes: printable
    /// ASCII, one space between words, no markup or reference (most titles and many
    /// summaries). `plainText` and `paragraphs` would give the same bytes back as a
    /// String, which the item copied and freed. Nil for any other value (and an empty one).
    private static func asItIs(_ b: UnsafeBufferPointer<UInt8>, _ mode: TextMode) -> Item.Text? {
        guard mode != .xhtml, !b.isEmpty, TextBytes.isASCIIWithoutMarkup(b), TextBytes.isCollapsedASCII(b) else { return nil }
        return .utf8(b)
    }

    /// The draft's short fields, as `finish` read them.
    private struct Fields {
        var guid: String?
        var url: String?
        var title: Item.Text?
    }

    /// The item, from the draft and its rendered fields. `contentText` is the
    /// story's text before cleaning (the summary's when the content has none).
    private static func assemble(
        _ d: UnsafePointer<FeedBuilder.Draft>, _ f: Fields, feedID: String, tally: inout StoryText.ParagraphTally,
        arena: inout ItemTextArena, summary: Item.Text?, contentHTML: Item.Text?, contentText: UnsafeBufferPointer<UInt8>?
    ) -> Item {
        let published = d.pointee.published?.0 ?? d.pointee.updated?.0
        var source = d.pointee.source
        // Page junk and the attribution line go here, item by item; paragraphs that
        // recur across items go in `complete`. Attribution first: "Originally published
        // by X" recurs across a reprinter's items, and must become their source before
        // recurring lines go.
        var cleanedText: Item.Text?
        if let text = contentText, !text.isEmpty {
            let cleaned = StoryText.clean(utf8: text)
            if var joined = cleaned.joined {
                if !joined.isEmpty {
                    cleanedText = .string(joined)
                    joined.withUTF8 { tally.add(utf8: $0) }
                }
            } else {
                cleanedText = .utf8(text)
                tally.add(utf8: text, paragraphs: cleaned.paragraphs)
            }
            if source == nil, let name = cleaned.sourceName { source = ItemSource(name: name, url: nil, evidence: .text) }
        }
        let key = f.guid.map { "guid:" + $0 } ?? f.url.map { "link:" + $0 }
            ?? hashKey(
                guid: f.guid, url: f.url, title: f.title.map(\.string), published: published, summary: summary.map(\.string),
                contentHTML: contentHTML.map(\.string))
        // Repeats dropped in one pass with a set: `contains` on the list was quadratic,
        // and an item of 40,000 categories took seconds.
        let authors = d.pointee.authors.count < 2 ? d.pointee.authors.map(\.0) : firstOfEach(
            d.pointee.authors.enumerated().sorted(by: { ($0.element.1, $0.offset) < ($1.element.1, $1.offset) }).map(\.element.0), by: { $0 })
        let categories = firstOfEach(Array(d.pointee.categories), by: { $0 })
        let enclosures = firstOfEach(d.pointee.enclosures.isEmpty ? d.pointee.mediaEnclosures : d.pointee.enclosures, by: \.url)
        return ItemKey.withItemID(feedID: feedID, key: key) { id in
            withUnsafeMutablePointer(to: &arena) { arena in Item(
                id: .utf8(id), key: key, guid: f.guid, url: f.url, title: f.title, authors: authors,
                published: published, updated: d.pointee.updated?.0, summary: summary, contentHTML: contentHTML,
                contentText: cleanedText, language: d.pointee.language, categories: categories, enclosures: enclosures, source: source,
                arena: arena)
            }
        }
    }

    /// `content_text` without paragraphs that recur across the document's items
    /// (boilerplate). (Page junk and attribution lines went in `finish`.)
    /// Returns the recurring paragraphs it removed.
    @discardableResult
    static func removeRecurringParagraphs(_ items: inout [Item], tally: StoryText.ParagraphTally) -> [String] {
        let recurring = tally.recurring(in: items.lazy.compactMap(\.contentText))
        guard !recurring.isEmpty else { return [] }
        for i in items.indices {
            // Never empties a story entirely (`removing` is nil then).
            guard let text = items[i].contentText, let kept = recurring.removing(from: text) else { continue }
            items[i].contentText = kept
        }
        return recurring.paragraphs.sorted()
    }

    /// The values in order, without later ones whose `key` was seen already.
    static func firstOfEach<T, K: Hashable>(_ values: [T], by key: (T) -> K) -> [T] {
        guard values.count > 1 else { return values }  // most items: no set to build
        var seen = Set<K>()
        return values.filter { seen.insert(key($0)).inserted }
    }

    /// Plain text as HTML: escaped, one `<p>` per paragraph.
    static func textAsHTML(_ text: String) -> String {
        let escaped = text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
        return escaped.components(separatedBy: "\n\n").map { "<p>" + $0.replacingOccurrences(of: "\n", with: "<br>") + "</p>" }
            .joined()
    }

    /// Keys: the guid where it is unique in the document, else the link where
    /// that is unique, else a hash of title, date and the feed's text (not the
    /// cleaned text, which depends on the document's other items) (feeds that repeat one
    /// guid for every item must not lose items). Items identical in all of these
    /// get `#2`, `#3`… by position, so nothing is lost and ids stay unique.
    ///
    /// `finish` gave each item the key it has when its guid or link is unique
    /// (and hashed it into the id there, off the parsing thread where it can); here
    /// only items whose key turns out otherwise are keyed again. Keys of different
    /// kinds never collide and guid and link keys are unique by construction, so
    /// only hash keys need numbering. `guids` says whether any item needs it.
    private static func assignKeys(_ items: inout [Item], guids: GuidCensus, feedID: String) {
        guard guids.someMissing || guids.maybeRepeated else { return }
        // One hash per guid, by its bytes as the census counted them. Sized up front:
        // grown on the way, the set rehashed its keys some ten times.
        var seen = Set<UTF8Key>()
        seen.reserveCapacity(items.count)
        var repeated = Set<UTF8Key>()
        var someHaveNoGuid = false
        for i in items.indices {
            guard let g = items[i].guid.map(UTF8Key.init) else { someHaveNoGuid = true; continue }
            if !seen.insert(g).inserted { repeated.insert(g) }
        }
        guard someHaveNoGuid || !repeated.isEmpty else { return }
        var linkCount: [UTF8Key: Int]?
        var hashKeys = UniqueNames(separator: "#")
        for i in items.indices {
            if let g = items[i].guid, !repeated.contains(UTF8Key(g)) { continue }  // keyed by `finish` already
            if linkCount == nil {
                // Only needed once some item has no unique guid: counted over every item.
                var counts: [UTF8Key: Int] = [:]
                counts.reserveCapacity(items.count)
                for j in items.indices {
                    if let l = items[j].url { counts[UTF8Key(l), default: 0] += 1 }
                }
                linkCount = counts
            }
            let key: String
            if let l = items[i].url, linkCount?[UTF8Key(l)] == 1 {
                key = "link:" + l
            } else {
                key = hashKeys.claim(hashKey(items[i]))
            }
            if !key.utf8.elementsEqual(items[i].key.utf8) { items[i].setKey(key, id: ItemKey.itemID(feedID: feedID, key: key)) }
        }
    }

    private static func hashKey(_ it: Item) -> String {
        hashKey(guid: it.guid, url: it.url, title: it.title, published: it.published, summary: it.summary, contentHTML: it.contentHTML)
    }

    private static func hashKey(
        guid: String?, url: String?, title: String?, published: Date?, summary: String?, contentHTML: String?
    ) -> String {
        var h = SHA256()
        for part in [guid, url, title, published.map(Timestamp.rfc3339), summary, contentHTML] {
            h.update(part ?? "")
            h.update(byte: 0)
        }
        return "hash:" + h.finalizeHex(bytes: 16)
    }
}

/// Whether a document's items might repeat a guid, and whether some item has
/// none: what settles whether `ItemAssembler.finish` keyed every item for good.
/// Counted as drafts are handed over, on the parsing thread while the draft is
/// at hand (counted from the finished items, it read every item's texts once
/// more, out of the cache by then), by a 64-bit hash of each guid (a set of the
/// guids themselves cost some 150 ns an item), in the table the paragraph tally
/// uses (a `Set<UInt64>` ran SipHash over each hash again). Two guids whose
/// hashes share the table's 56 bits only send `complete` to the exact count.
/// Each guid's hash is counted when the next guid comes (its slot prefetched
/// meanwhile), as `StoryText.ParagraphTally` counts paragraphs: a document of
/// 50,000 guids has a table larger than the cache.
struct GuidCensus {
    private var seen = HashCounts(expected: 64)
    private var repeated = false
    /// The last guid's hash, not yet in `seen`.
    private var pending: UInt64?
    private(set) var someMissing = false

    init() {}

    init(_ drafts: [FeedBuilder.Draft]) {
        for d in drafts { count(d) }
    }

    /// Whether two guids may be one (their hashes' keys are).
    var maybeRepeated: Bool { repeated || pending.map { seen.count($0) > 0 } ?? false }

    mutating func count(_ draft: borrowing FeedBuilder.Draft) {
        guard var g = draft.itemGuid else { someMissing = true; return }
        let h = g.withUTF8 { FastHash.hash($0) }
        if !repeated, let p = pending, !seen.increment(p) { repeated = true }
        pending = h
        if !repeated { seen.prefetch(h) }
    }
}

extension FeedBuilder.Draft {
    /// The item's guid: RSS `<guid>`, else Atom `<id>`, else RSS 1.0 `rdf:about`.
    var itemGuid: String? { guid ?? atomID ?? rdfAbout }
}

/// A guid, link or key compared and hashed by its UTF-8 bytes, as item ids hash
/// them: `String`'s `==` takes "é" and "e\u{301}" for one, which made two
/// different guids a repeat.
private struct UTF8Key: Hashable {
    let string: String

    init(_ string: String) { self.string = string }

    static func == (a: UTF8Key, b: UTF8Key) -> Bool { a.string.utf8.elementsEqual(b.string.utf8) }

    func hash(into hasher: inout Hasher) {
        var s = string
        s.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

extension Optional where Wrapped == Item.Text {
    /// Calls `body` with the text's UTF-8 bytes (none for nil).
    fileprivate func withUTF8<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        switch self {
        case .none: return body(UnsafeBufferPointer(start: nil, count: 0))
        case .utf8(let b): return body(b)
        case .string(var s): return s.withUTF8(body)
        }
    }
}

extension Item.Text {
    /// The text as a String (for the rare hash key).
    fileprivate var string: String {
        switch self {
        case .string(let s): s
        case .utf8(let b): String(decoding: b, as: UTF8.self)
        }
    }
}
