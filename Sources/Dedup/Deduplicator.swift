import FeedspoolModel
import Foundation
import Synchronization

/// How copies are judged (config.json's `dedup`).
public struct DedupPolicy: Sendable, Hashable {
    /// Estimated containment of the shorter text in the longer at or above which
    /// two texts are copies.
    public var threshold: Double
    /// How long an item can be the original of later copies, counted from when it was first seen.
    public var window: TimeInterval
    /// Copies get no spool file (`drop`) or a marked one (`mark`).
    public var dropCopies: Bool

    public init(threshold: Double = 0.8, window: TimeInterval = 14 * 86400, dropCopies: Bool = true) {
        self.threshold = threshold
        self.window = window
        self.dropCopies = dropCopies
    }
}

/// A new item waiting for its decision.
public struct DedupCandidate: Sendable {
    public var itemID: String
    public var feedID: String
    public var fingerprint: Fingerprint
    public var exactKeys: [ExactKeys.Key]
    /// The outlet the item's `source` names, recorded with its entry.
    public var sourceName: String?

    public init(itemID: String, feedID: String, guid: String?, url: String?, text: String, sourceName: String? = nil) {
        self.sourceName = sourceName
        self.itemID = itemID
        self.feedID = feedID
        fingerprint = Fingerprint(text: text)
        exactKeys = ExactKeys.of(guid: guid, url: url, fingerprint: fingerprint)
    }
}

/// The decision for one item.
public struct DedupDecision: Sendable, Hashable {
    public var record: DedupRecord
    /// False for a copy under `drop`: the store records it, the spool gets no file.
    public var writesFile: Bool
    /// Why, in words (for logs and `dedup explain`): written when asked, as most
    /// decisions are never shown.
    public var reason: String { why.description }
    var why: Why
    /// Other clusters this copy showed to be the same story (they merge into `record.cluster`).
    public var joins: [String]

    /// What a decision rests on.
    enum Why: Sendable, Hashable {
        case noSharedKey
        /// Near candidates, none containing enough of the shorter text.
        case belowThreshold(candidates: Int, closest: Double, threshold: Double)
        case nearCopy(containment: Double, threshold: Double)
        case sameKey(DedupRecord.Method)

        var description: String {
            switch self {
            case .noSharedKey:
                return "no earlier item shares a key"
            case .belowThreshold(let candidates, let closest, let threshold):
                return "\(candidates) near candidate(s); the closest contains \(Deduplicator.percent(closest)) of the shorter text, "
                    + "below the threshold \(Deduplicator.percent(threshold))"
            case .nearCopy(let containment, let threshold):
                return "contains \(Deduplicator.percent(containment)) of the shorter text (threshold \(Deduplicator.percent(threshold)))"
            case .sameKey(let method):
                return "same \(Deduplicator.describe(method))"
            }
        }
    }
}

/// Decides, for each new item, whether it copies an item seen within the
/// window (DESIGN: Dedup). Keeps an in-memory index of every entry's keys,
/// which is a cache of the store's `dedup_entry` rows: each round first
/// catches up on rows other processes added, and runs inside the store's
/// serialized session, so decisions are serialized across threads and processes.
public final class Deduplicator: Sendable {
    public let policy: DedupPolicy
    private let state = Mutex(MemoryIndex())

    public init(policy: DedupPolicy) {
        self.policy = policy
    }

    /// Decides `items` in order (a copy later in the list can match one earlier),
    /// adding each to the index through `session`.
    public func decide(_ items: [DedupCandidate], session: any DedupSession, now: Date) throws -> [DedupDecision] {
        try state.withLock { index in
            do {
                return try decide(items, index: &index, session: session, now: now)
            } catch {
                index = MemoryIndex()  // the transaction will not commit: reload from the store next time
                throw error
            }
        }
    }

    /// Forgets the in-memory index (after a failed commit); the next round reloads it from the store.
    public func invalidate() {
        state.withLock { $0 = MemoryIndex() }
    }

