import FeedspoolModel
import Foundation

/// Why the store failed, with what to do about it.
public enum StoreError: Error, Sendable, Hashable {
    /// The database cannot be opened or written (missing folder, permissions, full disk).
    case unavailable(path: String, reason: String)
    /// A query failed.
    case failed(operation: String, reason: String)
    case noSuchJob(Int64)

    public var message: String {
        switch self {
        case .unavailable(let p, let r): return "\(p): the store cannot be used: \(r)"
        case .failed(let op, let r): return "store: \(op) failed: \(r)"
        case .noSuchJob(let id): return "no job \(id)"
        }
    }
}

/// Which jobs `listJobs` returns.
public struct JobFilter: Sendable {
    public var states: Set<JobState>
    public var feedID: String?
    public var limit: Int

    public init(states: Set<JobState> = Set(JobState.allCases), feedID: String? = nil, limit: Int = 50) {
        self.states = states
        self.feedID = feedID
        self.limit = limit
    }
}

/// Everything feedspool keeps: the job queue, per-feed state, delivered items,
/// daemon heartbeats. One protocol, so that SQLite (one machine) and
/// PostgreSQL (several) can serve the same callers; every time is passed in,
/// so that lease and backoff logic is tested without sleeping.
public protocol Store: Sendable {
    // MARK: jobs

    /// Queues a job for `feedID` unless it already has a live one (queued,
    /// running or failed and waiting to retry); returns the job that is live for it.
    /// A manual job asked for while a scheduled one waits takes its place in line.
    func enqueue(feedID: String, url: String, kind: JobKind, runAt: Date, maxAttempts: Int, now: Date) throws(StoreError) -> FetchJob

    /// Takes up to `limit` jobs that are due (queued, or failed and past their
    /// retry time), manual first, then by due time, then id; they become
    /// `running` under a lease held by `owner` until `now + leaseFor`.
    func claimJobs(limit: Int, owner: String, leaseFor: TimeInterval, now: Date) throws(StoreError) -> [FetchJob]

    /// Extends the leases `owner` holds on these running jobs.
    func renewLeases(_ jobIDs: [Int64], owner: String, until: Date) throws(StoreError)

    /// The job ended well.
    func complete(_ jobID: Int64, owner: String, result: JobResult, now: Date) throws(StoreError)

    /// The attempt failed: the job waits until `retryAt`, or is `dead` when it had its last attempt.
    func fail(_ jobID: Int64, owner: String, error: String, result: JobResult?, retryAt: Date, now: Date) throws(StoreError) -> JobState

    /// Running jobs whose lease ran out (their worker died) go back to the queue,
    /// or die if that was their last attempt; returns how many.
    func rescueExpiredLeases(now: Date) throws(StoreError) -> Int

    /// Owners of running jobs (to find those on this machine whose process died).
    func leaseOwners() throws(StoreError) -> Set<String>

    /// Treats the leases of these owners as expired now (their process is known to be dead);
    /// returns how many jobs went back (or died on their last attempt).
    func expireLeases(of owners: Set<String>, now: Date) throws(StoreError) -> Int

    /// Running jobs of `owner` go back to the queue without counting the attempt (a graceful stop).
    func release(owner: String, now: Date) throws(StoreError) -> Int

    /// Failed or dead jobs back to queued, due now; returns those changed.
    func retry(_ jobIDs: [Int64], now: Date) throws(StoreError) -> [Int64]
    func retryAllDead(now: Date) throws(StoreError) -> [Int64]

    /// Queued (or waiting-to-retry) jobs become cancelled; returns those changed.
    func cancel(_ jobIDs: [Int64], now: Date) throws(StoreError) -> [Int64]

    func job(_ id: Int64) throws(StoreError) -> FetchJob?
    func attempts(ofJob id: Int64) throws(StoreError) -> [JobAttempt]
    /// Newest first.
    func listJobs(_ filter: JobFilter) throws(StoreError) -> [FetchJob]
    func queueStats(now: Date) throws(StoreError) -> QueueStats

    // MARK: feeds

