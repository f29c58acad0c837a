/// Up to eight bytes of UTF-8 held in a register: what a character reference
/// decodes to (at most two scalars), handed around without an allocation.
public struct ShortUTF8: Sequence, Sendable {
    /// The bytes, first in the lowest byte.
    public let packed: UInt64
    public let count: Int

    public init(packed: UInt64, count: Int) {
        self.packed = packed
        self.count = count
    }

    public init?<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        guard bytes.count <= 8 else { return nil }
        var v: UInt64 = 0
        for (i, b) in bytes.enumerated() { v |= UInt64(b) << UInt64(8 * i) }
        self.init(packed: v, count: bytes.count)
    }

    public init(_ scalar: Unicode.Scalar) {
        var v: UInt64 = 0
        var n = 0
        for b in scalar.utf8 {
            v |= UInt64(b) << UInt64(8 * n)
            n += 1
        }
        self.init(packed: v, count: n)
    }

    @inline(__always) public subscript(i: Int) -> UInt8 { UInt8(truncatingIfNeeded: packed >> UInt64(8 * i)) }

    public struct Iterator: IteratorProtocol {
        var rest: UInt64
        var left: Int
        @inline(__always) public mutating func next() -> UInt8? {
            guard left > 0 else { return nil }
            let b = UInt8(truncatingIfNeeded: rest)
            rest >>= 8
            left -= 1
            return b
        }
    }

    public func makeIterator() -> Iterator { Iterator(rest: packed, left: count) }
    public var underestimatedCount: Int { count }
}
