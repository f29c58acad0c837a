/// A growable byte buffer that only appends, for the renderer's output. An
/// `[UInt8]` checks uniqueness and capacity through generic paths on every
/// append, and the renderer appends a byte, a name or a run at a time.
/// Not copyable: it owns its memory and frees it when it goes.
struct ByteSink: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    var isEmpty: Bool { count == 0 }
    var last: UInt8? { count > 0 ? base[count - 1] : nil }
    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    @inline(__always) subscript(i: Int) -> UInt8 { base[i] }

    @inline(__always) mutating func append(_ b: UInt8) {
        if count == capacity { grow(to: count + 1) }
        base[count] = b
        count += 1
    }

    @inline(__always) mutating func append(contentsOf run: UnsafeBufferPointer<UInt8>) {
        guard let source = run.baseAddress, run.count > 0 else { return }
        if count + run.count > capacity { grow(to: count + run.count) }
        (base + count).initialize(from: source, count: run.count)
        count += run.count
    }

    @inline(__always) mutating func append(literal s: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    mutating func append(contentsOf bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append(contentsOf: $0) }
    }

    mutating func append<S: Sequence<UInt8>>(contentsOf bytes: S) {
        for b in bytes { append(b) }
    }

    mutating func removeLast() {
        precondition(count > 0, "removeLast on an empty ByteSink")
        count -= 1
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
