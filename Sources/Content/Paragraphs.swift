import CByteScan
#if canImport(Glibc)
import Glibc  // memchr
#elseif canImport(Darwin)
import Darwin
#endif

/// The paragraphs of a text as the renderer writes it: separated by a blank
/// line ("\n\n"), each trimmed of white space, empty ones skipped. Works on the
/// UTF-8 bytes (no Foundation, no per-paragraph String) because every story of
/// every feed goes through here.
public enum Paragraphs {
    /// The byte ranges of the paragraphs of `b`.
    public static func ranges(_ b: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        // Room for a typical story's paragraphs: growing from empty reallocated three or four times per call.
        out.reserveCapacity(16)
        var start = 0
        var i = 0
        let n = b.count
        while i < n {
            // Find the next "\n\n" (non-overlapping, from the left, as a split on "\n\n" would).
            guard let lf = nextLineFeed(b, from: i) else { break }
            if lf + 1 < n, b[lf + 1] == 0x0A {
                append(b, start..<lf, to: &out)
                start = lf + 2
                i = start
            } else {
                i = lf + 1
            }
        }
        append(b, start..<n, to: &out)
        return out
    }

    /// The paragraphs of `text` as Strings.
    public static func split(_ text: String) -> [String] {
        var text = text
        return text.withUTF8 { b in ranges(b).map { String(decoding: UnsafeBufferPointer(rebasing: b[$0]), as: UTF8.self) } }
    }

    /// Number of Unicode scalars in the bytes (what "characters" means for the length rules).
    @inline(__always) public static func scalarCount(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Int {
        // Sixteen bytes a step in C (CByteScan), with no limit.
        guard let base = b.baseAddress, !r.isEmpty else { return 0 }
        return feedspool_scalar_count_up_to(base + r.lowerBound, r.count, Int.max)
    }

    /// Whether the bytes in `r` hold at least `n` characters (Unicode scalars),
    /// counting only when the byte length leaves it open.
    @inline(__always) public static func hasAtLeast(_ n: Int, charactersIn b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Bool {
        guard r.count < 4 * n else { return true }
        guard r.count >= n, let base = b.baseAddress else { return false }
        // Counted only as far as it takes: a paragraph of 150 bytes of ASCII is
        // decided by its first 48 (the tally asks this of most paragraphs).
        return feedspool_scalar_count_up_to(base + r.lowerBound, r.count, n) >= n
    }

    private static func nextLineFeed(_ b: UnsafeBufferPointer<UInt8>, from i: Int) -> Int? {
        // glibc's memchr (vector code picked for this CPU): a story's paragraphs are
        // a hundred bytes and more apart, where eight bytes a step in Swift cost
        // about three times the instructions.
        guard let base = b.baseAddress, i < b.count, let hit = memchr(base + i, 0x0A, b.count - i) else { return nil }
        return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }

    private static func append(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, to out: inout [Range<Int>]) {
        let t = trimmed(b, r)
        if !t.isEmpty { out.append(t) }
    }

    /// The range without leading and trailing white space: ASCII, and the Unicode
    /// spaces that renderers leave (no-break, en/em and the other fixed-width
    /// spaces, line/paragraph separators, ideographic space, NEL).
    public static func trimmed(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Range<Int> {
        var lo = r.lowerBound, hi = r.upperBound
        while lo < hi {
            let w = spaceWidth(b, at: lo, end: hi)
            if w == 0 { break }
            lo += w
        }
        while hi > lo {
            let w = spaceWidth(b, endingAt: hi, start: lo)
            if w == 0 { break }
            hi -= w
        }
        return lo..<hi
    }

    /// The byte length of the white-space character starting at `i`, or 0.
    @inline(__always) static func spaceWidth(_ b: UnsafeBufferPointer<UInt8>, at i: Int, end: Int) -> Int {
        let c = b[i]
        if c < 0x80 { return c == 0x20 || (c >= 0x09 && c <= 0x0D) ? 1 : 0 }
        if c == 0xC2, i + 1 < end { return b[i + 1] == 0xA0 || b[i + 1] == 0x85 ? 2 : 0 }
        if c >= 0xE1, c <= 0xE3, i + 2 < end { return isSpace3(b[i], b[i + 1], b[i + 2]) ? 3 : 0 }
        return 0
    }

    /// The byte length of the white-space character ending just before `end`, or 0.
    @inline(__always) static func spaceWidth(_ b: UnsafeBufferPointer<UInt8>, endingAt end: Int, start: Int) -> Int {
        let c = b[end - 1]
        if c < 0x80 { return c == 0x20 || (c >= 0x09 && c <= 0x0D) ? 1 : 0 }
        if end - 2 >= start, b[end - 2] == 0xC2, c == 0xA0 || c == 0x85 { return 2 }
        if end - 3 >= start, isSpace3(b[end - 3], b[end - 2], c) { return 3 }
        return 0
    }

    /// U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 in UTF-8.
    @inline(__always) static func isSpace3(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Bool {
        switch (a, b) {
        case (0xE1, 0x9A): return c == 0x80
        case (0xE2, 0x80): return c <= 0x8A || c == 0xA8 || c == 0xA9 || c == 0xAF
        case (0xE2, 0x81): return c == 0x9F
        case (0xE3, 0x80): return c == 0x80
        default: return false
        }
    }
}
