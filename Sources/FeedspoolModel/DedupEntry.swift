import Foundation

/// One item in the dedup index (DESIGN: Dedup): what later items are compared
/// with. The index keeps no texts, only keys and a shingle sample.
public struct DedupEntry: Sendable, Hashable {
    /// Order of insertion, assigned by the store; a process catches up on
    /// entries other processes added by asking for those after its last `seq`.
    public var seq: Int64
    public var itemID: String
    public var feedID: String
    /// When feedspool first saw the item (the window counts from here, SPEC section 5).
    public var firstSeen: Date
    public var record: DedupRecord
    /// Whether a spool file was written for it (a dropped copy has none).
    public var hasFile: Bool
    /// Words in its cleaned text.
    public var words: Int
    /// Every key the index files it under (exact and near); 64-bit stable hashes.
    public var keys: [UInt64]
    /// Other clusters this item's decision showed to be the same story as `record.cluster`.
    public var joins: [String]
    /// The outlet its `source` names (kept for dropped copies, which have no file to say it).
    public var sourceName: String?

    public init(
        seq: Int64 = 0, itemID: String, feedID: String, firstSeen: Date, record: DedupRecord, hasFile: Bool, words: Int, keys: [UInt64],
        joins: [String] = [], sourceName: String? = nil
    ) {
        self.joins = joins
        self.sourceName = sourceName
        self.seq = seq
        self.itemID = itemID
        self.feedID = feedID
        self.firstSeen = firstSeen
        self.record = record
        self.hasFile = hasFile
        self.words = words
        self.keys = keys
    }
}

/// What verifying a candidate needs, fetched only for candidates.
public struct DedupDetails: Sendable, Hashable {
    /// Exact keys (guid, URL, text hash), to confirm a key match.
    public var exactKeys: [UInt64]
    /// Sorted 32-bit shingle hashes (see `ShingleSample` in Dedup).
    public var sample: [UInt32]
    public var sampleIsWhole: Bool

    public init(exactKeys: [UInt64], sample: [UInt32], sampleIsWhole: Bool) {
        self.exactKeys = exactKeys
        self.sample = sample
        self.sampleIsWhole = sampleIsWhole
    }
}

/// The store's side of one serialized round of dedup decisions: it runs inside
/// the transaction that records the delivery intents, holding the store's
/// write lock (SQLite) or an advisory lock (PostgreSQL), so that two copies
/// processed at once, in one process or several, never both become originals.
public protocol DedupSession {
    /// Up to `limit` entries added after `seq` by anyone, first seen at or after `since`, in `seq` order.
    func entries(after seq: Int64, since: Date, limit: Int) throws -> [DedupEntry]
    func details(_ seqs: [Int64]) throws -> [Int64: DedupDetails]
    /// Adds an entry; returns its `seq`.
    func insert(_ entry: DedupEntry, details: DedupDetails) throws -> Int64
}

/// Copies caught, for `feedspool dedup stats`.
public struct DedupStats: Sendable, Hashable, Codable {
    public struct FeedRate: Sendable, Hashable, Codable {
        public var feedID: String
        public var items: Int
        public var copies: Int
        public init(feedID: String, items: Int, copies: Int) {
            self.feedID = feedID
            self.items = items
            self.copies = copies
        }
    }

    public var entries: Int
    public var oldest: Date?
    public var indexBytes: Int
    public var copiesByMethod: [String: Int]
    public var feeds: [FeedRate]
    /// Items per outlet their `source` names (the origins of syndicated stories).
    public var sources: [String: Int]

    public init(entries: Int, oldest: Date?, indexBytes: Int, copiesByMethod: [String: Int], feeds: [FeedRate], sources: [String: Int] = [:]) {
        self.sources = sources
        self.entries = entries
        self.oldest = oldest
        self.indexBytes = indexBytes
        self.copiesByMethod = copiesByMethod
        self.feeds = feeds
    }
}
