/// 64-bit hashes that are the same in every process and on every machine
/// (Swift's `Hasher` is seeded per process, so nothing stored may use it).
enum StableHash {
    /// FNV-1a over bytes, then a finalizer so that nearby inputs spread over all bits.
    @inline(__always) static func bytes(_ b: some Sequence<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for c in b {
            h ^= UInt64(c)
            h = h &* 0x0000_0100_0000_01B3
        }
        return mix(h)
    }

    static func string(_ s: String, tag: UInt8) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(tag)
        h = h &* 0x0000_0100_0000_01B3
        for c in s.utf8 {
            h ^= UInt64(c)
            h = h &* 0x0000_0100_0000_01B3
        }
        return mix(h)
    }

    /// splitmix64's finalizer.
    @inline(__always) static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Order-dependent combination of hashes (a shingle from its words).
    @inline(__always) static func combine(_ a: UInt64, _ b: UInt64) -> UInt64 {
        mix(a &* 0x9E37_79B9_7F4A_7C15 ^ b)
    }
}

/// Kinds of index keys; a key's kind is mixed into it, so that a URL and a text
/// can never share a key.
enum KeyKind: UInt8 {
    case guid = 1, url, text, lead, band
}
