import FeedspoolModel

/// What copy detection keeps of one story's text: its size, the keys under
/// which the index finds candidates, and a sample of its shingles from which
/// containment is estimated. Built from the cleaned `content_text` (no title:
/// reprints retitle).
public struct Fingerprint: Sendable, Hashable {
    /// Words in the text.
    public var words: Int
    /// Distinct shingles (runs of `Fingerprint.shingleWords` words).
    public var shingles: Int
    /// A hash of the whole normalized text (the `content-hash` key), when long enough to mean anything.
    public var textKey: UInt64?
    /// Keys that make candidates: LSH bands of the MinHash signature, and the
    /// openings of the paragraphs (so that an excerpt, or a copy that kept only some
    /// paragraphs, finds its full text, whose resemblance to it may be low).
    public var nearKeys: [UInt64]
    public var sample: ShingleSample

    /// Words per shingle.
    public static let shingleWords = 4
    /// MinHash signature length, and its LSH banding (bands × rows = length).
    public static let signatureLength = 64  // at most 64: `minHash` marks filled bins in one UInt64
    public static let bands = 16
    /// Paragraph openings indexed (the first this many paragraphs), and their length in words.
    public static let leadParagraphs = 5
    public static let leadWords = 8
    /// Texts shorter than this many words are never near copies nor content-hash copies
    /// (one-line items of one template must stay apart).
    public static let minimumWords = 25

    public init(text: String) {
        let split = Words.split(text)
        let all = split.words
        words = all.count

        var textHash: UInt64 = 0x5EED
        let shingleSet = Self.shingles(all, textHash: &textHash)
        textKey = all.count >= Self.minimumWords ? StableHash.combine(textHash, UInt64(KeyKind.text.rawValue)) : nil

        shingles = shingleSet.count
        sample = ShingleSample(shingles: shingleSet)

        var keys: [UInt64] = []
        if !shingleSet.isEmpty {
            keys.append(contentsOf: Self.bandKeys(Self.minHash(shingleSet)))
        }
        var leads = 0
        var start = 0
        for end in split.paragraphEnds {
            defer { start = end }
            guard end - start >= Self.leadWords, leads < Self.leadParagraphs else { continue }
            var h = UInt64(KeyKind.lead.rawValue)
            for w in all[start..<start + Self.leadWords] { h = StableHash.combine(h, w) }
            if !keys.contains(h) { keys.append(h) }
            leads += 1
        }
        nearKeys = keys
    }

    /// Every shingle of a text (for exact comparisons).
    static func shingleSet(_ text: String) -> Set<UInt64> { Set(shingles(Words.split(text).words)) }

    /// The distinct shingles of a word sequence, in first-seen order; a text shorter
    /// than one shingle is one shingle.
    static func shingles(_ all: [UInt64]) -> [UInt64] {
        var unused: UInt64 = 0
        return shingles(all, textHash: &unused)
    }

    /// The same, and the whole text's hash folded into `textHash` word by word in
    /// the same loop (that chain of dependent multiplies then overlaps the
    /// shingles' independent ones instead of running on its own).
    static func shingles(_ all: [UInt64], textHash: inout UInt64) -> [UInt64] {
        let k = Self.shingleWords
        guard all.count >= k else {
            for w in all { textHash = StableHash.combine(textHash, w) }
            return all.isEmpty ? [] : [all.reduce(0x51, StableHash.combine)]
        }
        let n = all.count - k + 1
        var text = textHash
        // An open-addressing set of the shingles seen (they are already mixed, so their
        // low bits index it directly; 0 marks an empty slot and is kept aside), written
        // through pointers: arrays checked their uniqueness on every write (about a tenth
        // of this function's instructions under callgrind).
        var capacity = 16
        while capacity < n + n / 2 { capacity <<= 1 }  // at most two thirds full
        let distinct = [UInt64](unsafeUninitializedCapacity: n) { out, count in
            count = withUnsafeTemporaryAllocation(of: UInt64.self, capacity: capacity) { table in
                table.initialize(repeating: 0)
                return all.withUnsafeBufferPointer { distinctShingles($0, into: out, table: table, textHash: &text) }
            }
        }
        textHash = text
        return distinct
    }

    /// The loop of `shingles(_:textHash:)`, on pointers and locals only. Returns how many it wrote to `out`.
    private static func distinctShingles(
        _ all: UnsafeBufferPointer<UInt64>, into out: UnsafeMutableBufferPointer<UInt64>, table: UnsafeMutableBufferPointer<UInt64>,
        textHash: inout UInt64
    ) -> Int {
        let k = shingleWords
        let mask = table.count - 1
        var text = textHash
        var found = 0
        var sawZero = false
        for j in 0..<(k - 1) { text = StableHash.combine(text, all[j]) }
        for end in (k - 1)..<all.count {  // the shingle of the words up to `end`
            text = StableHash.combine(text, all[end])
            var h = all[end - k + 1]
            for j in (end - k + 2)...end { h = StableHash.combine(h, all[j]) }
            if h == 0 {
                if !sawZero {
                    out[found] = 0
                    found += 1
                }
                sawZero = true
                continue
            }
            var i = Int(truncatingIfNeeded: h) & mask
            while table[i] != 0 && table[i] != h { i = (i + 1) & mask }
            if table[i] == 0 {
                table[i] = h
                out[found] = h
                found += 1
            }
        }
        textHash = text
        return found
    }

    /// Sorts `v` and drops repeats.
    static func sortUnique(_ v: inout [UInt32]) {
        guard v.count > 1 else { return }
        if v.count <= 512 { bucketSort(&v) } else { v.sort() }
        var w = 1
        for r in 1..<v.count where v[r] != v[w - 1] {
            v[w] = v[r]
            w += 1
        }
        v.removeLast(v.count - w)
    }

