import CSHA256

/// SHA-256 (FIPS 180-4), used for everything feedspool stores or names: item ids
/// and content keys must be the same on every machine and in every process, which
/// Swift's per-process-seeded `Hasher` is not. On CPUs with the x86 SHA extensions
/// the compression runs there (CSHA256); everywhere else in the Swift below.
public struct SHA256: Sendable {
    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a,
        0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19
    )
    /// The bytes of an incomplete block, in place (an array cost an allocation per hash).
    private var pending: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var pendingCount = 0
    private var totalBytes: UInt64 = 0

    /// Whether blocks go to the SHA extensions; false runs the portable rounds (tests
    /// compare the two).
    let accelerated: Bool

    public init() { accelerated = Self.cpuHasSHAExtensions }

    init(accelerated: Bool) { self.accelerated = accelerated && Self.cpuHasSHAExtensions }

    static let cpuHasSHAExtensions = feedspool_sha256_accelerated() != 0

    public mutating func update<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(buffer: $0) }
        if done == nil { update(buffer: Array(bytes)) }
    }

    private mutating func update(buffer: [UInt8]) { buffer.withUnsafeBufferPointer { update(buffer: $0) } }

    private mutating func update(buffer: UnsafeBufferPointer<UInt8>) {
        totalBytes &+= UInt64(buffer.count)
        var i = 0
        if pendingCount > 0 {
            let take = min(64 - pendingCount, buffer.count)
            appendPending(UnsafeBufferPointer(rebasing: buffer[0..<take]))
            i = take
            guard pendingCount == 64 else { return }
            compressPending()
        }
        let whole = (buffer.count - i) / 64
        if whole > 0 {
            compress(UnsafeBufferPointer(rebasing: buffer[i..<(i + 64 * whole)]))
            i += 64 * whole
        }
        if i < buffer.count { appendPending(UnsafeBufferPointer(rebasing: buffer[i...])) }
    }

    private mutating func appendPending(_ bytes: UnsafeBufferPointer<UInt8>) {
        let at = pendingCount
        withUnsafeMutableBytes(of: &pending) { p in
            UnsafeMutableRawBufferPointer(rebasing: p[at..<(at + bytes.count)]).copyMemory(from: UnsafeRawBufferPointer(bytes))
        }
        pendingCount += bytes.count
    }

    private mutating func compressPending() {
        var block = pending
        withUnsafeBytes(of: &block) { compress($0.assumingMemoryBound(to: UInt8.self)) }
        pendingCount = 0
    }

    public mutating func update(_ string: String) {
        var s = string
        s.withUTF8 { update(buffer: $0) }
    }

    /// One byte (a separator), without an array for it.
    public mutating func update(byte: UInt8) {
        var b = byte
        withUnsafeBytes(of: &b) { update(buffer: $0.assumingMemoryBound(to: UInt8.self)) }
    }

    /// The 32-byte digest. The hasher should not be used afterwards.
    public mutating func finalize() -> [UInt8] {
        pad()
        return [UInt8](unsafeUninitializedCapacity: 32) { out, count in
            for k in 0..<32 { out[k] = digestByte(k) }
            count = 32
        }
    }

    /// Lowercase hex of the digest's first `bytes` bytes (all 32 by default), written
    /// straight into the string. The hasher should not be used afterwards.
    public mutating func finalizeHex(bytes: Int = 32) -> String {
        precondition(bytes >= 0 && bytes <= 32)
        pad()
        return String(unsafeUninitializedCapacity: 2 * bytes) { out in
            for k in 0..<bytes {
                let b = digestByte(k)
                out[2 * k] = Hex.digit(b >> 4)
                out[2 * k + 1] = Hex.digit(b & 0xF)
            }
            return 2 * bytes
        }
    }

    /// Lowercase hex of the digest's first `out.count / 2` bytes, written into `out`:
    /// whole state words, so `out.count` is a multiple of 8 (at most 64). The hasher
    /// should not be used afterwards.
    public mutating func finalizeHex(into out: UnsafeMutableBufferPointer<UInt8>) {
        precondition(out.count % 8 == 0 && out.count <= 64)
        pad()
        let state = self.state
        withUnsafeBytes(of: state) { words in
            for w in 0..<(out.count / 8) {
                // Each word's digits, most significant first (a byte at a time through
                // `digestByte` took some 40 instructions a byte).
                let v = words.load(fromByteOffset: 4 * w, as: UInt32.self)
                for k in 0..<8 { out[8 * w + k] = Hex.digit(UInt8(truncatingIfNeeded: v >> UInt32(28 - 4 * k)) & 0xF) }
            }
        }
    }

    /// Byte `k` of the digest (the state words, big-endian).
    @inline(__always) private func digestByte(_ k: Int) -> UInt8 {
        let word: UInt32
        switch k >> 2 {
        case 0: word = state.0
        case 1: word = state.1
        case 2: word = state.2
        case 3: word = state.3
        case 4: word = state.4
        case 5: word = state.5
        case 6: word = state.6
        default: word = state.7
        }
        return UInt8(truncatingIfNeeded: word >> UInt32(24 - 8 * (k & 3)))
    }

    /// The padding and the message length, compressed into the state.
    private mutating func pad() {
        let bitLength = totalBytes &* 8
        var padding: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &padding) { p in
            p[0] = 0x80
            // Up to the length field, then the length: one block more when 8 bytes do not fit.
            let zeros = (pendingCount < 56 ? 56 : 120) - pendingCount - 1
            let lengthAt = 1 + zeros
            for k in 0..<8 { p[lengthAt + k] = UInt8(truncatingIfNeeded: bitLength >> UInt64(56 - 8 * k)) }
            let total = lengthAt + 8
            let tail = UnsafeBufferPointer(start: p.baseAddress!.assumingMemoryBound(to: UInt8.self), count: total)
            let first = min(total, 64 - pendingCount)
            appendPending(UnsafeBufferPointer(rebasing: tail[0..<first]))
            compressPending()
            if first < total {
                appendPending(UnsafeBufferPointer(rebasing: tail[first...]))
                compressPending()
            }
        }
    }

    /// Lowercase hex of the digest of `string`'s UTF-8 bytes.
    public static func hex(_ string: String) -> String {
        var h = SHA256()
        h.update(string)
        return h.finalizeHex()
    }

    /// Compresses whole 64-byte blocks into the state.
    private mutating func compress(_ blocks: UnsafeBufferPointer<UInt8>) {
        if accelerated, let base = blocks.baseAddress {
            withUnsafeMutableBytes(of: &state) { s in
                feedspool_sha256_blocks(s.baseAddress!.assumingMemoryBound(to: UInt32.self), base, blocks.count / 64)
            }
            return
        }
        var at = 0
        while at + 64 <= blocks.count {
            compressPortably(UnsafeBufferPointer(rebasing: blocks[at..<(at + 64)]))
            at += 64
        }
    }

    private mutating func compressPortably(_ block: UnsafeBufferPointer<UInt8>) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            for i in 0..<16 {
                w[i] = UInt32(block[4 * i]) << 24 | UInt32(block[4 * i + 1]) << 16
                    | UInt32(block[4 * i + 2]) << 8 | UInt32(block[4 * i + 3])
            }
            for i in 16..<64 {
                let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, h) = state
            withUnsafeBytes(of: feedspool_sha256_round_constants) { constants in
                let k = constants.assumingMemoryBound(to: UInt32.self)
                for i in 0..<64 {
                    let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = h &+ s1 &+ ch &+ k[i] &+ w[i]
                    let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    let t2 = s0 &+ maj
                    (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
                }
            }
            state = (
                state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d,
                state.4 &+ e, state.5 &+ f, state.6 &+ g, state.7 &+ h
            )
        }
    }

    @inline(__always) private func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
}

public enum Hex {
    /// The lowercase hex digit of `v` (0...15).
    @inline(__always) static func digit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x57 + v }

    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        // Written straight into the string's storage: one allocation, not two.
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            var i = 0
            for b in bytes {
                out[i] = digit(b >> 4)
                out[i + 1] = digit(b & 0xF)
                i += 2
            }
            return i
        }
    }
}
