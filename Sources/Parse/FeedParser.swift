import Content
import FeedspoolModel
import Foundation

/// How to read one document.
public struct ParseOptions: Sendable {
    /// Where the document came from, for relative links (`xml:base` refines it per element).
    public var baseURL: URL?
    /// The charset the HTTP `Content-Type` named, if any. A byte order mark or
    /// the XML declaration take precedence; when the bytes turn out not to be
    /// UTF-8 after all, this charset is the fallback.
    public var charset: String?
    /// The feed id that item ids are derived from (SPEC section 4).
    public var feedID: String
    /// Documents larger than this many bytes are refused (`ParseError.tooLarge`).
    public var maxBytes: Int
    /// Items kept from one document, in document order; the rest are dropped and
    /// the drop is noted in `ParsedFeed.problems`. A hostile 15 MB document of
    /// 480,000 empty items otherwise held 232 MiB (460 MiB with its output).
    public var maxItems: Int

    public init(baseURL: URL? = nil, charset: String? = nil, feedID: String = "", maxBytes: Int = 256 << 20, maxItems: Int = 10_000) {
        self.baseURL = baseURL
        self.charset = charset
        self.feedID = feedID
        self.maxBytes = maxBytes
        self.maxItems = maxItems
    }
}

public enum ParseError: Error, Sendable, Equatable {
    /// The bytes are not an RSS, Atom or JSON Feed document at all.
    case notAFeed(reason: String)
    /// The document is larger than `ParseOptions.maxBytes`.
    case tooLarge(limit: Int)

    public var message: String {
        switch self {
        case .notAFeed(let reason): return "not a feed: \(reason)"
        case .tooLarge(let limit): return "document larger than \(limit) bytes; refused"
        }
    }
}

/// Parses RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed 1.x into a `ParsedFeed`.
///
/// XML goes through libxml2's SAX2 push parser, so memory stays flat however
/// large the document, and bytes can be pushed as they arrive from the network:
///
/// ```swift
/// let parser = FeedParser(options: ParseOptions(baseURL: url, charset: "utf-8", feedID: "racurs"))
/// try parser.push(chunk)          // as often as chunks arrive
/// let parsed = try parser.finish()
/// ```
///
/// Broken documents yield what can be recovered (`ParsedFeed.problems` says
/// what was wrong); only a document that is no feed at all is an error.
/// Not thread safe: use one parser per document.
public final class FeedParser {
    private enum Mode {
        case undecided
        case xml(XMLStreamParser, InputNormalizer)
        case json
    }

    private let options: ParseOptions
    private let delegate: FeedBuilderDelegate
    private var mode: Mode = .undecided
    private var held: [UInt8] = []
    /// Repaired UTF-8 on its way to libxml2.
    private var normalized = ByteSink(capacity: 1 << 16)
    private var total = 0

    public convenience init(options: ParseOptions = ParseOptions()) {
        self.init(options: options, batchesInFlight: DraftFinisher.maxBatchesInFlight)
    }

    /// `batchesInFlight`: see `DraftFinisher` (tests set 0).
    init(options: ParseOptions, batchesInFlight: Int) {
        self.options = options
        self.delegate = FeedBuilderDelegate(
            FeedBuilder(baseURL: options.baseURL, feedID: options.feedID, maxItems: options.maxItems, batchesInFlight: batchesInFlight))
    }

    /// Parses a whole document.
    public static func parse(_ bytes: [UInt8], options: ParseOptions = ParseOptions()) throws(ParseError) -> ParsedFeed {
        let p = FeedParser(options: options)
        var failure: ParseError?
        bytes.withUnsafeBytes { b in
            do throws(ParseError) { try p.push(b) } catch { failure = error }
        }
        if let failure { throw failure }
        return try p.finish()
    }

    public static func parse(_ data: Data, options: ParseOptions = ParseOptions()) throws(ParseError) -> ParsedFeed {
        try parse([UInt8](data), options: options)
    }

    /// Feeds the next bytes of the document.
    public func push(_ bytes: UnsafeRawBufferPointer) throws(ParseError) {
        total += bytes.count
        guard total <= options.maxBytes else { throw .tooLarge(limit: options.maxBytes) }
        switch mode {
        case .undecided:
            held.append(contentsOf: bytes)
            decideMode(final: false)
        case .xml(let sax, var normalizer):
            normalizer.push(bytes, into: &normalized)
            mode = .xml(sax, normalizer)
            flush(sax)
        case .json:
            held.append(contentsOf: bytes)
        }
    }

