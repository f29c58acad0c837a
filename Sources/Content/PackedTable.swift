/// A read-only hash table keyed by names packed into a `UInt64` (see `packName`),
/// for the lookups made once per tag, attribute or character reference. Open
/// addressing with a multiplicative hash: a lookup is a multiply, a shift and
/// usually one comparison, where `Dictionary` runs SipHash.
struct PackedTable<Value: Sendable>: Sendable {
    private let keys: [UInt64]
    private let values: [Value?]
    private let shift: UInt64

    /// Keys must not be 0 (0 means "does not pack"). Later pairs replace earlier ones.
    init(_ pairs: [(UInt64, Value)]) {
        var bits = 4
        while (1 << bits) < pairs.count * 3 { bits += 1 }  // at most a third full
        let size = 1 << bits
        var keys = [UInt64](repeating: 0, count: size)
        var values = [Value?](repeating: nil, count: size)
        let shift = UInt64(64 - bits)
        for (key, value) in pairs where key != 0 {
            var slot = Int((key &* 0x9E37_79B9_7F4A_7C15) >> shift)
            while keys[slot] != 0 && keys[slot] != key { slot = (slot + 1) & (size - 1) }
            keys[slot] = key
            values[slot] = value
        }
        self.keys = keys
        self.values = values
        self.shift = shift
    }

    @inline(__always) subscript(key: UInt64) -> Value? {
        guard key != 0 else { return nil }
        let mask = keys.count - 1
        var slot = Int((key &* 0x9E37_79B9_7F4A_7C15) >> shift)
        while true {
            let k = keys[slot]
            if k == key { return values[slot] }
            if k == 0 { return nil }
            slot = (slot + 1) & mask
        }
    }
}
