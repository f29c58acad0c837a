import FeedspoolModel

/// Two items compared the way the deduplicator compares a new item with a
/// candidate, with the exact figures beside the estimated ones
/// (`feedspool dedup explain`).
public struct PairComparison: Sendable {
    public struct Side: Sendable {
        public var words: Int
        public var shingles: Int
        public var guidIsGlobal: Bool?
        public var canonicalURL: String?
    }

    public var a: Side
    public var b: Side
    /// Exact keys both share (guid, url, content-hash).
    public var sharedKeys: [DedupRecord.Method]
    /// Containment of the shorter text in the longer, and resemblance, from the shingle samples the index keeps.
    public var estimated: (containment: Double, resemblance: Double)?
    /// The same from every shingle of both texts.
    public var exact: (containment: Double, resemblance: Double)?
    /// Whether the index would make them candidates (a shared band or paragraph-opening key).
    public var candidates: Bool
    public var isCopy: Bool
    public var method: DedupRecord.Method?
    public var reason: String

    public init(_ x: DedupCandidate, text xText: String, guid xGuid: String?, url xURL: String?,
                _ y: DedupCandidate, text yText: String, guid yGuid: String?, url yURL: String?, policy: DedupPolicy) {
        func side(_ c: DedupCandidate, _ guid: String?, _ url: String?) -> Side {
            Side(words: c.fingerprint.words, shingles: c.fingerprint.shingles, guidIsGlobal: guid.map(ExactKeys.isGlobal(guid:)),
                 canonicalURL: url.flatMap(CanonicalURL.canonical))
        }
        a = side(x, xGuid, xURL)
        b = side(y, yGuid, yURL)
        let yKeys = Set(y.exactKeys)
        sharedKeys = x.exactKeys.filter { yKeys.contains($0) }.map(\.method)
        estimated = ShingleSample.compare(x.fingerprint.sample, y.fingerprint.sample)
        exact = Self.exactComparison(xText, yText)
        candidates = !Set(x.fingerprint.nearKeys).isDisjoint(with: y.fingerprint.nearKeys)
        let long = min(x.fingerprint.words, y.fingerprint.words) >= Fingerprint.minimumWords
        if let m = [DedupRecord.Method.guid, .url, .contentHash].first(where: sharedKeys.contains) {
            isCopy = true
            method = m
            reason = "same \(Deduplicator.describe(m))"
        } else if !long {
            isCopy = false
            reason = "a text shorter than \(Fingerprint.minimumWords) words is never a near copy"
        } else if !candidates {
            isCopy = false
            reason = "no shared LSH band or paragraph opening: the index would not even compare them"
        } else if let e = estimated, e.containment >= policy.threshold {
            isCopy = true
            method = .nearDuplicate
            reason = "the shorter text is \(Deduplicator.percent(e.containment)) contained in the longer (threshold \(Deduplicator.percent(policy.threshold)))"
        } else {
            isCopy = false
            reason = "the shorter text is only \(Deduplicator.percent(estimated?.containment ?? 0)) contained in the longer (threshold \(Deduplicator.percent(policy.threshold)))"
        }
    }

    static func exactComparison(_ x: String, _ y: String) -> (containment: Double, resemblance: Double)? {
        let a = Fingerprint.shingleSet(x), b = Fingerprint.shingleSet(y)
        guard !a.isEmpty, !b.isEmpty else { return nil }
        let common = a.intersection(b).count
        return (Double(common) / Double(min(a.count, b.count)), Double(common) / Double(a.union(b).count))
    }
}
