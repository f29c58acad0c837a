import Foundation

/// Writes one JSON document into a byte buffer, keys in the order they are written.
///
/// Item files and `parse` output keep the field order of SPEC section 4, which
/// `JSONEncoder` cannot, and this avoids its per-value boxing on the hot path.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    private var needsComma: [Bool] = [false]

    public init() { bytes.reserveCapacity(4096) }

    public var string: String { String(decoding: bytes, as: UTF8.self) }

    public mutating func beginObject() { separate(); bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    public mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma.removeLast() }
    public mutating func beginArray() { separate(); bytes.append(UInt8(ascii: "[")); needsComma.append(false) }
    public mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma.removeLast() }

    /// Writes `"name":`; the value written next belongs to it.
    public mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma[needsComma.count - 1] = false
    }

    public mutating func value(_ s: String?) {
        separate()
        if let s { appendQuoted(s) } else { appendRaw("null") }
    }

    public mutating func value(_ n: Int64?) {
        separate()
        appendRaw(n.map { String($0) } ?? "null")
    }

    public mutating func value(_ n: Int?) { value(n.map { Int64($0) }) }

    public mutating func value(_ d: Double?) {
        separate()
        guard let d, d.isFinite else { return appendRaw("null") }
        if d == d.rounded(), abs(d) < 1e15 { appendRaw(String(Int64(d))) } else { appendRaw(String(d)) }
    }

    public mutating func value(_ b: Bool) { separate(); appendRaw(b ? "true" : "false") }

    /// A date as RFC 3339 UTC, or null.
    public mutating func value(_ date: Date?) { value(date.map(Timestamp.rfc3339)) }

    public mutating func value(_ strings: [String]) {
        beginArray()
        for s in strings { value(s) }
        endArray()
    }

    public mutating func null() { separate(); appendRaw("null") }

    private mutating func separate() {
        let i = needsComma.count - 1
        if needsComma[i] { bytes.append(UInt8(ascii: ",")) } else { needsComma[i] = true }
    }

    private mutating func appendRaw(_ s: String) { bytes.append(contentsOf: s.utf8) }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private mutating func appendQuoted(_ s: String) {
        var s = s
        s.withUTF8 { appendQuoted(utf8: $0) }
    }

    private mutating func appendQuoted(utf8: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        // Runs that need no escape go in whole: appended a byte at a time, the
        // texts took a third of `feedspool parse`'s time.
        var start = 0
        for (i, b) in utf8.enumerated() where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b == 0x7F {
            if start < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i])) }
            appendEscaped(b)
            start = i + 1
        }
        if start < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...])) }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A byte JSON does not allow raw in a string, escaped.
    private mutating func appendEscaped(_ b: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch b {
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(b)
        default:
            bytes.append(contentsOf: "u00".utf8)
            bytes.append(JSONWriter.hexDigits[Int(b >> 4)])
            bytes.append(JSONWriter.hexDigits[Int(b & 0xF)])
        }
    }

    /// The bytes written so far, which the writer forgets (keeping its place in
    /// the document): for writing a long document out as it is made.
    public mutating func takeBytes() -> [UInt8] {
        var out: [UInt8] = []
        swap(&out, &bytes)
        bytes.reserveCapacity(out.capacity)
        return out
    }
}

extension JSONWriter {
    /// The `feed` object of `feedspool parse` (SPEC section 2).
    public mutating func write(_ feed: FeedInfo) {
        beginObject()
        key("format"); value(feed.format.rawValue)
        key("title"); value(feed.title)
        key("link"); value(feed.link)
        key("feed_url"); value(feed.feedURL)
        key("description"); value(feed.description)
        key("language"); value(feed.language)
        key("updated"); value(feed.updated)
        key("authors"); value(feed.authors)
        key("image"); value(feed.image)
        key("generator"); value(feed.generator)
        endObject()
    }

    /// The item fields of SPEC section 4 from `id` to `source`, inside an object the caller opened.
    /// The caller adds `schema`, `feed`, `fetched` and `dedup` where it needs them.
    public mutating func writeFields(of item: Item) {
        key("id"); value(.id, of: item)
        key("guid"); value(.guid, of: item)
        key("url"); value(.url, of: item)
        key("title"); value(.title, of: item)
        key("authors"); value(.authors, of: item)
        key("published"); value(item.published)
        key("updated"); value(item.updated)
        key("summary"); value(.summary, of: item)
        key("content_html"); value(.contentHTML, of: item)
        key("content_text"); value(.contentText, of: item)
        key("language"); value(item.language)
        key("categories"); value(.categories, of: item)
        key("enclosures"); value(item.enclosures)
        key("source"); value(item.source)
    }

    /// One of the item's texts (or null), copied from the item's storage as it is escaped.
    public mutating func value(_ field: Item.TextField, of item: Item) {
        separate()
        if item.withUTF8(field, { appendQuoted(utf8: $0) }) == nil { appendRaw("null") }
    }

    /// One of the item's lists of names, as an array of strings.
    public mutating func value(_ list: Item.TextList, of item: Item) {
        beginArray()
        item.forEachUTF8(list) { name in
            separate()
            appendQuoted(utf8: name)
        }
        endArray()
    }

    public mutating func value(_ enclosures: [Enclosure]) {
        beginArray()
        for e in enclosures {
            beginObject()
            key("url"); value(e.url)
            key("type"); value(e.type)
            key("length"); value(e.length)
            endObject()
        }
        endArray()
    }

    public mutating func value(_ source: ItemSource?) {
        guard let s = source else { return null() }
        beginObject()
        key("name"); value(s.name)
        key("url"); value(s.url)
        key("evidence"); value(s.evidence.rawValue)
        endObject()
    }
}
