/// A growable byte buffer that only appends, for the renderer's output. An
/// `[UInt8]` checks uniqueness and capacity through generic paths on every
/// append, and the renderer appends a byte, a name or a run at a time.
/// The feed parser's repair step writes into one too. Not copyable: it owns
/// its memory and frees it when it goes.
public struct ByteSink: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    public private(set) var count = 0
    private var capacity: Int

    public init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    public var isEmpty: Bool { count == 0 }
    public var last: UInt8? { count > 0 ? base[count - 1] : nil }
    public var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    @inline(__always) public subscript(i: Int) -> UInt8 { base[i] }

    @inline(__always) public mutating func append(_ b: UInt8) {
        if count == capacity { grow(to: count + 1) }
        base[count] = b
        count += 1
    }

    @inline(__always) public mutating func append(contentsOf run: UnsafeBufferPointer<UInt8>) {
        guard let source = run.baseAddress, run.count > 0 else { return }
        if count + run.count > capacity { grow(to: count + run.count) }
        (base + count).initialize(from: source, count: run.count)
        count += run.count
    }

    @inline(__always) public mutating func append(literal s: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    public mutating func append(contentsOf bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append(contentsOf: $0) }
    }

    /// A decoded reference: its (at most eight) bytes stored at once.
    @inline(__always) public mutating func append(contentsOf value: ShortUTF8) {
        if count + 8 > capacity { grow(to: count + 8) }
        UnsafeMutableRawPointer(base + count).storeBytes(of: value.packed.littleEndian, as: UInt64.self)
        count += value.count
    }

    public mutating func append<S: Sequence<UInt8>>(contentsOf bytes: S) {
        for b in bytes { append(b) }
    }

    public mutating func removeLast() {
        precondition(count > 0, "removeLast on an empty ByteSink")
        count -= 1
    }

    /// Empties it, keeping its memory.
    public mutating func removeAll() { count = 0 }

    /// Room for `extra` more bytes without growing.
    public mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        grown.initialize(from: base, count: count)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }
}
