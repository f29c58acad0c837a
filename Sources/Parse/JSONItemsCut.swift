/// Cuts a JSON Feed's `items` array after its first `keep` entries, on the bytes,
/// before JSONDecoder sees the document.
///
/// JSONDecoder maps the whole document before it decodes anything: a 63 MB feed of
/// 1.6 million tiny items took 385 MB to keep 10,000 of them. The cut document has
/// the same members and the first `keep` items, so the decoder maps only those.
///
/// Only a document it reads with certainty is cut: an object whose one top-level
/// `items` member (a key written without escapes) is an array that ends. Anything
/// else (not an object, a second `items`, an escaped key, bytes that end inside a
/// value) returns nil, and the caller decodes the document as it is.
enum JSONItemsCut {
    /// The cut document and how many items it left out; nil when there is nothing
    /// to cut or the document is not read with certainty.
    static func cut(_ b: [UInt8], keep: Int) -> (document: [UInt8], dropped: Int)? {
        b.withUnsafeBufferPointer { cut(in: $0, keep: max(0, keep)) }
    }

    private static func cut(in b: UnsafeBufferPointer<UInt8>, keep: Int) -> (document: [UInt8], dropped: Int)? {
        var i = skipSpace(b, 0)
        if b.count >= 3, b[0] == 0xEF, b[1] == 0xBB, b[2] == 0xBF { i = skipSpace(b, 3) }
        guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
        i = skipSpace(b, i + 1)
        var found: (cutAt: Int, arrayEnd: Int, dropped: Int)?
        while i < b.count, b[i] != UInt8(ascii: "}") {
            // A member: "key" : value
            guard b[i] == UInt8(ascii: "\""), let keyEnd = stringEnd(b, i) else { return nil }
            let key = UnsafeBufferPointer(rebasing: b[(i + 1)..<(keyEnd - 1)])
            if key.contains(UInt8(ascii: "\\")) { return nil }  // an escaped key might spell "items"
            i = skipSpace(b, keyEnd)
            guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
            i = skipSpace(b, i + 1)
            if key.elementsEqual("items".utf8) {
                guard found == nil else { return nil }  // which one the decoder takes is its business
                guard i < b.count, b[i] == UInt8(ascii: "[") else { return nil }
                guard let items = arrayCut(b, i, keep: keep) else { return nil }
                found = items
                i = items.arrayEnd
            } else {
                guard let end = valueEnd(b, i) else { return nil }
                i = end
            }
            i = skipSpace(b, i)
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: ",") { i = skipSpace(b, i + 1) } else if b[i] != UInt8(ascii: "}") { return nil }
        }
        guard i < b.count, let found, found.dropped > 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(found.cutAt + 1 + (b.count - found.arrayEnd))
        out.append(contentsOf: UnsafeBufferPointer(rebasing: b[0..<found.cutAt]))
        out.append(UInt8(ascii: "]"))
        out.append(contentsOf: UnsafeBufferPointer(rebasing: b[found.arrayEnd...]))
        return (out, found.dropped)
    }

    /// For the array opening at `open`: where its `keep`-th entry ends (or just past
    /// the `[`), where the array ends (past its `]`), and how many entries follow.
    private static func arrayCut(_ b: UnsafeBufferPointer<UInt8>, _ open: Int, keep: Int) -> (cutAt: Int, arrayEnd: Int, dropped: Int)? {
        var i = skipSpace(b, open + 1)
        var cutAt = open + 1
        var entries = 0
        while i < b.count, b[i] != UInt8(ascii: "]") {
            guard let end = valueEnd(b, i) else { return nil }
            entries += 1
            if entries == keep { cutAt = end }
            i = skipSpace(b, end)
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: ",") { i = skipSpace(b, i + 1) } else if b[i] != UInt8(ascii: "]") { return nil }
        }
        guard i < b.count else { return nil }
        return (cutAt, i + 1, max(0, entries - keep))
    }

    /// Just past the value starting at `i`: a string, an object or array (nesting
    /// counted, strings inside skipped), or a number or literal.
    private static func valueEnd(_ b: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int? {
        guard start < b.count else { return nil }
        switch b[start] {
        case UInt8(ascii: "\""):
            return stringEnd(b, start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var i = start
            while i < b.count {
                switch b[i] {
                case UInt8(ascii: "\""):
                    guard let end = stringEnd(b, i) else { return nil }
                    i = end
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return i + 1 }
                default:
                    break
                }
                i += 1
            }
            return nil
        default:
            var i = start
            while i < b.count {
                switch b[i] {
                case UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), 0x20, 0x0A, 0x0D, 0x09: return i > start ? i : nil
                default: i += 1
                }
            }
            return nil
        }
    }

    /// Just past the closing quote of the string opening at `open`.
    private static func stringEnd(_ b: UnsafeBufferPointer<UInt8>, _ open: Int) -> Int? {
        var i = open + 1
        while i < b.count {
            switch b[i] {
            case UInt8(ascii: "\\"): i += 2
            case UInt8(ascii: "\""): return i + 1
            default: i += 1
            }
        }
        return nil
    }

    private static func skipSpace(_ b: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int {
        var i = start
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        return i
    }
}
