@testable import Content
import Testing

/// The paragraph tally's table: one word per slot, the hash's top 56 bits and a
/// count that stops at 255.
@Suite struct HashCountsTests {
    @Test func countsEachKeyThroughGrowthAndCollisions() {
        var t = HashCounts(expected: 4)
        var expected: [UInt64: Int] = [:]
        // Hashes with equal home slots (same bits 8...) and with top bits all zero.
        var hashes: [UInt64] = [0, 1, 0xFF, 0x100, 0x1_0000_0000_0100, 0xFFFF_FFFF_FFFF_FF00]
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<3_000 {
            x = x &* 6364136223846793005 &+ 1442695040888963407
            hashes.append(x)
        }
        for (i, h) in hashes.enumerated() {
            for _ in 0..<(i % 4 + 1) {
                let new = t.increment(h)
                #expect(new == (expected[HashCounts.key(h)] == nil), "\(h)")
                expected[HashCounts.key(h), default: 0] += 1
            }
        }
        for n in 1...5 {
            let want = Set(expected.filter { $0.value >= n }.keys)
            #expect(t.keys(countedAtLeast: n) == want, "counted at least \(n)")
        }
        // 0, 1 and 0xFF share their top 56 bits: one key, counted for all three.
        #expect(expected[0] == 1 + 2 + 3)
        #expect(t.keys(countedAtLeast: 6).contains(0))
    }

    @Test func countsStopAt255() {
        var t = HashCounts(expected: 1)
        for _ in 0..<1_000 { t.increment(0xABCD_0000) }
        t.increment(0x1234_5600)
        #expect(t.keys(countedAtLeast: 255) == [0xABCD_0000])
        #expect(t.keys(countedAtLeast: 1) == [0xABCD_0000, 0x1234_5600])
    }

    /// Two tables merged count as one table that counted both: counts add (and stop
    /// at 255), keys only one side had come over, through the growth merging makes.
    @Test func mergedTablesCountAsOne() {
        var a = HashCounts(expected: 2), b = HashCounts(expected: 2), both = HashCounts(expected: 2)
        var x: UInt64 = 0x2545_F491_4F6C_DD1D
        for i in 0..<2_000 {
            x = x &* 6364136223846793005 &+ 1442695040888963407
            // A third of the hashes on each side only, a third on both.
            for _ in 0..<(i % 3 + 1) {
                if i % 3 != 1 { a.increment(x) }
                if i % 3 != 2 { b.increment(x) }
            }
            for _ in 0..<(i % 3 + 1) {
                if i % 3 != 1 { both.increment(x) }
                if i % 3 != 2 { both.increment(x) }
            }
        }
        for _ in 0..<200 { a.increment(0x77_0000); b.increment(0x77_0000); both.increment(0x77_0000); both.increment(0x77_0000) }
        a.merge(b)
        for n in [1, 2, 3, 4, 6, 255] {
            #expect(a.keys(countedAtLeast: n) == both.keys(countedAtLeast: n), "counted at least \(n)")
        }
        #expect(a.keys(countedAtLeast: 255) == [0x77_0000])
    }
}
