import Foundation

/// Where a job is in its life (DESIGN: The job queue).
///
/// `queued → running → done`, or `running → failed` (to be retried at
/// `runAt`) `→ running → … → dead` after the last attempt; `cancelled` by hand.
public enum JobState: String, Sendable, Codable, CaseIterable {
    case queued, running, done, failed, dead, cancelled

    /// A job in one of these states keeps its feed from getting another.
    public var isLive: Bool { self == .queued || self == .running || self == .failed }
}

/// Why a job exists. Manual jobs (`feedspool fetch`) go before scheduled ones.
public enum JobKind: String, Sendable, Codable {
    case manual, scheduled
}

/// One fetch of one feed, as the queue holds it.
public struct FetchJob: Sendable, Hashable, Codable {
    public var id: Int64
    public var feedID: String
    public var url: String
    public var kind: JobKind
    public var state: JobState
    /// Not before this time (the due time, or the retry time after a failure).
    public var runAt: Date
    /// Attempts started so far.
    public var attempts: Int
    public var maxAttempts: Int
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// Who holds the lease and until when, while running.
    public var leaseOwner: String?
    public var leaseUntil: Date?
    public var lastError: String?
    public var result: JobResult?

    public init(
        id: Int64, feedID: String, url: String, kind: JobKind, state: JobState, runAt: Date, attempts: Int,
        maxAttempts: Int, createdAt: Date, startedAt: Date? = nil, finishedAt: Date? = nil, leaseOwner: String? = nil,
        leaseUntil: Date? = nil, lastError: String? = nil, result: JobResult? = nil
    ) {
        self.id = id
        self.feedID = feedID
        self.url = url
        self.kind = kind
        self.state = state
        self.runAt = runAt
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.leaseOwner = leaseOwner
        self.leaseUntil = leaseUntil
        self.lastError = lastError
        self.result = result
    }
}

/// What a finished attempt did, for `queue show` and the metrics.
public struct JobResult: Sendable, Hashable, Codable {
    public var httpStatus: Int?
    public var bytes: Int
    public var itemsSeen: Int
    /// Files delivered into the spool.
    public var itemsNew: Int
    public var seconds: Double
    /// Syndicated copies recognized among the new items, by method (`near-duplicate`, …); nil when none.
    public var copies: [String: Int]?

    public init(httpStatus: Int? = nil, bytes: Int = 0, itemsSeen: Int = 0, itemsNew: Int = 0, seconds: Double = 0, copies: [String: Int]? = nil) {
        self.copies = copies
        self.httpStatus = httpStatus
        self.bytes = bytes
        self.itemsSeen = itemsSeen
        self.itemsNew = itemsNew
        self.seconds = seconds
    }
}

/// One attempt of a job, kept for `queue show`.
public struct JobAttempt: Sendable, Hashable, Codable {
    public var number: Int
    public var owner: String
    public var startedAt: Date
    public var finishedAt: Date?
    /// `done`, `failed`, or `expired` when the lease ran out (a crashed worker).
    public var outcome: String?
    public var error: String?

    public init(number: Int, owner: String, startedAt: Date, finishedAt: Date? = nil, outcome: String? = nil, error: String? = nil) {
        self.number = number
        self.owner = owner
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.error = error
    }
}

/// Counts for `feedspool queue stats` (SPEC section 2).
public struct QueueStats: Sendable, Hashable {
    public var counts: [JobState: Int]
    public var oldestQueuedAge: TimeInterval?
    public var jobsPerMinuteLastHour: Double
    public var daemons: [DaemonHeartbeat]

    public init(counts: [JobState: Int], oldestQueuedAge: TimeInterval?, jobsPerMinuteLastHour: Double, daemons: [DaemonHeartbeat]) {
        self.counts = counts
        self.oldestQueuedAge = oldestQueuedAge
        self.jobsPerMinuteLastHour = jobsPerMinuteLastHour
        self.daemons = daemons
    }
}

/// A daemon's last sign of life.
public struct DaemonHeartbeat: Sendable, Hashable {
    public var host: String
    public var pid: Int32
    public var startedAt: Date
    public var beatAt: Date

    public init(host: String, pid: Int32, startedAt: Date, beatAt: Date) {
        self.host = host
        self.pid = pid
        self.startedAt = startedAt
        self.beatAt = beatAt
    }
}
