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

/// A set of 64-bit hashes that are already well mixed (`FastHash`), in an
/// open-addressed table of words: no second hash per insert (a `Set<UInt64>`
/// runs SipHash on each) and one probe sequence in one array.
public struct HashSet64: Sendable {
    private var slots: [UInt64]
    private var used = 0
    /// Whether the hash 0 (which marks an empty slot) was inserted.
    private var hasZero = false

    public init() { slots = [UInt64](repeating: 0, count: 64) }

    /// Adds `hash`; true when it was not there yet.
    public mutating func insert(_ hash: UInt64) -> Bool {
        if hash == 0 {
            defer { hasZero = true }
            return !hasZero
        }
        if (used + 1) * 2 > slots.count { grow() }
        let inserted = slots.withUnsafeMutableBufferPointer { t in
            let mask = t.count - 1
            var slot = Int(truncatingIfNeeded: hash >> 7) & mask
            while t[slot] != 0 {
                if t[slot] == hash { return false }
                slot = (slot + 1) & mask
            }
            t[slot] = hash
            return true
        }
        if inserted { used += 1 }
        return inserted
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        slots.withUnsafeMutableBufferPointer { t in
            let mask = t.count - 1
            for h in old where h != 0 {
                var slot = Int(truncatingIfNeeded: h >> 7) & mask
                while t[slot] != 0 { slot = (slot + 1) & mask }
                t[slot] = h
            }
        }
    }
}