    /// Entries and bytes the in-memory index holds now (for stats and benchmarks).
    public var memoryFootprint: (entries: Int, bytes: Int) {
        state.withLock { ($0.live, $0.bytes) }
    }

    private func decide(_ items: [DedupCandidate], index: inout MemoryIndex, session: any DedupSession, now: Date) throws -> [DedupDecision] {
        let since = now.addingTimeInterval(-policy.window)
        let horizon = MemoryIndex.seconds(since)
        // Catch up in pages, so that loading a large index never holds it twice.
        while true {
            let page = try session.entries(after: index.lastSeq, since: since, limit: 10_000)
            for e in page { index.add(e) }
            if page.count < 10_000 { break }
        }
        index.compactIfStale(horizon: horizon)
        var decisions: [DedupDecision] = []
        decisions.reserveCapacity(items.count)
        for item in items {
            let me = ItemRef(item.itemID)
            let decision = try decideOne(item, me: me, index: index, session: session, horizon: horizon)
            let fp = item.fingerprint
            let entry = DedupEntry(
                itemID: item.itemID, feedID: item.feedID, firstSeen: now, record: decision.record, hasFile: decision.writesFile,
                words: fp.words, keys: item.exactKeys.map(\.value) + fp.nearKeys, joins: decision.joins,
                sourceName: item.sourceName)
            var stored = entry
            stored.seq = try session.insert(
                entry, details: DedupDetails(exactKeys: item.exactKeys.map(\.value), sample: fp.sample.hashes, sampleIsWhole: fp.sample.isWhole))
            index.add(stored)
            decisions.append(decision)
        }
        return decisions
    }

    private func decideOne(_ item: DedupCandidate, me: ItemRef, index: MemoryIndex, session: any DedupSession, horizon: UInt32) throws
        -> DedupDecision
    {
        let fp = item.fingerprint
        index.table.touch(item.exactKeys.lazy.map(\.value))
        if fp.words >= Fingerprint.minimumWords { index.table.touch(fp.nearKeys) }
        var exact: [(ExactKeys.Key, Int)] = []
        var scratch: [Int] = []
        for key in item.exactKeys {
            scratch.removeAll(keepingCapacity: true)
            index.table.lookup(key.value, into: &scratch)
            for o in scratch where index.isLive(o, horizon: horizon) && index.entries[o].item != me { exact.append((key, o)) }
        }
        var near: [Int] = []  // sorted and unique below
        if fp.words >= Fingerprint.minimumWords {
            for key in fp.nearKeys {
                scratch.removeAll(keepingCapacity: true)
                index.table.lookup(key, into: &scratch)
                for o in scratch where index.isLive(o, horizon: horizon) && index.entries[o].item != me
                    && Int(index.entries[o].words) >= Fingerprint.minimumWords
                {
                    near.append(o)
                }
            }
        }
        // Most items share no key with anything: decided without building a set.
        guard !exact.isEmpty || !near.isEmpty else { return original(me, why: .noSharedKey) }
        near = Self.sortedUnique(near)
        let ordinals = Self.sortedUnique(near + exact.map(\.1))
        let details = try session.details(ordinals.map { index.entries[$0].seq })

        // Every verified match: exact keys (confirmed on the full 64-bit key), and
        // near copies that contain enough of the shorter text.
        var matches: [Match] = []
        for (key, o) in exact where details[index.entries[o].seq]?.exactKeys.contains(key.value) == true {
            matches.append(Match(ordinal: o, method: key.method, similarity: 1))
        }
        var closest = 0.0
        for o in near {
            guard let d = details[index.entries[o].seq],
                let c = ShingleSample.compare(fp.sample, ShingleSample(hashes: d.sample, isWhole: d.sampleIsWhole))
            else { continue }
            closest = max(closest, c.containment)
            if c.containment >= policy.threshold {
                matches.append(Match(ordinal: o, method: .nearDuplicate, similarity: (c.containment * 1000).rounded() / 1000))
            }
        }
        guard !matches.isEmpty else {
            return original(me, why: .belowThreshold(candidates: near.count, closest: closest, threshold: policy.threshold))
        }
        // What it copies: an exact key first (guid, URL, text), else the closest near copy; earliest on ties.
        let rank: (Match) -> (Int, Double, Int64) = { m in
            ([DedupRecord.Method.guid, .url, .contentHash, .nearDuplicate].firstIndex(of: m.method)!, -m.similarity, index.entries[m.ordinal].seq)
        }
        // Its story: the cluster of the earliest match. When the matches span several
        // clusters (an original arriving after two partial copies that did not match
        // each other), this item joins them, and later items see one cluster; its
        // `duplicate_of` then names a member of a joined cluster, so that a consumer
        // reading the files sees the join too (the earliest cluster is in `cluster`).
        let earliest = matches.min { index.entries[$0.ordinal].seq < index.entries[$1.ordinal].seq }!
        let cluster = index.root(index.entries[earliest.ordinal].cluster)
        let joined = Set(matches.map { index.root(index.entries[$0.ordinal].cluster) }).subtracting([cluster])
        let bridging = matches.filter { joined.contains(index.root(index.entries[$0.ordinal].cluster)) }
        let primary = (bridging.isEmpty ? matches : bridging).min { rank($0) < rank($1) }!
        let e = index.entries[primary.ordinal]
        let why: DedupDecision.Why =
            primary.method == .nearDuplicate ? .nearCopy(containment: primary.similarity, threshold: policy.threshold) : .sameKey(primary.method)
        // `duplicate_of` names a delivered item: the match if it has a file, else its cluster's original.
        let target = e.hasFile ? e.item : cluster
        return DedupDecision(
            record: DedupRecord(
                status: .duplicate, cluster: cluster.hex, duplicateOf: target.hex, similarity: primary.similarity, method: primary.method),
            writesFile: !policy.dropCopies, why: why, joins: joined.map(\.hex).sorted())
    }

