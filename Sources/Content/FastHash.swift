/// A fast 64-bit hash of bytes, eight at a time. In-process only (never
/// stored: it may change), and not keyed: for counting what a document repeats,
/// where a rare collision costs a second, exact look and never a wrong answer.
public enum FastHash {
    @inline(__always) public static func hash(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        hash(b, 0..<b.count)
    }

    @inline(__always) public static func hash(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(r.count)
        guard let base = b.baseAddress else { return h }
        var i = r.lowerBound
        let raw = UnsafeRawPointer(base)
        while i + 8 <= r.upperBound {
            h = mix(h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < r.upperBound {
            tail |= UInt64(b[i]) << shift
            shift += 8
            i += 1
        }
        return mix(h ^ tail)
    }

    @inline(__always) private static func mix(_ x: UInt64) -> UInt64 {
        let m = x.multipliedFullWidth(by: 0xD6E8_FEB8_6659_FD93)
        return m.high ^ m.low
    }
}