    /// Sample hashes are spread evenly over their range, so for a sample of usual
    /// size (a few dozen) one counting pass on their top six bits leaves each within
    /// a bucket of one or two, and an insertion sort finishes in about one pass (the
    /// library's merge sort was a twelfth of a fingerprint's time). Only for short
    /// arrays: a long one's buckets would be long, and insertion sort quadratic.
    private static func bucketSort(_ v: inout [UInt32]) {
        let n = v.count
        let shift = UInt32(Swift.max(0, (32 - v.max()!.leadingZeroBitCount) - 6))
        v = [UInt32](unsafeUninitializedCapacity: n) { out, count in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 65) { starts in
                starts.initialize(repeating: 0)
                for x in v { starts[Int(x >> shift) + 1] += 1 }
                for b in 1..<65 { starts[b] += starts[b - 1] }
                for x in v {
                    let b = Int(x >> shift)
                    out[starts[b]] = x
                    starts[b] += 1
                }
            }
            for i in 1..<n {
                let x = out[i]
                var j = i
                while j > 0 && out[j - 1] > x {
                    out[j] = out[j - 1]
                    j -= 1
                }
                out[j] = x
            }
            count = n
        }
    }

    /// A MinHash signature by one-permutation hashing: each shingle is hashed once
    /// into one of the signature's bins, which keeps its smallest value; an empty
    /// bin (a short text) borrows from the next filled bin to its right, offset by
    /// the distance (densification by rotation), so that equal sets give equal
    /// signatures and similar sets agree in about their Jaccard share of bins.
    static func minHash(_ shingles: [UInt64]) -> [UInt32] {
        let k = signatureLength
        var sig = [UInt32](repeating: .max, count: k)
        assert(k <= 64, "minHash marks filled bins in one UInt64")
        var filled: UInt64 = 0  // bit i: bin i has a value
        let shift = UInt64(64 - k.trailingZeroBitCount)
        sig.withUnsafeMutableBufferPointer { sig in
            for s in shingles {
                let h = StableHash.mix(s ^ 0x0F0E_ED5F_007E_ED00)
                let bin = Int(truncatingIfNeeded: h >> shift)
                let v = UInt32(truncatingIfNeeded: h)
                sig[bin] = Swift.min(sig[bin], v)  // no branch: which bin takes a value is a coin toss
                filled |= 1 << UInt64(bin)
            }
            guard filled != 0 else { return }
            for i in 0..<k where filled & (1 << UInt64(i)) == 0 {
                var j = (i + 1) & (k - 1), distance: UInt32 = 1
                while filled & (1 << UInt64(j)) == 0 {
                    j = (j + 1) & (k - 1)
                    distance += 1
                }
                sig[i] = sig[j] &+ distance &* 0x9E37_79B9
            }
        }
        return sig
    }

    static func bandKeys(_ sig: [UInt32]) -> [UInt64] {
        let rows = signatureLength / bands
        return (0..<bands).map { b in
            var h = StableHash.mix(UInt64(KeyKind.band.rawValue) << 56 | UInt64(b))
            for r in 0..<rows { h = StableHash.combine(h, UInt64(sig[b * rows + r])) }
            return h
        }
    }
}

/// Shingles of a text, sampled by hash value so that two samples compare like
/// the sets they come from: a text with few shingles keeps all of them, a
/// longer one keeps those whose hash falls in the first quarter of the range.
/// Containment estimated from two such samples is unbiased, and exact when both are whole.
public struct ShingleSample: Sendable, Hashable {
    /// Sorted 32-bit shingle hashes.
    public var hashes: [UInt32]
    /// Whether `hashes` holds every shingle (short texts) or only the sampled quarter.
    public var isWhole: Bool

    /// Texts with fewer shingles than this keep them all.
    public static let wholeBelow = 128

    public init(hashes: [UInt32], isWhole: Bool) {
        self.hashes = hashes
        self.isWhole = isWhole
    }

    init(shingles: [UInt64]) {
        // The shingles are distinct as 64-bit values; their top halves may still repeat.
        var top: [UInt32] = []
        if shingles.count < Self.wholeBelow {
            top.reserveCapacity(shingles.count)
            for s in shingles { top.append(UInt32(truncatingIfNeeded: s >> 32)) }
            Fingerprint.sortUnique(&top)
            isWhole = top.count < Self.wholeBelow
        } else {
            top.reserveCapacity(shingles.count / 3)
            for s in shingles {
                let h = UInt32(truncatingIfNeeded: s >> 32)
                if Self.sampled(h) { top.append(h) }
            }
            Fingerprint.sortUnique(&top)
            isWhole = false
        }
        hashes = top
    }

    @inline(__always) static func sampled(_ h: UInt32) -> Bool { h < 1 << 30 }

    /// The sampled quarter, whatever this sample holds.
    var quarter: [UInt32] { isWhole ? hashes.filter(Self.sampled) : hashes }

    /// Estimated share of the smaller text's shingles found in the larger one,
    /// and of the union (resemblance). `nil` when the samples are too thin to say.
    public static func compare(_ a: ShingleSample, _ b: ShingleSample) -> (containment: Double, resemblance: Double)? {
        let (x, y) = a.isWhole && b.isWhole ? (a.hashes, b.hashes) : (a.quarter, b.quarter)
        guard !x.isEmpty, !y.isEmpty else { return nil }
        var i = 0, j = 0, common = 0
        while i < x.count, j < y.count {
            if x[i] == y[j] {
                common += 1
                i += 1
                j += 1
            } else if x[i] < y[j] {
                i += 1
            } else {
                j += 1
            }
        }
        let smaller = min(x.count, y.count)
        return (Double(common) / Double(smaller), Double(common) / Double(x.count + y.count - common))
    }
}
