/// A growable byte buffer that only appends, for the renderer's output. An
/// `[UInt8]` checks uniqueness and capacity through generic paths on every
/// append, and the renderer appends a byte, a name or a run at a time.
/// The feed parser's repair step writes into one too. Not copyable: it owns
/// its memory and frees it when it goes. The appends are inlinable: the
/// repair step in another module appends a byte or a run at a time too.
public struct ByteSink: ~Copyable {
    @usableFromInline var base: UnsafeMutablePointer<UInt8>
    @usableFromInline var used = 0
    @usableFromInline var capacity: Int

    /// How many bytes it holds.
    @inlinable public var count: Int { used }

    public init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    @inlinable public var isEmpty: Bool { used == 0 }
    public var last: UInt8? { used > 0 ? base[used - 1] : nil }
    public var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: used) }

    @inlinable @inline(__always) public subscript(i: Int) -> UInt8 { base[i] }

    @inlinable @inline(__always) public mutating func append(_ b: UInt8) {
        if used == capacity { grow(to: used + 1) }
        base[used] = b
        used += 1
    }

    @inlinable @inline(__always) public mutating func append(contentsOf run: UnsafeBufferPointer<UInt8>) {
        guard let source = run.baseAddress, run.count > 0 else { return }
        if used + run.count > capacity { grow(to: used + run.count) }
        (base + used).initialize(from: source, count: run.count)
        used += run.count
    }

    /// `run` with `bits` set in each byte (`0x20`: ASCII letters lowercased, for a
    /// name of letters, digits and '-').
    @inlinable @inline(__always) public mutating func append(contentsOf run: UnsafeBufferPointer<UInt8>, setting bits: UInt8) {
        guard let source = run.baseAddress, run.count > 0 else { return }
        if used + run.count > capacity { grow(to: used + run.count) }
        for k in 0..<run.count { base[used + k] = source[k] | bits }
        used += run.count
    }

    @inlinable @inline(__always) public mutating func append(literal s: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    public mutating func append(contentsOf bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append(contentsOf: $0) }
    }

    /// A decoded reference: its (at most eight) bytes stored at once.
    @inlinable @inline(__always) public mutating func append(contentsOf value: ShortUTF8) {
        if used + 8 > capacity { grow(to: used + 8) }
        UnsafeMutableRawPointer(base + used).storeBytes(of: value.packed.littleEndian, as: UInt64.self)
        used += value.count
    }

    /// The first `count` (at most sixteen) bytes of two little-endian words.
    @inlinable @inline(__always) public mutating func append(word low: UInt64, word high: UInt64, count: Int) {
        if used + 16 > capacity { grow(to: used + 16) }
        let p = UnsafeMutableRawPointer(base + used)
        p.storeBytes(of: low.littleEndian, as: UInt64.self)
        p.storeBytes(of: high.littleEndian, toByteOffset: 8, as: UInt64.self)
        used += count
    }

    public mutating func append<S: Sequence<UInt8>>(contentsOf bytes: S) {
        for b in bytes { append(b) }
    }

    public mutating func removeLast() {
        precondition(used > 0, "removeLast on an empty ByteSink")
        used -= 1
    }

    /// Empties it, keeping its memory.
    public mutating func removeAll() { used = 0 }

    /// Drops every byte from `count` on (keeping its memory).
    public mutating func truncate(to count: Int) {
        precondition(count >= 0 && count <= used, "truncate past the end of a ByteSink")
        used = count
    }

    /// Drops the first `count` bytes; the rest move to the front (keeping its memory).
    public mutating func removeFirst(_ count: Int) {
        precondition(count >= 0 && count <= used, "removeFirst past the end of a ByteSink")
        if count > 0 && count < used { base.update(from: base + count, count: used - count) }
        used -= count
    }

    /// How many bytes it has room for without growing.
    public var allocatedCount: Int { capacity }

    /// Room for `extra` more bytes without growing.
    @inlinable public mutating func reserve(_ extra: Int) {
        if used + extra > capacity { grow(to: used + extra) }
    }

    @usableFromInline mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        grown.initialize(from: base, count: used)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }
}