    /// Ends the document and returns what it holds.
    public func finish() throws(ParseError) -> ParsedFeed {
        if case .undecided = mode { decideMode(final: true) }
        switch mode {
        case .undecided:
            throw .notAFeed(reason: "the document is empty")
        case .json:
            // Items past the limit are cut from the bytes when they can be (JSONItemsCut),
            // so the decoder maps only what is kept; it counts any it still meets. A cut
            // document that does not decode is decoded whole, so that what is reported
            // wrong (and where) is about the document as it came.
            let original = held
            held = []
            var bytes = ByteSink(capacity: 1 << 16)
            let read: (feed: FeedInfo, drafts: [FeedBuilder.Draft], dropped: Int)
            if let cut = JSONItemsCut.cut(original, keep: options.maxItems),
                var r = try? JSONFeedReader.read(Data(cut.document), baseURL: options.baseURL, maxItems: options.maxItems, bytes: &bytes)
            {
                r.dropped += cut.dropped
                read = r
            } else {
                read = try JSONFeedReader.read(Data(original), baseURL: options.baseURL, maxItems: options.maxItems, bytes: &bytes)
            }
            let (info, drafts, dropped) = read
            var work = Finishing()
            var finished: [Item] = []
            finished.reserveCapacity(drafts.count)
            drafts.withUnsafeBufferPointer { work.finish($0, bytes: bytes.bytes, feedID: options.feedID, into: &finished) }
            let (items, boilerplate) = ItemAssembler.complete(
                finished, tally: work.tally, guids: GuidCensus(drafts), feed: info, feedID: options.feedID)
            let problems = dropped > 0 ? [Self.droppedNote(dropped, kept: drafts.count)] : []
            return ParsedFeed(feed: info, items: items, problems: problems, boilerplate: boilerplate, itemsDropped: dropped)
        case .xml(let sax, var normalizer):
            normalizer.finish(into: &normalized)
            flush(sax)
            sax.finish()
            guard delegate.builder.isFeed else {
                if let root = delegate.builder.rootName {
                    throw .notAFeed(reason: "the document element is <\(root)>, not <rss>, <rdf:RDF> or <feed>")
                }
                throw .notAFeed(reason: "no XML element found" + (sax.problems.first.map { " (\($0))" } ?? ""))
            }
            let info = delegate.builder.finishedFeed()
            var problems = normalizer.problems + sax.problems
            if normalizer.encodingUsed != "UTF-8" { problems.insert("read as \(normalizer.encodingUsed)", at: 0) }
            let dropped = delegate.builder.itemsDropped
            if dropped > 0 { problems.append(Self.droppedNote(dropped, kept: options.maxItems)) }
            let (finished, tally, guids) = delegate.builder.takeItems()
            let (items, boilerplate) = ItemAssembler.complete(
                finished, tally: tally, guids: guids, feed: info, feedID: options.feedID)
            return ParsedFeed(feed: info, items: items, problems: problems, boilerplate: boilerplate, itemsDropped: dropped)
        }
    }

    private static func droppedNote(_ dropped: Int, kept: Int) -> String {
        "more than \(kept) items: the first \(kept) were kept, \(dropped) dropped"
    }

    private func flush(_ sax: XMLStreamParser) {
        guard !normalized.isEmpty else { return }
        sax.push(normalized.bytes)
        normalized.removeAll()
    }

    /// JSON when the first byte that is not white space (after a UTF-8 BOM) is `{`.
    private func decideMode(final: Bool) {
        var i = 0
        if held.count >= 3, held[0] == 0xEF, held[1] == 0xBB, held[2] == 0xBF { i = 3 }
        while i < held.count, held[i] == 0x20 || held[i] == 0x0A || held[i] == 0x0D || held[i] == 0x09 { i += 1 }
        guard i < held.count else {
            if final && !held.isEmpty { startXML() }
            return
        }
        if held[i] == UInt8(ascii: "{") {
            mode = .json
        } else {
            startXML()
        }
    }

    private func startXML() {
        let setAside = SetAsideText()
        let sax = XMLStreamParser(builder: delegate, setAside: setAside)
        var normalizer = InputNormalizer(httpCharset: options.charset, setAside: setAside)
        let bytes = held
        held = []
        bytes.withUnsafeBytes { normalizer.push($0, into: &normalized) }
        mode = .xml(sax, normalizer)
        flush(sax)
    }
}