    private struct Match {
        var ordinal: Int
        var method: DedupRecord.Method
        var similarity: Double
    }

    /// The values in ascending order without repeats (candidates are few).
    static func sortedUnique(_ values: [Int]) -> [Int] {
        var v = values.sorted()
        var w = 0
        for r in v.indices where r == 0 || v[r] != v[w - 1] {
            v[w] = v[r]
            w += 1
        }
        v.removeLast(v.count - w)
        return v
    }

    static func percent(_ x: Double) -> String { "\(Int((x * 100).rounded()))%" }

    private func original(_ me: ItemRef, why: DedupDecision.Why) -> DedupDecision {
        DedupDecision(record: .original(me.hex), writesFile: true, why: why, joins: [])
    }

    static func describe(_ m: DedupRecord.Method) -> String {
        switch m {
        case .guid: return "guid"
        case .url: return "canonical URL"
        case .contentHash: return "normalized text"
        case .nearDuplicate: return "near-duplicate text"
        }
    }
}

/// A 32-hex-digit item id in 16 bytes.
struct ItemRef: Hashable, Sendable {
    var hi: UInt64
    var lo: UInt64

    init(_ hex: String) {
        var hex = hex
        // Digits read straight from the UTF-8 bytes: one of these per entry loaded and per decision.
        if let parsed = hex.withUTF8({ Self.parse($0) }) {
            (hi, lo) = parsed
        } else {  // not one of our ids: keep a stable hash of it (never expected)
            hi = StableHash.string(hex, tag: 0xFE)
            lo = StableHash.string(hex, tag: 0xFF)
        }
    }

