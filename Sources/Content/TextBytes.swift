import CByteScan

/// Small text operations on UTF-8 bytes, for hot paths where Foundation's
/// `trimmingCharacters` (which goes through UTF-16) would dominate.
public enum TextBytes {
    @inline(__always) public static func isSpace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D || c == 0x0C
    }

    /// The bytes without leading and trailing ASCII white space, as a String.
    public static func trimmed(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { trimmed($0) }
    }

    /// The bytes without leading and trailing ASCII white space, as a String.
    public static func trimmed(_ b: UnsafeBufferPointer<UInt8>) -> String {
        var start = 0, end = b.count
        while start < end, isSpace(b[start]) { start += 1 }
        while end > start, isSpace(b[end - 1]) { end -= 1 }
        return UTF8String.make(UnsafeBufferPointer(rebasing: b[start..<end]))
    }

    public static func trimmed(_ s: String) -> String {
        let u = s.utf8
        guard let f = u.first, let l = u.last, isSpace(f) || isSpace(l) else { return s }
        return trimmed(Array(u))
    }

    /// Whether the bytes are printable ASCII with single spaces between words and
    /// none at the ends: nothing for a white-space collapse to do. Sixteen bytes at
    /// a time (CByteScan): a loop over the bytes branched on every space.
    public static func isCollapsedASCII(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        feedspool_is_collapsed_ascii(b.baseAddress, b.count) != 0
    }

    /// Whether the bytes are printable ASCII (space to `~`) without `&` or `<`: HTML
    /// whose rendering as text would only collapse its spaces.
    public static func isASCIIWithoutMarkup(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        feedspool_is_ascii_without_markup(b.baseAddress, b.count) != 0
    }

    /// Whether the bytes hold anything but ASCII white space.
    public static func hasText(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.contains { !isSpace($0) }
    }
}

/// Feeds often put plain text where HTML is declared (`content:encoded` with
/// blank lines between paragraphs and no tags at all). Rendered as HTML, those
/// paragraphs would run together; readers expect them kept.
public enum PlainTextMarkup {
    /// Whether the bytes contain something that looks like a tag (`<p`, `</`, `<!`).
    public static func hasMarkup(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = bytes.startIndex
        while let lt = bytes[i...].firstIndex(of: UInt8(ascii: "<")) {
            let next = lt + 1
            guard next < bytes.endIndex else { return false }
            let c = bytes[next]
            if c == UInt8(ascii: "/") || c == UInt8(ascii: "!") || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) { return true }
            i = next
        }
        return false
    }

    /// Markup-free text with a `<p>` wherever a blank line separated two
    /// paragraphs, so the HTML renderer keeps the breaks. Entities stay as they are.
    public static func paragraphed(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 64)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            guard b == 0x0A || b == 0x0D else {
                out.append(b)
                i += 1
                continue
            }
            // A run of white space: count its line breaks.
            var j = i, newlines = 0
            while j < bytes.count, TextBytes.isSpace(bytes[j]) {
                if bytes[j] == 0x0A { newlines += 1 }
                j += 1
            }
            if newlines >= 2 || (newlines == 0 && j > i + 1) {  // "\n\n" or "\r\r"
                out.append(contentsOf: Array("\n<p>".utf8))
            } else {
                out.append(0x20)
            }
            i = j
        }
        return out
    }
}

extension Array where Element == UInt8 {
    /// Appends a literal's bytes. (`append(contentsOf: "&lt;".utf8)` goes through
    /// the String's UTF-8 view, several times slower for the short literals that
    /// markup repair and sanitizing write.)
    @inline(__always) public mutating func append(literal s: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
}
