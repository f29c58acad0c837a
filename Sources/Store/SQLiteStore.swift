import FeedspoolModel
import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode, so that the CLI can read
/// and enqueue while a daemon works. Writes that claim work run in
/// `BEGIN IMMEDIATE` transactions; a busy database is waited for up to 10 s.
///
/// Related SQLite documentation: <https://www.sqlite.org/wal.html>
public final class SQLiteStore: Store {
    let database: DatabaseQueue
    public let path: String

    /// WAL frames (pages) not yet copied back after which a background checkpoint
    /// copies them, and WAL frames at which the committing connection checkpoints
    /// itself so that the WAL starts over (see `SQLiteCheckpointer`). SQLite's own
    /// checkpoint runs in the commit that crosses 1,000 frames. The WAL file grows
    /// to about 32 MiB (64 MiB at most, under loads the background copies cannot
    /// keep up with) and is reused from its beginning after each `limit`.
    static let checkpointEvery: Int32 = 1000
    static let checkpointLimit: Int32 = 8000

    private let checkpointer: SQLiteCheckpointer

    public convenience init(path: String) throws(StoreError) {
        try self.init(path: path, checkpointEvery: Self.checkpointEvery, checkpointLimit: Self.checkpointLimit)
    }

    init(path: String, checkpointEvery: Int32, checkpointLimit: Int32) throws(StoreError) {
        self.path = path
        let checkpointer = SQLiteCheckpointer(path: path, every: checkpointEvery, limit: checkpointLimit)
        self.checkpointer = checkpointer
        var config = Configuration()
        config.journalMode = .wal
        config.busyMode = .timeout(10)
        config.label = "feedspool.store"
        // WAL with synchronous=NORMAL: a power loss may undo the last commits but never
        // corrupts. Safe for delivery: an undone commit leaves intents whose files
        // exist, which the next fetch marks delivered without writing them again.
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // 32 MiB of page cache (default 2): the dedup index's B-trees stay in memory at a million items.
            try db.execute(sql: "PRAGMA cache_size = -32768")
            // Replaces SQLite's automatic checkpoint (also a WAL hook) with the background one.
            checkpointer.watch(db.sqliteConnection!)
        }
        do {
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            database = try DatabaseQueue(path: path, configuration: config)
            try Self.migrator.migrate(database)
        } catch {
            throw .unavailable(path: path, reason: Self.describe(error))
        }
    }

    deinit {
        // The store's connection first: its WAL hook points at the checkpointer.
        try? database.close()
        checkpointer.close()
    }

    /// Background checkpoints completed, the frames they found copied, and the last one's failure if it failed.
    var checkpoints: (completed: Int, copiedFrames: Int, lastError: String?) { checkpointer.progress }

    /// Waits for a running background checkpoint (tests).
    func drainCheckpoints() { checkpointer.drain() }

    // MARK: schema

    /// Numbered migrations; a released one is never edited, only followed by another.
    static let migrator: DatabaseMigrator = {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE job (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    feed_id TEXT NOT NULL,
                    url TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    priority INTEGER NOT NULL,        -- 0 manual, 1 scheduled
                    state TEXT NOT NULL,
                    run_at REAL NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    max_attempts INTEGER NOT NULL,
                    created_at REAL NOT NULL,
                    started_at REAL,
                    finished_at REAL,
                    lease_owner TEXT,
                    lease_until REAL,
                    last_error TEXT,
                    result TEXT                       -- JSON of JobResult
                );
                -- One live job per feed.
                CREATE UNIQUE INDEX job_live_feed ON job(feed_id) WHERE state IN ('queued', 'running', 'failed');
                CREATE INDEX job_due ON job(priority, run_at, id) WHERE state IN ('queued', 'failed');
                CREATE INDEX job_lease ON job(lease_until) WHERE state = 'running';
                CREATE INDEX job_finished ON job(finished_at);
                CREATE TABLE job_attempt (
                    job_id INTEGER NOT NULL REFERENCES job(id) ON DELETE CASCADE,
                    number INTEGER NOT NULL,
                    owner TEXT NOT NULL,
                    started_at REAL NOT NULL,
                    finished_at REAL,
                    outcome TEXT,
                    error TEXT,
                    PRIMARY KEY (job_id, number)
                );
                CREATE TABLE heartbeat (
                    host TEXT NOT NULL,
                    pid INTEGER NOT NULL,
                    started_at REAL NOT NULL,
                    beat_at REAL NOT NULL,
                    PRIMARY KEY (host, pid)
                );
                """)
        }
        m.registerMigration("v2-feeds-items") { db in
            try db.execute(sql: """
                CREATE TABLE feed (
                    id TEXT PRIMARY KEY,
                    url TEXT NOT NULL,
                    effective_url TEXT NOT NULL,
                    title TEXT,
                    etag TEXT,
                    last_modified TEXT,
                    last_fetch_at REAL,
                    last_status TEXT,
                    last_http_status INTEGER,
                    error_streak INTEGER NOT NULL DEFAULT 0,
                    next_due_at REAL NOT NULL,
                    gone INTEGER NOT NULL DEFAULT 0,
                    items_delivered INTEGER NOT NULL DEFAULT 0,
                    configured INTEGER NOT NULL DEFAULT 1
                );
                CREATE TABLE item (
                    feed_id TEXT NOT NULL,
                    item_key TEXT NOT NULL,
                    item_id TEXT NOT NULL,
                    content_hash TEXT NOT NULL,
                    file_name TEXT NOT NULL,
                    delivered INTEGER NOT NULL DEFAULT 0,
                    first_seen_at REAL NOT NULL,
                    delivered_at REAL,
                    deliveries INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (feed_id, item_key)
                );
                CREATE INDEX item_pending ON item(feed_id) WHERE delivered = 0;
                """)
        }
        m.registerMigration("v3-feed-due-index") { db in
            try db.execute(sql: "CREATE INDEX feed_due ON feed(next_due_at) WHERE configured = 1 AND gone = 0")
        }
        m.registerMigration("v4-dedup") { db in
            try db.execute(sql: """
                ALTER TABLE item ADD COLUMN dedup TEXT;
                CREATE TABLE dedup_entry (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    item_id TEXT NOT NULL,
                    feed_id TEXT NOT NULL,
                    first_seen REAL NOT NULL,
                    status TEXT NOT NULL,
                    cluster TEXT NOT NULL,
                    duplicate_of TEXT,
                    similarity REAL,
                    method TEXT,
                    has_file INTEGER NOT NULL,
                    words INTEGER NOT NULL,
                    keys BLOB NOT NULL,
                    exact_keys BLOB NOT NULL,
                    sample BLOB NOT NULL,
                    sample_whole INTEGER NOT NULL,
                    joins TEXT,
                    source_name TEXT
                );
                CREATE INDEX dedup_entry_item ON dedup_entry(item_id);
                CREATE INDEX dedup_entry_seen ON dedup_entry(first_seen);
                CREATE TABLE feed_paragraph (
                    feed_id TEXT NOT NULL,
                    hash INTEGER NOT NULL,
                    items INTEGER NOT NULL,
                    last_seen REAL NOT NULL,
                    PRIMARY KEY (feed_id, hash)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v5-lookup-indexes") { db in
            // knownParagraphs looks paragraphs up by hash across feeds (it scanned the
            // whole history on every job), `dedup explain` looks items up by id.
            try db.execute(sql: """
                CREATE INDEX feed_paragraph_hash ON feed_paragraph(hash);
                CREATE INDEX item_id ON item(item_id);
                """)
        }
        m.registerMigration("v6-dedup-entry-without-item-index") { db in
            // Item ids are hashes: each dedup round's inserts landed on as many random
            // leaves of this index, which the commit then wrote to the WAL and the
            // checkpoints back, page by page: at a million entries, the commits of rounds
            // of 20 cost 70-90 us per item with it and 8-9 without. Its one reader is
            // `dedup explain` naming a dropped copy, which scans instead (newest first).
            try db.execute(sql: "DROP INDEX IF EXISTS dedup_entry_item")
        }
        m.registerMigration("v7-dedup-entry-plain-rowid") { db in
            // Every dedup round inserts its entries one by one. Each insert into an
            // AUTOINCREMENT table read and rewrote its sqlite_sequence row, and each also
            // went into the first_seen index: together about two thirds of an insert's
            // instructions, and a round of 20 committed 10.4 pages where it now commits
            // 7.2 (at a million entries). A seq is still never reused: SQLite gives a new
            // row max(seq) + 1, and pruning always keeps the newest entry. Pruning walks
            // the oldest entries in seq order instead of the index (see `pruneDedup`).
            // The table is copied once, as the previous release's schema is written
            // above and never edited: 23 s at a million entries here, and the old
            // table's pages stay in the file as free pages, which later writes reuse.
            try db.execute(sql: """
                CREATE TABLE dedup_entry_v7 (
                    seq INTEGER PRIMARY KEY,
                    item_id TEXT NOT NULL,
                    feed_id TEXT NOT NULL,
                    first_seen REAL NOT NULL,
                    status TEXT NOT NULL,
                    cluster TEXT NOT NULL,
                    duplicate_of TEXT,
                    similarity REAL,
                    method TEXT,
                    has_file INTEGER NOT NULL,
                    words INTEGER NOT NULL,
                    keys BLOB NOT NULL,
                    exact_keys BLOB NOT NULL,
                    sample BLOB NOT NULL,
                    sample_whole INTEGER NOT NULL,
                    joins TEXT,
                    source_name TEXT
                );
                INSERT INTO dedup_entry_v7 (seq, item_id, feed_id, first_seen, status, cluster, duplicate_of, similarity, method, has_file,
                    words, keys, exact_keys, sample, sample_whole, joins, source_name)
                SELECT seq, item_id, feed_id, first_seen, status, cluster, duplicate_of, similarity, method, has_file,
                    words, keys, exact_keys, sample, sample_whole, joins, source_name
                FROM dedup_entry ORDER BY seq;
                DROP TABLE dedup_entry;
                ALTER TABLE dedup_entry_v7 RENAME TO dedup_entry;
                """)
        }
        return m
    }()

    // MARK: helpers

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction, mapping errors.
    func write<T>(_ operation: String, _ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try database.writeWithoutTransaction { db in
                var value: T?
                try db.inTransaction(.immediate) {
                    value = try body(db)
                    return .commit
                }
                return value!
            }
        } catch let e as StoreError {
            throw e
        } catch {
            throw Self.failure(operation, error)
        }
    }

    func read<T>(_ operation: String, _ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try database.read(body)
        } catch {
            throw Self.failure(operation, error)
        }
    }

    static func failure(_ operation: String, _ error: any Error) -> StoreError {
        let reason = describe(error)
        if let e = error as? DatabaseError, [.SQLITE_FULL, .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_READONLY].contains(e.resultCode) {
            return .unavailable(path: "store", reason: reason)
        }
        return .failed(operation: operation, reason: reason)
    }

    private static func describe(_ error: any Error) -> String {
        if let e = error as? DatabaseError { return e.message ?? "\(e.resultCode)" }
        return "\(error)"
    }

    private static let jobColumns = """
        id, feed_id, url, kind, state, run_at, attempts, max_attempts, created_at, started_at, finished_at,
        lease_owner, lease_until, last_error, result
        """

    private static func job(_ row: Row) -> FetchJob {
        let resultJSON: String? = row["result"]
        return FetchJob(
            id: row["id"], feedID: row["feed_id"], url: row["url"],
            kind: JobKind(rawValue: row["kind"]) ?? .scheduled, state: JobState(rawValue: row["state"]) ?? .queued,
            runAt: Date(timeIntervalSince1970: row["run_at"]), attempts: row["attempts"], maxAttempts: row["max_attempts"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            startedAt: (row["started_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            finishedAt: (row["finished_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            leaseOwner: row["lease_owner"],
            leaseUntil: (row["lease_until"] as Double?).map(Date.init(timeIntervalSince1970:)),
            lastError: row["last_error"],
            result: resultJSON.flatMap { try? JSONDecoder().decode(JobResult.self, from: Data($0.utf8)) })
    }

    private static func encode(_ r: JobResult?) -> String? {
        r.flatMap { try? JSONEncoder().encode($0) }.map { String(decoding: $0, as: UTF8.self) }
    }

    // MARK: jobs

    public func enqueue(feedID: String, url: String, kind: JobKind, runAt: Date, maxAttempts: Int, now: Date) throws(StoreError) -> FetchJob {
        try write("enqueue") { db in
            if let live = try Row.fetchOne(
                db, sql: "SELECT \(Self.jobColumns) FROM job WHERE feed_id = ? AND state IN ('queued', 'running', 'failed')",
                arguments: [feedID])
            {
                var job = Self.job(live)
                // A manual fetch moves a waiting job to the front and makes it due now.
                if kind == .manual, job.state != .running {
                    try db.execute(
                        sql: "UPDATE job SET kind = 'manual', priority = 0, run_at = MIN(run_at, ?), state = 'queued' WHERE id = ?",
                        arguments: [now.timeIntervalSince1970, job.id])
                    job.kind = .manual
                    job.state = .queued
                    job.runAt = min(job.runAt, now)
                }
                return job
            }
            try db.execute(
                sql: """
                    INSERT INTO job (feed_id, url, kind, priority, state, run_at, max_attempts, created_at)
                    VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)
                    """,
                arguments: [feedID, url, kind.rawValue, kind == .manual ? 0 : 1, runAt.timeIntervalSince1970, maxAttempts,
                            now.timeIntervalSince1970])
            let row = try Row.fetchOne(db, sql: "SELECT \(Self.jobColumns) FROM job WHERE id = ?", arguments: [db.lastInsertedRowID])!
            return Self.job(row)
        }
    }

    public func claimJobs(limit: Int, owner: String, leaseFor: TimeInterval, now: Date) throws(StoreError) -> [FetchJob] {
        try write("claim jobs") { db in
            let t = now.timeIntervalSince1970
            let rows = try Row.fetchAll(
                db,
                sql: """
                    UPDATE job SET state = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1,
                        started_at = ?, finished_at = NULL
                    WHERE id IN (
                        SELECT id FROM job WHERE state IN ('queued', 'failed') AND run_at <= ?
                        ORDER BY priority, run_at, id LIMIT ?)
                    RETURNING \(Self.jobColumns)
                    """,
                arguments: [owner, t + leaseFor, t, t, limit])
            let jobs = rows.map(Self.job).sorted { ($0.kind == .manual ? 0 : 1, $0.runAt, $0.id) < ($1.kind == .manual ? 0 : 1, $1.runAt, $1.id) }
            for j in jobs {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO job_attempt (job_id, number, owner, started_at) VALUES (?, ?, ?, ?)",
                    arguments: [j.id, j.attempts, owner, t])
            }
            return jobs
        }
    }

    public func renewLeases(_ jobIDs: [Int64], owner: String, until: Date) throws(StoreError) {
        guard !jobIDs.isEmpty else { return }
        try write("renew leases") { db in
            try db.execute(
                sql: "UPDATE job SET lease_until = ? WHERE state = 'running' AND lease_owner = ? AND id IN (SELECT value FROM json_each(?))",
                arguments: [until.timeIntervalSince1970, owner, Self.jsonList(jobIDs)])
        }
    }

    public func complete(_ jobID: Int64, owner: String, result: JobResult, now: Date) throws(StoreError) {
        try write("complete job") { db in try Self.markDone(db, jobID: jobID, owner: owner, result: result, now: now) }
    }

    /// The job is done, if `owner` still holds its lease (one who lost it cannot finish it).
    private static func markDone(_ db: Database, jobID: Int64, owner: String, result: JobResult, now: Date) throws {
        try db.execute(
            sql: """
                UPDATE job SET state = 'done', finished_at = ?, lease_owner = NULL, lease_until = NULL, result = ?, last_error = NULL
                WHERE id = ? AND state = 'running' AND lease_owner = ?
                """,
            arguments: [now.timeIntervalSince1970, encode(result), jobID, owner])
        try finishAttempt(db, jobID: jobID, outcome: "done", error: nil, now: now)
    }

    public func fail(_ jobID: Int64, owner: String, error: String, result: JobResult?, retryAt: Date, now: Date) throws(StoreError) -> JobState {
        try write("fail job") { db in
            try Self.fail(db, jobID: jobID, owner: owner, error: error, result: result, retryAt: retryAt, now: now)
        }
    }

    private static func fail(_ db: Database, jobID: Int64, owner: String, error: String, result: JobResult?, retryAt: Date, now: Date) throws -> JobState {
        do {
            guard let row = try Row.fetchOne(
                db, sql: "SELECT attempts, max_attempts FROM job WHERE id = ? AND state = 'running' AND lease_owner = ?",
                arguments: [jobID, owner])
            else { return .failed }
            let attempts: Int = row["attempts"], maxAttempts: Int = row["max_attempts"]
            let next: JobState = attempts >= maxAttempts ? .dead : .failed
            try db.execute(
                sql: """
                    UPDATE job SET state = ?, run_at = ?, finished_at = ?, lease_owner = NULL, lease_until = NULL,
                        last_error = ?, result = ?
                    WHERE id = ?
                    """,
                arguments: [next.rawValue, retryAt.timeIntervalSince1970, now.timeIntervalSince1970, error, Self.encode(result), jobID])
            try Self.finishAttempt(db, jobID: jobID, outcome: "failed", error: error, now: now)
            return next
        }
    }

    public func leaseOwners() throws(StoreError) -> Set<String> {
        try read("lease owners") { db in
            Set(try String.fetchAll(db, sql: "SELECT DISTINCT lease_owner FROM job WHERE state = 'running' AND lease_owner IS NOT NULL"))
        }
    }

    public func expireLeases(of owners: Set<String>, now: Date) throws(StoreError) -> Int {
        guard !owners.isEmpty else { return 0 }
        return try write("expire leases") { db in
            let expired = try Row.fetchAll(
                db, sql: "SELECT id, attempts, max_attempts FROM job WHERE state = 'running' AND lease_owner IN (SELECT value FROM json_each(?))",
                arguments: [Self.jsonList(Array(owners))])
            try Self.expire(db, expired, now: now)
            return expired.count
        }
    }

    public func rescueExpiredLeases(now: Date) throws(StoreError) -> Int {
        try write("rescue expired leases") { db in
            let t = now.timeIntervalSince1970
            let expired = try Row.fetchAll(
                db, sql: "SELECT id, attempts, max_attempts FROM job WHERE state = 'running' AND lease_until < ?", arguments: [t])
            try Self.expire(db, expired, now: now)
            return expired.count
        }
    }

    private static func expire(_ db: Database, _ expired: [Row], now: Date) throws {
        do {
            let t = now.timeIntervalSince1970
            for row in expired {
                let id: Int64 = row["id"], attempts: Int = row["attempts"], maxAttempts: Int = row["max_attempts"]
                try db.execute(
                    sql: """
                        UPDATE job SET state = ?, run_at = ?, lease_owner = NULL, lease_until = NULL,
                            last_error = 'the worker holding the lease stopped (lease expired)'
                        WHERE id = ?
                        """,
                    arguments: [attempts >= maxAttempts ? "dead" : "queued", t, id])
                try Self.finishAttempt(db, jobID: id, outcome: "expired", error: "lease expired", now: now)
            }
        }
    }

    public func release(owner: String, now: Date) throws(StoreError) -> Int {
        try write("release jobs") { db in
            let ids = try Int64.fetchAll(db, sql: "SELECT id FROM job WHERE state = 'running' AND lease_owner = ?", arguments: [owner])
            try db.execute(
                sql: """
                    UPDATE job SET state = 'queued', attempts = MAX(0, attempts - 1), lease_owner = NULL, lease_until = NULL,
                        started_at = NULL
                    WHERE state = 'running' AND lease_owner = ?
                    """,
                arguments: [owner])
            for id in ids {
                try db.execute(
                    sql: "DELETE FROM job_attempt WHERE job_id = ? AND finished_at IS NULL", arguments: [id])
            }
            return ids.count
        }
    }

    public func retry(_ jobIDs: [Int64], now: Date) throws(StoreError) -> [Int64] {
        try write("retry jobs") { db in
            try Self.retry(db, where: "id IN (SELECT value FROM json_each(?)) AND state IN ('failed', 'dead')",
                           arguments: [Self.jsonList(jobIDs)], now: now)
        }
    }

    public func retryAllDead(now: Date) throws(StoreError) -> [Int64] {
        try write("retry dead jobs") { db in
            try Self.retry(db, where: "state = 'dead'", arguments: [], now: now)
        }
    }

    /// A job comes back only if its feed has no other live job (one live job per feed).
    private static func retry(_ db: Database, where condition: String, arguments: StatementArguments, now: Date) throws -> [Int64] {
        let candidates = try Row.fetchAll(db, sql: "SELECT id, feed_id FROM job WHERE \(condition) ORDER BY id", arguments: arguments)
        var changed: [Int64] = []
        for row in candidates {
            let id: Int64 = row["id"], feed: String = row["feed_id"]
            let busy = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM job WHERE feed_id = ? AND id != ? AND state IN ('queued', 'running', 'failed')",
                arguments: [feed, id]) ?? 0
            guard busy == 0 else { continue }
            try db.execute(
                sql: "UPDATE job SET state = 'queued', run_at = ?, attempts = 0, finished_at = NULL WHERE id = ?",
                arguments: [now.timeIntervalSince1970, id])
            changed.append(id)
        }
        return changed
    }

    public func cancel(_ jobIDs: [Int64], now: Date) throws(StoreError) -> [Int64] {
        try write("cancel jobs") { db in
            let ids = try Int64.fetchAll(
                db, sql: "SELECT id FROM job WHERE id IN (SELECT value FROM json_each(?)) AND state IN ('queued', 'failed')",
                arguments: [Self.jsonList(jobIDs)])
            try db.execute(
                sql: "UPDATE job SET state = 'cancelled', finished_at = ? WHERE id IN (SELECT value FROM json_each(?))",
                arguments: [now.timeIntervalSince1970, Self.jsonList(ids)])
            return ids
        }
    }

    public func job(_ id: Int64) throws(StoreError) -> FetchJob? {
        try read("read job") { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.jobColumns) FROM job WHERE id = ?", arguments: [id]).map(Self.job)
        }
    }

    public func attempts(ofJob id: Int64) throws(StoreError) -> [JobAttempt] {
        try read("read attempts") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM job_attempt WHERE job_id = ? ORDER BY number", arguments: [id]).map { r in
                JobAttempt(
                    number: r["number"], owner: r["owner"], startedAt: Date(timeIntervalSince1970: r["started_at"]),
                    finishedAt: (r["finished_at"] as Double?).map(Date.init(timeIntervalSince1970:)), outcome: r["outcome"],
                    error: r["error"])
            }
        }
    }

    public func listJobs(_ filter: JobFilter) throws(StoreError) -> [FetchJob] {
        try read("list jobs") { db in
            var sql = "SELECT \(Self.jobColumns) FROM job WHERE state IN (SELECT value FROM json_each(?))"
            var arguments: StatementArguments = [Self.jsonList(filter.states.map(\.rawValue))]
            if let feed = filter.feedID {
                sql += " AND feed_id = ?"
                arguments += [feed]
            }
            sql += " ORDER BY id DESC LIMIT ?"
            arguments += [filter.limit]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.job)
        }
    }

    public func queueStats(now: Date) throws(StoreError) -> QueueStats {
        try read("queue stats") { db in
            var counts: [JobState: Int] = [:]
            for s in JobState.allCases { counts[s] = 0 }
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM job GROUP BY state") {
                if let s = JobState(rawValue: row["state"]) { counts[s] = row["n"] }
            }
            let t = now.timeIntervalSince1970
            let oldest = try Double.fetchOne(db, sql: "SELECT MIN(run_at) FROM job WHERE state = 'queued' AND run_at <= ?", arguments: [t])
            let finished = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM job WHERE state IN ('done', 'failed', 'dead') AND finished_at >= ?", arguments: [t - 3600]) ?? 0
            let daemons = try Row.fetchAll(db, sql: "SELECT * FROM heartbeat ORDER BY host, pid").map { r in
                DaemonHeartbeat(
                    host: r["host"], pid: r["pid"], startedAt: Date(timeIntervalSince1970: r["started_at"]),
                    beatAt: Date(timeIntervalSince1970: r["beat_at"]))
            }
            return QueueStats(
                counts: counts, oldestQueuedAge: oldest.map { max(0, t - $0) }, jobsPerMinuteLastHour: Double(finished) / 60,
                daemons: daemons)
        }
    }

    // MARK: feeds

    private static func feed(_ r: Row) -> FeedState {
        FeedState(
            id: r["id"], url: r["url"], effectiveURL: r["effective_url"], title: r["title"], etag: r["etag"],
            lastModified: r["last_modified"], lastFetchAt: (r["last_fetch_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            lastStatus: r["last_status"], lastHTTPStatus: r["last_http_status"], errorStreak: r["error_streak"],
            nextDueAt: Date(timeIntervalSince1970: r["next_due_at"]), gone: r["gone"], itemsDelivered: r["items_delivered"],
            configured: r["configured"])
    }

    public func syncFeeds(_ feeds: [(id: String, url: String)], now: Date) throws(StoreError) {
        try write("sync feeds") { db in
            try db.execute(sql: "UPDATE feed SET configured = 0")
            for f in feeds {
                if let old = try String.fetchOne(db, sql: "SELECT url FROM feed WHERE id = ?", arguments: [f.id]) {
                    if old != f.url {
                        try db.execute(
                            sql: """
                                UPDATE feed SET url = ?, effective_url = ?, etag = NULL, last_modified = NULL, gone = 0,
                                    error_streak = 0, next_due_at = ?, configured = 1 WHERE id = ?
                                """,
                            arguments: [f.url, f.url, now.timeIntervalSince1970, f.id])
                    } else {
                        try db.execute(sql: "UPDATE feed SET configured = 1 WHERE id = ?", arguments: [f.id])
                    }
                } else {
                    try db.execute(
                        sql: "INSERT INTO feed (id, url, effective_url, next_due_at) VALUES (?, ?, ?, ?)",
                        arguments: [f.id, f.url, f.url, now.timeIntervalSince1970])
                }
            }
        }
    }

    public func ensureFeed(id: String, url: String, now: Date) throws(StoreError) {
        try write("add feed") { db in
            try db.execute(
                sql: "INSERT INTO feed (id, url, effective_url, next_due_at, configured) VALUES (?, ?, ?, ?, 0) ON CONFLICT (id) DO NOTHING",
                arguments: [id, url, url, now.timeIntervalSince1970])
        }
    }

    public func feedState(_ id: String) throws(StoreError) -> FeedState? {
        try read("read feed") { db in try Row.fetchOne(db, sql: "SELECT * FROM feed WHERE id = ?", arguments: [id]).map(Self.feed) }
    }

    public func feedStates() throws(StoreError) -> [FeedState] {
        try read("read feeds") { db in try Row.fetchAll(db, sql: "SELECT * FROM feed WHERE configured = 1 ORDER BY id").map(Self.feed) }
    }

    public func nextDueAt() throws(StoreError) -> Date? {
        try read("next due time") { db in
            try Double.fetchOne(db, sql: "SELECT MIN(next_due_at) FROM feed WHERE configured = 1 AND gone = 0")
                .map(Date.init(timeIntervalSince1970:))
        }
    }

    public func dueFeeds(now: Date) throws(StoreError) -> [FeedState] {
        try read("due feeds") { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM feed WHERE configured = 1 AND gone = 0 AND next_due_at <= ? ORDER BY next_due_at, id",
                arguments: [now.timeIntervalSince1970]
            ).map(Self.feed)
        }
    }

    private static func saveFeed(_ db: Database, _ f: FeedState, delivered: Int) throws {
        try db.execute(
            sql: """
                UPDATE feed SET effective_url = ?, title = ?, etag = ?, last_modified = ?, last_fetch_at = ?, last_status = ?,
                    last_http_status = ?, error_streak = ?, next_due_at = ?, gone = ?, items_delivered = items_delivered + ?
                WHERE id = ?
                """,
            arguments: [f.effectiveURL, f.title, f.etag, f.lastModified, f.lastFetchAt?.timeIntervalSince1970, f.lastStatus,
                        f.lastHTTPStatus, f.errorStreak, f.nextDueAt.timeIntervalSince1970, f.gone, delivered, f.id])
    }

    // MARK: items

    public func knownItems(feedID: String, keys: [String]) throws(StoreError) -> [String: KnownItem] {
        guard !keys.isEmpty else { return [:] }
        return try read("read items") { db in
            var out: [String: KnownItem] = [:]
            for r in try Row.fetchAll(
                db, sql: "SELECT * FROM item WHERE feed_id = ? AND item_key IN (SELECT value FROM json_each(?))",
                arguments: [feedID, Self.jsonList(keys)])
            {
                let k = KnownItem(key: r["item_key"], itemID: r["item_id"], contentHash: r["content_hash"], fileName: r["file_name"],
                                  delivered: r["delivered"], dedup: DedupRecord.decode(r["dedup"]))
                out[k.key] = k
            }
            return out
        }
    }

    public func recordIntents(feedID: String, now: Date, _ plan: (any DedupSession) throws -> DeliveryIntents) throws(StoreError) {
        try write("record intents") { db in
            let intents = try plan(SQLiteDedupSession(db: db))
            // Cached statements: one row per new item and paragraph, and parsing the SQL
            // for each cost more than the insert.
            if !intents.items.isEmpty {
                let insertItem = try db.cachedStatement(
                    sql: """
                        INSERT INTO item (feed_id, item_key, item_id, content_hash, file_name, delivered, first_seen_at, dedup)
                        VALUES (?, ?, ?, ?, ?, 0, ?, ?)
                        ON CONFLICT (feed_id, item_key) DO UPDATE SET content_hash = excluded.content_hash,
                            file_name = excluded.file_name, delivered = 0, dedup = excluded.dedup
                        """)
                for i in intents.items {
                    try insertItem.execute(
                        arguments: [feedID, i.key, i.itemID, i.contentHash, i.fileName, now.timeIntervalSince1970, i.dedup?.json])
                }
            }
            if !intents.paragraphs.isEmpty {
                let insertParagraph = try db.cachedStatement(
                    sql: """
                        INSERT INTO feed_paragraph (feed_id, hash, items, last_seen) VALUES (?, ?, ?, ?)
                        ON CONFLICT (feed_id, hash) DO UPDATE SET items = items + excluded.items, last_seen = excluded.last_seen
                        """)
                for (h, n) in intents.paragraphs { try insertParagraph.execute(arguments: [feedID, h, n, now.timeIntervalSince1970]) }
            }
        }
    }

    public func commitJob(_ jobID: Int64, owner: String, feed: FeedState, deliveredKeys: [String], result: JobResult, now: Date) throws(StoreError) {
        try write("commit job") { db in
            try db.execute(
                sql: """
                    UPDATE item SET delivered = 1, delivered_at = ?, deliveries = deliveries + 1
                    WHERE feed_id = ? AND item_key IN (SELECT value FROM json_each(?))
                    """,
                arguments: [now.timeIntervalSince1970, feed.id, Self.jsonList(deliveredKeys)])
            try Self.saveFeed(db, feed, delivered: deliveredKeys.count)
            try Self.markDone(db, jobID: jobID, owner: owner, result: result, now: now)
        }
    }

    public func failJob(_ jobID: Int64, owner: String, feed: FeedState, error: String, result: JobResult?, retryAt: Date, now: Date) throws(StoreError) -> JobState {
        try write("fail job") { db in
            try Self.saveFeed(db, feed, delivered: 0)
            return try Self.fail(db, jobID: jobID, owner: owner, error: error, result: result, retryAt: retryAt, now: now)
        }
    }

    // MARK: daemons

    public func beat(host: String, pid: Int32, startedAt: Date, now: Date) throws(StoreError) {
        try write("heartbeat") { db in
            try db.execute(
                sql: """
                    INSERT INTO heartbeat (host, pid, started_at, beat_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (host, pid) DO UPDATE SET beat_at = excluded.beat_at
                    """,
                arguments: [host, pid, startedAt.timeIntervalSince1970, now.timeIntervalSince1970])
        }
    }

    public func endHeartbeat(host: String, pid: Int32) throws(StoreError) {
        try write("end heartbeat") { db in
            try db.execute(sql: "DELETE FROM heartbeat WHERE host = ? AND pid = ?", arguments: [host, pid])
        }
    }

    // MARK: small helpers

    private static func finishAttempt(_ db: Database, jobID: Int64, outcome: String, error: String?, now: Date) throws {
        try db.execute(
            sql: """
                UPDATE job_attempt SET finished_at = ?, outcome = ?, error = ?
                WHERE job_id = ? AND number = (SELECT MAX(number) FROM job_attempt WHERE job_id = ?) AND finished_at IS NULL
                """,
            arguments: [now.timeIntervalSince1970, outcome, error, jobID, jobID])
    }

    /// A list bound as one JSON value and read with `json_each`, so no SQL is ever built from values.
    static func jsonList<T: Encodable>(_ values: [T]) -> String {
        (try? JSONEncoder().encode(values)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }
}
