/// A compact multimap from 64-bit keys to entry numbers: open addressing with
/// linear probing, one `UInt64` per slot (the key's top 36 bits and the entry
/// number + 1 in the low 28). Lossy on purpose: a match is only a candidate,
/// which the caller verifies against the store, so 36 bits are plenty and an
/// entry costs about 11 bytes per key at the table's load.
struct KeyTable {
    private(set) var slots: [UInt64]
    private(set) var count = 0
    private var shift: UInt64

    static let ordinalBits: UInt64 = 28
    static let maxOrdinal = Int(1 << ordinalBits) - 2
    private static let ordinalMask: UInt64 = (1 << ordinalBits) - 1

    init(capacity: Int = 1024) {
        var size = 1024
        while Double(size) * 0.7 < Double(capacity) { size <<= 1 }
        slots = [UInt64](repeating: 0, count: size)
        shift = UInt64(64 - size.trailingZeroBitCount)
    }

    @inline(__always) private static func tag(_ key: UInt64) -> UInt64 { key >> ordinalBits }

    @inline(__always) private func start(_ tag: UInt64) -> Int { Int(truncatingIfNeeded: (tag &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// Entries kept under one key: the most recent ones. A key that many entries
    /// share is an opening that recurs across stories (an author bio that starts a
    /// paragraph, a press-release preamble, a podcast's description in every
    /// episode) or a story copied many times. Kept whole, its probe run grew with
    /// every entry and each decision verified all of them: quadratic in the index
    /// (the pipeline benchmark's 200,000 items, 10,000 to a text, ran over 18 minutes
    /// before it was stopped). The most recent entries
    /// of a widely copied story are members of its cluster, which is all a decision needs.
    static let entriesPerKey = 32

    mutating func insert(_ key: UInt64, ordinal: Int) {
        precondition(ordinal <= Self.maxOrdinal, "dedup index: more than \(Self.maxOrdinal) entries")
        if Double(count + 1) > Double(slots.count) * 0.7 { grow() }
        let t = Self.tag(key)
        let slot = t << Self.ordinalBits | UInt64(ordinal + 1)
        let mask = slots.count - 1
        var i = start(t)
        var same = 0
        var oldest = 0
        var oldestOrdinal = UInt64.max
        while slots[i] != 0 {
            let s = slots[i]
            if s >> Self.ordinalBits == t {
                same += 1
                if s & Self.ordinalMask < oldestOrdinal {
                    oldestOrdinal = s & Self.ordinalMask
                    oldest = i
                }
            }
            i = (i + 1) & mask
        }
        if same >= Self.entriesPerKey {
            slots[oldest] = slot  // the newest takes the oldest's place
        } else {
            slots[i] = slot
            count += 1
        }
    }

    private mutating func place(_ slot: UInt64) {
        let mask = slots.count - 1
        var i = start(slot >> Self.ordinalBits)
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = slot
    }

    /// Reads where each key's probe run starts, all before any of them is needed.
    /// The loads do not depend on each other, so the processor overlaps their cache
    /// misses; at a million entries the table is 256 MiB and nearly every probe
    /// misses, one after the other when each lookup waits for its own.
    func touch(_ keys: some Sequence<UInt64>) {
        var x: UInt64 = 0
        for k in keys { x ^= slots[start(Self.tag(k))] }
        KeyTable.sink = x  // a store, so that the loads are not optimized away
    }

    /// Written, never read: two indexes touching at once would race on a value nobody uses.
    nonisolated(unsafe) private static var sink: UInt64 = 0

    /// Entry numbers filed under `key` (and, rarely, under a key with the same top bits).
    func lookup(_ key: UInt64, into out: inout [Int]) {
        let t = Self.tag(key)
        let mask = slots.count - 1
        var i = start(t)
        while true {
            let s = slots[i]
            if s == 0 { return }
            if s >> Self.ordinalBits == t { out.append(Int(s & Self.ordinalMask) - 1) }
            i = (i + 1) & mask
        }
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        shift -= 1
        for s in old where s != 0 { place(s) }
    }

    /// Keeps only the slots whose entry `renumber` maps to a new number (nil: drop it).
    mutating func rebuild(_ renumber: (Int) -> Int?) {
        let old = slots
        var kept: [UInt64] = []
        kept.reserveCapacity(count)
        for s in old where s != 0 {
            if let n = renumber(Int(s & Self.ordinalMask) - 1) { kept.append((s >> Self.ordinalBits) << Self.ordinalBits | UInt64(n + 1)) }
        }
        self = KeyTable(capacity: kept.count)
        for s in kept { place(s) }
        count = kept.count
    }

    var bytes: Int { slots.count * 8 }
}