    private static func parse(_ u: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64)? {
        guard u.count == 32 else { return nil }
        var halves: (UInt64, UInt64) = (0, 0)
        for half in 0..<2 {
            var v: UInt64 = 0
            for k in (half * 16)..<(half * 16 + 16) {
                let c = u[k]
                let d: UInt8
                switch c {
                case 0x30...0x39: d = c &- 0x30
                case 0x61...0x66: d = c &- 0x57
                case 0x41...0x46: d = c &- 0x37
                default: return nil
                }
                v = v << 4 | UInt64(d)
            }
            if half == 0 { halves.0 = v } else { halves.1 = v }
        }
        return halves
    }

    /// 32 lowercase hex digits.
    var hex: String {
        String(unsafeUninitializedCapacity: 32) { out in
            let digits: StaticString = "0123456789abcdef"
            digits.withUTF8Buffer { d in
                for k in 0..<16 {
                    out[k] = d[Int(hi >> UInt64(60 - 4 * k) & 0xF)]
                    out[16 + k] = d[Int(lo >> UInt64(60 - 4 * k) & 0xF)]
                }
            }
            return 32
        }
    }
}

/// The in-memory side of the index: entry metadata and the key table.
struct MemoryIndex: Sendable {
    struct Entry: Sendable {
        var seq: Int64
        var item: ItemRef
        var cluster: ItemRef
        /// Unix seconds; 0 for an entry that no longer counts.
        var firstSeen: UInt32
        var words: UInt32
        var hasFile: Bool
    }

    var table = KeyTable()
    var entries: [Entry] = []
    /// Clusters merged into another (by a copy that matched both); follow to the root.
    var merged: [ItemRef: ItemRef] = [:]
    var lastSeq: Int64 = 0
    var live = 0

    static func seconds(_ d: Date) -> UInt32 { UInt32(clamping: Int64(max(1, d.timeIntervalSince1970))) }

    @inline(__always) func isLive(_ o: Int, horizon: UInt32) -> Bool { entries[o].firstSeen >= horizon }

    func root(_ c: ItemRef) -> ItemRef {
        var c = c
        while let next = merged[c] { c = next }
        return c
    }

    mutating func add(_ e: DedupEntry) {
        let ordinal = entries.count
        let cluster = ItemRef(e.record.cluster)
        entries.append(
            Entry(
                seq: e.seq, item: ItemRef(e.itemID), cluster: cluster, firstSeen: Self.seconds(e.firstSeen),
                words: UInt32(clamping: e.words), hasFile: e.hasFile))
        // Each key once (an entry's keys are few: no Set, whose hashing cost more than this).
        var keys: [UInt64] = []
        keys.reserveCapacity(e.keys.count)
        for k in e.keys where !keys.contains(k) { keys.append(k) }
        table.touch(keys)
        for k in keys { table.insert(k, ordinal: ordinal) }
        let into = root(cluster)
        for j in e.joins {
            let r = root(ItemRef(j))
            if r != into { merged[r] = into }
        }
        lastSeq = max(lastSeq, e.seq)
        live += 1
    }

    /// When the stale entries were last counted (a count walks every entry: at most hourly).
    var countedAt: UInt32 = 0

    /// Drops entries older than the window once they are most of the table.
    mutating func compactIfStale(horizon: UInt32) {
        guard horizon >= countedAt &+ 3600 || countedAt == 0 else { return }
        countedAt = horizon
        let stale = entries.reduce(0) { $0 + ($1.firstSeen < horizon ? 1 : 0) }
        live = entries.count - stale
        guard stale > 1024, stale * 2 > entries.count else { return }
        var renumber = [Int](repeating: -1, count: entries.count)
        var kept: [Entry] = []
        kept.reserveCapacity(live)
        for (o, e) in entries.enumerated() where e.firstSeen >= horizon {
            renumber[o] = kept.count
            kept.append(e)
        }
        entries = kept
        table.rebuild { renumber[$0] >= 0 ? renumber[$0] : nil }
    }

    var bytes: Int { table.bytes + entries.capacity * MemoryLayout<Entry>.stride }
}
