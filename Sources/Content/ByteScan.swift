/// Word-at-a-time scans over UTF-8 (eight bytes per step), for the loops every
/// byte of a feed goes through.
public enum ByteScan {
    @usableFromInline static let ones: UInt64 = 0x0101_0101_0101_0101
    @usableFromInline static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Whether any byte of `x` is zero.
    @inlinable @inline(__always) public static func hasZero(_ x: UInt64) -> Bool { ((x &- ones) & ~x & highs) != 0 }

    /// Whether any byte of `x` equals `b`.
    @inlinable @inline(__always) public static func has(_ x: UInt64, _ b: UInt8) -> Bool { hasZero(x ^ (ones &* UInt64(b))) }

    /// The high bit of each byte of `x` that equals `b`, and perhaps of bytes after
    /// the first such: its lowest set bit is exact (the borrow that makes false
    /// positives only runs upward), which is all a search needs.
    @inlinable @inline(__always) public static func matches(_ x: UInt64, _ b: UInt8) -> UInt64 {
        let y = x ^ (ones &* UInt64(b))
        return (y &- ones) & ~y & highs
    }

    /// The index within a little-endian word of the byte whose high bit is the lowest set bit of `mask`.
    @inlinable @inline(__always) static func firstByte(_ mask: UInt64) -> Int { mask.trailingZeroBitCount >> 3 }

    /// Whether any byte of `x` is below `n` (n <= 128), or has its high bit set.
    @inlinable @inline(__always) public static func hasBelowOrHigh(_ x: UInt64, _ n: UInt8) -> Bool {
        ((x &- ones &* UInt64(n)) | x) & highs != 0
    }

    /// The index of the first byte at or after `i` (before `end`) that is `c`.
    @inlinable @inline(__always) public static func next(_ b: UnsafeBufferPointer<UInt8>, from i: Int, to end: Int, _ c: UInt8) -> Int {
        first(b, from: i, to: end, word: { matches($0, c) }, byte: { $0 == c })
    }

    /// The index of the first byte at or after `i` (before `end`) that is `c1`, `c2` or `c3`.
    @inlinable @inline(__always) public static func next(
        _ b: UnsafeBufferPointer<UInt8>, from i: Int, to end: Int, _ c1: UInt8, _ c2: UInt8, _ c3: UInt8
    ) -> Int {
        first(b, from: i, to: end, word: { matches($0, c1) | matches($0, c2) | matches($0, c3) },
              byte: { $0 == c1 || $0 == c2 || $0 == c3 })
    }

    /// The index of the first byte at or after `i` (before `end`) that is `c1`, `c2`, `c3` or `c4`.
    @inlinable @inline(__always) public static func next(
        _ b: UnsafeBufferPointer<UInt8>, from i: Int, to end: Int, _ c1: UInt8, _ c2: UInt8, _ c3: UInt8, _ c4: UInt8
    ) -> Int {
        first(b, from: i, to: end, word: { matches($0, c1) | matches($0, c2) | matches($0, c3) | matches($0, c4) },
              byte: { $0 == c1 || $0 == c2 || $0 == c3 || $0 == c4 })
    }

    /// The searches above: eight bytes a step while `word` (the match mask of a
    /// little-endian word, see `matches`) finds nothing, then byte by byte.
    @inlinable @inline(__always) static func first(
        _ b: UnsafeBufferPointer<UInt8>, from i: Int, to end: Int, word: (UInt64) -> UInt64, byte: (UInt8) -> Bool
    ) -> Int {
        var j = i
        if let base = b.baseAddress {
            let raw = UnsafeRawPointer(base)
            while j + 8 <= end {
                let m = word(raw.loadUnaligned(fromByteOffset: j, as: UInt64.self).littleEndian)
                if m != 0 { return j + firstByte(m) }
                j += 8
            }
        }
        while j < end, !byte(b[j]) { j += 1 }
        return j
    }

    /// The index of the first byte at or after `i` that is not printable ASCII
    /// (0x20–0x7F); tab, LF and CR count as printable.
    @inlinable @inline(__always) public static func nextNonPrintableASCII(_ b: UnsafeRawBufferPointer, from i: Int, to end: Int) -> Int {
        var j = i
        guard let base = b.baseAddress else { return i }
        while true {
            while j + 8 <= end {
                let x = base.loadUnaligned(fromByteOffset: j, as: UInt64.self)
                if hasBelowOrHigh(x, 0x20) { break }
                j += 8
            }
            if j + 8 <= end {
                // A word with a control character or a high byte: tab, LF and CR are fine,
                // so the exact bytes are worked out in the word (no borrow between bytes).
                let x = base.loadUnaligned(fromByteOffset: j, as: UInt64.self).littleEndian
                let allowed = zeroBytes(x ^ (ones &* 0x09)) | zeroBytes(x ^ (ones &* 0x0A)) | zeroBytes(x ^ (ones &* 0x0D))
                let bad = (x & highs) | (zeroBytes(x & (ones &* 0xE0)) & ~allowed)
                if bad != 0 { return j + firstByte(bad) }
                j += 8
                continue
            }
            while j < end {
                let c = b[j]
                if c >= 0x80 || (c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0D) { return j }
                j += 1
            }
            return end
        }
    }

    /// The high bit of each byte of `x` that is zero, and of no other byte.
    @inlinable @inline(__always) static func zeroBytes(_ x: UInt64) -> UInt64 {
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        return ~(((x & low7) &+ low7) | x | low7)
    }
}