    /// Makes the store's feeds match the config: new ones are due now, changed
    /// URLs reset the feed's validators, removed ones are kept (history) but no longer configured.
    func syncFeeds(_ feeds: [(id: String, url: String)], now: Date) throws(StoreError)
    /// Registers a feed that is not in the config (an ad-hoc `feedspool fetch URL`), if new.
    func ensureFeed(id: String, url: String, now: Date) throws(StoreError)
    func feedState(_ id: String) throws(StoreError) -> FeedState?
    /// Configured feeds, by id.
    func feedStates() throws(StoreError) -> [FeedState]
    /// When the next configured feed that is not gone is due (nil when there is none).
    func nextDueAt() throws(StoreError) -> Date?
    /// Configured, not gone, and due at `now`.
    func dueFeeds(now: Date) throws(StoreError) -> [FeedState]

    // MARK: items and delivery (DESIGN: Delivery without loss)

    /// What the store knows of these item keys of a feed.
    func knownItems(feedID: String, keys: [String]) throws(StoreError) -> [String: KnownItem]

    /// Step 1, one transaction: `plan` runs inside it, holding the lock that
    /// serializes dedup decisions (it decides through the session it is given),
    /// and returns the items about to be written, with their planned file names
    /// and decisions, and the paragraph hashes of the feed's new items
    /// (boilerplate history); all are recorded before the transaction commits.
    func recordIntents(feedID: String, now: Date, _ plan: (any DedupSession) throws -> DeliveryIntents) throws(StoreError)

    /// Step 3, one transaction: the items are delivered, the feed's state is
    /// saved, the job is done.
    func commitJob(_ jobID: Int64, owner: String, feed: FeedState, deliveredKeys: [String], result: JobResult, now: Date) throws(StoreError)

    /// A failed attempt, with the feed's state (error streak, next due time) in the same transaction.
    func failJob(_ jobID: Int64, owner: String, feed: FeedState, error: String, result: JobResult?, retryAt: Date, now: Date) throws(StoreError) -> JobState

    // MARK: dedup

    /// Which of these paragraph hashes are boilerplate: an earlier item of this feed
    /// had it, or two items of any one feed did (a reprinter's bio that a reprint
    /// of the reprint carries along).
    func knownParagraphs(feedID: String, hashes: [Int64]) throws(StoreError) -> Set<Int64>
    /// Forgets index entries and paragraph history first seen before `before` (the dedup window); returns entries removed.
    func pruneDedup(before: Date) throws(StoreError) -> Int
    func dedupStats() throws(StoreError) -> DedupStats
    /// The index entry of an item and its details, for `dedup explain`.
    func dedupEntry(itemID: String) throws(StoreError) -> (DedupEntry, DedupDetails)?
    /// The spool file name last planned for an item id (nil for none or a dropped copy).
    func fileName(itemID: String) throws(StoreError) -> String?

    // MARK: daemons

    func beat(host: String, pid: Int32, startedAt: Date, now: Date) throws(StoreError)
    /// Wake-ups when any process enqueues jobs (PostgreSQL `LISTEN`); nil where
    /// the store has none (SQLite: the daemon's 2 s maintenance picks them up).
    func listenForJobs() throws(StoreError) -> (any JobWakeups)?
    func endHeartbeat(host: String, pid: Int32) throws(StoreError)
}

/// What step 1 of delivery records.
public struct DeliveryIntents: Sendable {
    public var items: [KnownItem]
    /// Hashes of the new items' paragraphs, with how many items had each.
    public var paragraphs: [Int64: Int]

    public init(items: [KnownItem], paragraphs: [Int64: Int] = [:]) {
        self.items = items
        self.paragraphs = paragraphs
    }
}

extension Store {
    /// Step 1 without dedup decisions (tests, tools).
    public func recordIntents(feedID: String, _ items: [KnownItem], now: Date) throws(StoreError) {
        try recordIntents(feedID: feedID, now: now) { _ in DeliveryIntents(items: items) }
    }
}

/// A descriptor that becomes readable when jobs were enqueued elsewhere.
public protocol JobWakeups: AnyObject, Sendable {
    var fileDescriptor: Int32 { get }
    /// Reads what arrived: true when jobs were announced. Throws when the channel is lost.
    func drain() throws(StoreError) -> Bool
}
