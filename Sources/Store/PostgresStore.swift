import FeedspoolModel
import Foundation

/// The shared store: PostgreSQL, so that several daemons on several machines
/// share one queue, one schedule and one dedup index (SPEC section 3). The same
/// semantics as `SQLiteStore`: times are seconds since 1970 (double precision),
/// flags are 0/1 integers. Jobs are claimed with `FOR UPDATE SKIP LOCKED`;
/// dedup rounds hold a transaction-scoped advisory lock; `enqueue` sends a
/// `NOTIFY feedspool_jobs`. One connection, its calls serialized by `lock`.
public final class PostgresStore: Store, @unchecked Sendable {  // `connection` is only used under `lock`
    private let connection: PGConnection
    private let lock = NSLock()
    public let url: String

    /// Key of the advisory lock that serializes dedup decisions across nodes.
    static let dedupLock: Int64 = 0x6665_6564_6475_7001  // "feeddup" + 1

    public init(url: String) throws(StoreError) {
        self.url = url
        connection = try PGConnection(url: url)
        do {
            try Self.migrate(connection)
        } catch {
            throw .unavailable(path: PGConnection.redacted(url), reason: "migrating the schema: \(error)")
        }
    }

    // MARK: helpers

    @discardableResult
    private func run<T>(_ operation: String, transaction: Bool = true, _ body: (PGConnection) throws -> T) throws(StoreError) -> T {
        lock.lock()
        defer { lock.unlock() }
        do {
            return try transaction ? connection.transaction { try body(connection) } : body(connection)
        } catch let e as StoreError {
            throw e
        } catch let e as PGError {
            // 08xxx: connection exceptions; 53xxx: insufficient resources (disk full).
            if let s = e.sqlState, s.hasPrefix("08") || s.hasPrefix("53") {
                throw .unavailable(path: PGConnection.redacted(url), reason: e.message)
            }
            throw .failed(operation: operation, reason: e.message)
        } catch {
            throw .failed(operation: operation, reason: "\(error)")
        }
    }

    private static func t(_ d: Date) -> PGValue { .double(d.timeIntervalSince1970) }
    private static func t(_ d: Date?) -> PGValue? { d.map { .double($0.timeIntervalSince1970) } }
    private static func s(_ v: String?) -> PGValue? { v.map { .text($0) } }
    private static func i(_ v: Int?) -> PGValue? { v.map { .int(Int64($0)) } }
    private static func b(_ v: Bool) -> PGValue { .int(v ? 1 : 0) }

    static let migrations: [String] = [
        """
        CREATE TABLE job (
            id BIGSERIAL PRIMARY KEY,
            feed_id TEXT NOT NULL,
            url TEXT NOT NULL,
            kind TEXT NOT NULL,
            priority INTEGER NOT NULL,
            state TEXT NOT NULL,
            run_at DOUBLE PRECISION NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            started_at DOUBLE PRECISION,
            finished_at DOUBLE PRECISION,
            lease_owner TEXT,
            lease_until DOUBLE PRECISION,
            last_error TEXT,
            result TEXT
        );
        CREATE UNIQUE INDEX job_live_feed ON job(feed_id) WHERE state IN ('queued', 'running', 'failed');
        CREATE INDEX job_due ON job(priority, run_at, id) WHERE state IN ('queued', 'failed');
        CREATE INDEX job_lease ON job(lease_until) WHERE state = 'running';
        CREATE INDEX job_finished ON job(finished_at);
        CREATE TABLE job_attempt (
            job_id BIGINT NOT NULL REFERENCES job(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            owner TEXT NOT NULL,
            started_at DOUBLE PRECISION NOT NULL,
            finished_at DOUBLE PRECISION,
            outcome TEXT,
            error TEXT,
            PRIMARY KEY (job_id, number)
        );
        CREATE TABLE heartbeat (
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            started_at DOUBLE PRECISION NOT NULL,
            beat_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (host, pid)
        );
        CREATE TABLE feed (
            id TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            effective_url TEXT NOT NULL,
            title TEXT,
            etag TEXT,
            last_modified TEXT,
            last_fetch_at DOUBLE PRECISION,
            last_status TEXT,
            last_http_status INTEGER,
            error_streak INTEGER NOT NULL DEFAULT 0,
            next_due_at DOUBLE PRECISION NOT NULL,
            gone INTEGER NOT NULL DEFAULT 0,
            items_delivered INTEGER NOT NULL DEFAULT 0,
            configured INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX feed_due ON feed(next_due_at) WHERE configured = 1 AND gone = 0;
        CREATE TABLE item (
            feed_id TEXT NOT NULL,
            item_key TEXT NOT NULL,
            item_id TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            file_name TEXT NOT NULL,
            delivered INTEGER NOT NULL DEFAULT 0,
            first_seen_at DOUBLE PRECISION NOT NULL,
            delivered_at DOUBLE PRECISION,
            deliveries INTEGER NOT NULL DEFAULT 0,
            dedup TEXT,
            PRIMARY KEY (feed_id, item_key)
        );
        CREATE INDEX item_pending ON item(feed_id) WHERE delivered = 0;
        CREATE INDEX item_id ON item(item_id);
        CREATE TABLE dedup_entry (
            seq BIGSERIAL PRIMARY KEY,
            item_id TEXT NOT NULL,
            feed_id TEXT NOT NULL,
            first_seen DOUBLE PRECISION NOT NULL,
            status TEXT NOT NULL,
            cluster TEXT NOT NULL,
            duplicate_of TEXT,
            similarity DOUBLE PRECISION,
            method TEXT,
            has_file INTEGER NOT NULL,
            words INTEGER NOT NULL,
            keys BYTEA NOT NULL,
            exact_keys BYTEA NOT NULL,
            sample BYTEA NOT NULL,
            sample_whole INTEGER NOT NULL,
            joins TEXT,
            source_name TEXT
        );
        CREATE INDEX dedup_entry_item ON dedup_entry(item_id);
        CREATE INDEX dedup_entry_seen ON dedup_entry(first_seen);
        CREATE TABLE feed_paragraph (
            feed_id TEXT NOT NULL,
            hash BIGINT NOT NULL,
            items INTEGER NOT NULL,
            last_seen DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (feed_id, hash)
        );
        CREATE INDEX feed_paragraph_hash ON feed_paragraph(hash);
        """
    ]

    /// Numbered migrations under an advisory lock, so that nodes starting together migrate once.
    static func migrate(_ c: PGConnection) throws {
        try c.transaction {
            try c.exec("SELECT pg_advisory_xact_lock(7378415046624309103)")  // "feedspoo" in ASCII
            // A URL may name a schema of feedspool's own (`?options=-csearch_path%3Dfeedspool`): create it on first use.
            if try c.exec("SELECT current_schema() AS s").first?.string("s") == nil,
                let first = try c.exec("SHOW search_path").first?.string("search_path")?.split(separator: ",").first
            {
                let name = first.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                try c.exec("CREATE SCHEMA IF NOT EXISTS \"\(name.replacingOccurrences(of: "\"", with: "\"\""))\"")
            }
            try c.exec("CREATE TABLE IF NOT EXISTS feedspool_migration (version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)")
            let done = try c.exec("SELECT COALESCE(MAX(version), 0) AS v FROM feedspool_migration").first?.int("v") ?? 0
            for (n, sql) in migrations.enumerated() where n + 1 > done {
                try c.execScript(sql)
                try c.exec("INSERT INTO feedspool_migration (version, applied_at) VALUES ($1, $2)", [.int(Int64(n + 1)), t(Date())])
            }
        }
    }

    private static let jobColumns = """
        id, feed_id, url, kind, state, run_at, attempts, max_attempts, created_at, started_at, finished_at,
        lease_owner, lease_until, last_error, result
        """

    private static func job(_ r: PGRow) -> FetchJob {
        FetchJob(
            id: r.int64("id"), feedID: r.string("feed_id") ?? "", url: r.string("url") ?? "",
            kind: JobKind(rawValue: r.string("kind") ?? "") ?? .scheduled, state: JobState(rawValue: r.string("state") ?? "") ?? .queued,
            runAt: r.date("run_at"), attempts: r.int("attempts"), maxAttempts: r.int("max_attempts"), createdAt: r.date("created_at"),
            startedAt: r.optionalDate("started_at"), finishedAt: r.optionalDate("finished_at"), leaseOwner: r.string("lease_owner"),
            leaseUntil: r.optionalDate("lease_until"), lastError: r.string("last_error"),
            result: r.string("result").flatMap { try? JSONDecoder().decode(JobResult.self, from: Data($0.utf8)) })
    }

    private static func encode(_ r: JobResult?) -> PGValue? {
        r.flatMap { try? JSONEncoder().encode($0) }.map { .text(String(decoding: $0, as: UTF8.self)) }
    }

    // MARK: jobs

    public func enqueue(feedID: String, url: String, kind: JobKind, runAt: Date, maxAttempts: Int, now: Date) throws(StoreError) -> FetchJob {
        try run("enqueue") { c in
            // One live job per feed, also when two nodes enqueue at once: the partial unique index decides.
            let inserted = try c.exec(
                """
                INSERT INTO job (feed_id, url, kind, priority, state, run_at, max_attempts, created_at)
                VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7)
                ON CONFLICT (feed_id) WHERE state IN ('queued', 'running', 'failed') DO NOTHING
                RETURNING \(Self.jobColumns)
                """,
                [.text(feedID), .text(url), .text(kind.rawValue), .int(kind == .manual ? 0 : 1), Self.t(runAt), .int(Int64(maxAttempts)),
                 Self.t(now)])
            try c.exec("NOTIFY feedspool_jobs")
            if let row = inserted.first { return Self.job(row) }
            let live = try c.exec(
                "SELECT \(Self.jobColumns) FROM job WHERE feed_id = $1 AND state IN ('queued', 'running', 'failed') FOR UPDATE",
                [.text(feedID)])
            guard let row = live.first else { throw PGError(message: "the live job of \(feedID) vanished; try again", sqlState: nil) }
            var job = Self.job(row)
            if kind == .manual, job.state != .running {
                try c.exec(
                    "UPDATE job SET kind = 'manual', priority = 0, run_at = LEAST(run_at, $1), state = 'queued' WHERE id = $2",
                    [Self.t(now), .int(job.id)])
                job.kind = .manual
                job.state = .queued
                job.runAt = min(job.runAt, now)
            }
            return job
        }
    }

    public func claimJobs(limit: Int, owner: String, leaseFor: TimeInterval, now: Date) throws(StoreError) -> [FetchJob] {
        try run("claim jobs") { c in
            let t = now.timeIntervalSince1970
            let rows = try c.exec(
                """
                UPDATE job SET state = 'running', lease_owner = $1, lease_until = $2, attempts = attempts + 1,
                    started_at = $3, finished_at = NULL
                WHERE id IN (
                    SELECT id FROM job WHERE state IN ('queued', 'failed') AND run_at <= $3
                    ORDER BY priority, run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
                RETURNING \(Self.jobColumns)
                """,
                [.text(owner), .double(t + leaseFor), .double(t), .int(Int64(limit))])
            let jobs = rows.rows.map(Self.job).sorted {
                ($0.kind == .manual ? 0 : 1, $0.runAt, $0.id) < ($1.kind == .manual ? 0 : 1, $1.runAt, $1.id)
            }
            for j in jobs {
                try c.exec(
                    """
                    INSERT INTO job_attempt (job_id, number, owner, started_at) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (job_id, number) DO UPDATE SET owner = excluded.owner, started_at = excluded.started_at,
                        finished_at = NULL, outcome = NULL, error = NULL
                    """,
                    [.int(j.id), .int(Int64(j.attempts)), .text(owner), .double(t)])
            }
            return jobs
        }
    }

    public func renewLeases(_ jobIDs: [Int64], owner: String, until: Date) throws(StoreError) {
        guard !jobIDs.isEmpty else { return }
        try run("renew leases") { c in
            try c.exec(
                "UPDATE job SET lease_until = $1 WHERE state = 'running' AND lease_owner = $2 AND id = ANY($3::bigint[])",
                [Self.t(until), .text(owner), PGValue.intArray(jobIDs)])
        }
    }

    public func complete(_ jobID: Int64, owner: String, result: JobResult, now: Date) throws(StoreError) {
        try run("complete job") { c in try Self.markDone(c, jobID: jobID, owner: owner, result: result, now: now) }
    }

    private static func markDone(_ c: PGConnection, jobID: Int64, owner: String, result: JobResult, now: Date) throws {
        try c.exec(
            """
            UPDATE job SET state = 'done', finished_at = $1, lease_owner = NULL, lease_until = NULL, result = $2, last_error = NULL
            WHERE id = $3 AND state = 'running' AND lease_owner = $4
            """,
            [t(now), encode(result), .int(jobID), .text(owner)])
        try finishAttempt(c, jobID: jobID, outcome: "done", error: nil, now: now)
    }

    public func fail(_ jobID: Int64, owner: String, error: String, result: JobResult?, retryAt: Date, now: Date) throws(StoreError) -> JobState {
        try run("fail job") { c in try Self.fail(c, jobID: jobID, owner: owner, error: error, result: result, retryAt: retryAt, now: now) }
    }

    private static func fail(_ c: PGConnection, jobID: Int64, owner: String, error: String, result: JobResult?, retryAt: Date, now: Date) throws
        -> JobState
    {
        guard let row = try c.exec(
            "SELECT attempts, max_attempts FROM job WHERE id = $1 AND state = 'running' AND lease_owner = $2 FOR UPDATE",
            [.int(jobID), .text(owner)]
        ).first else { return .failed }
        let next: JobState = row.int("attempts") >= row.int("max_attempts") ? .dead : .failed
        try c.exec(
            """
            UPDATE job SET state = $1, run_at = $2, finished_at = $3, lease_owner = NULL, lease_until = NULL, last_error = $4, result = $5
            WHERE id = $6
            """,
            [.text(next.rawValue), t(retryAt), t(now), .text(error), encode(result), .int(jobID)])
        try finishAttempt(c, jobID: jobID, outcome: "failed", error: error, now: now)
        return next
    }

    public func leaseOwners() throws(StoreError) -> Set<String> {
        try run("lease owners", transaction: false) { c in
            Set(try c.exec("SELECT DISTINCT lease_owner FROM job WHERE state = 'running' AND lease_owner IS NOT NULL").rows.compactMap {
                $0.string("lease_owner")
            })
        }
    }

    public func expireLeases(of owners: Set<String>, now: Date) throws(StoreError) -> Int {
        guard !owners.isEmpty else { return 0 }
        return try run("expire leases") { c in
            let expired = try c.exec(
                "SELECT id, attempts, max_attempts FROM job WHERE state = 'running' AND lease_owner = ANY($1::text[]) FOR UPDATE SKIP LOCKED",
                [PGValue.textArray(Array(owners))])
            try Self.expire(c, expired.rows, now: now)
            return expired.count
        }
    }

    public func rescueExpiredLeases(now: Date) throws(StoreError) -> Int {
        try run("rescue expired leases") { c in
            let expired = try c.exec(
                "SELECT id, attempts, max_attempts FROM job WHERE state = 'running' AND lease_until < $1 FOR UPDATE SKIP LOCKED", [Self.t(now)])
            try Self.expire(c, expired.rows, now: now)
            return expired.count
        }
    }

    private static func expire(_ c: PGConnection, _ expired: [PGRow], now: Date) throws {
        for row in expired {
            let id = row.int64("id")
            try c.exec(
                """
                UPDATE job SET state = $1, run_at = $2, lease_owner = NULL, lease_until = NULL,
                    last_error = 'the worker holding the lease stopped (lease expired)'
                WHERE id = $3
                """,
                [.text(row.int("attempts") >= row.int("max_attempts") ? "dead" : "queued"), t(now), .int(id)])
            try finishAttempt(c, jobID: id, outcome: "expired", error: "lease expired", now: now)
        }
    }

    public func release(owner: String, now: Date) throws(StoreError) -> Int {
        try run("release jobs") { c in
            let ids = try c.exec("SELECT id FROM job WHERE state = 'running' AND lease_owner = $1 FOR UPDATE", [.text(owner)]).rows
                .map { $0.int64("id") }
            try c.exec(
                """
                UPDATE job SET state = 'queued', attempts = GREATEST(0, attempts - 1), lease_owner = NULL, lease_until = NULL,
                    started_at = NULL
                WHERE state = 'running' AND lease_owner = $1
                """,
                [.text(owner)])
            try c.exec("DELETE FROM job_attempt WHERE job_id = ANY($1::bigint[]) AND finished_at IS NULL", [PGValue.intArray(ids)])
            return ids.count
        }
    }

    public func retry(_ jobIDs: [Int64], now: Date) throws(StoreError) -> [Int64] {
        try run("retry jobs") { c in
            try Self.retry(c, where: "id = ANY($1::bigint[]) AND state IN ('failed', 'dead')", [PGValue.intArray(jobIDs)], now: now)
        }
    }

    public func retryAllDead(now: Date) throws(StoreError) -> [Int64] {
        try run("retry dead jobs") { c in try Self.retry(c, where: "state = 'dead'", [], now: now) }
    }

    private static func retry(_ c: PGConnection, where condition: String, _ params: [PGValue?], now: Date) throws -> [Int64] {
        var changed: [Int64] = []
        for row in try c.exec("SELECT id, feed_id FROM job WHERE \(condition) ORDER BY id FOR UPDATE", params).rows {
            let id = row.int64("id")
            let busy = try c.exec(
                "SELECT COUNT(*) AS n FROM job WHERE feed_id = $1 AND id != $2 AND state IN ('queued', 'running', 'failed')",
                [s(row.string("feed_id")), .int(id)]
            ).first?.int("n") ?? 0
            guard busy == 0 else { continue }
            try c.exec("UPDATE job SET state = 'queued', run_at = $1, attempts = 0, finished_at = NULL WHERE id = $2", [t(now), .int(id)])
            changed.append(id)
        }
        if !changed.isEmpty { try c.exec("NOTIFY feedspool_jobs") }
        return changed
    }

    public func cancel(_ jobIDs: [Int64], now: Date) throws(StoreError) -> [Int64] {
        try run("cancel jobs") { c in
            try c.exec(
                "UPDATE job SET state = 'cancelled', finished_at = $1 WHERE id = ANY($2::bigint[]) AND state IN ('queued', 'failed') RETURNING id",
                [Self.t(now), PGValue.intArray(jobIDs)]
            ).rows.map { $0.int64("id") }.sorted()
        }
    }

    public func job(_ id: Int64) throws(StoreError) -> FetchJob? {
        try run("read job", transaction: false) { c in
            try c.exec("SELECT \(Self.jobColumns) FROM job WHERE id = $1", [.int(id)]).first.map(Self.job)
        }
    }

    public func attempts(ofJob id: Int64) throws(StoreError) -> [JobAttempt] {
        try run("read attempts", transaction: false) { c in
            try c.exec("SELECT * FROM job_attempt WHERE job_id = $1 ORDER BY number", [.int(id)]).rows.map { r in
                JobAttempt(
                    number: r.int("number"), owner: r.string("owner") ?? "", startedAt: r.date("started_at"),
                    finishedAt: r.optionalDate("finished_at"), outcome: r.string("outcome"), error: r.string("error"))
            }
        }
    }

    public func listJobs(_ filter: JobFilter) throws(StoreError) -> [FetchJob] {
        try run("list jobs", transaction: false) { c in
            var sql = "SELECT \(Self.jobColumns) FROM job WHERE state = ANY($1::text[])"
            var params: [PGValue?] = [PGValue.textArray(filter.states.map(\.rawValue))]
            if let feed = filter.feedID {
                params.append(.text(feed))
                sql += " AND feed_id = $\(params.count)"
            }
            params.append(.int(Int64(filter.limit)))
            sql += " ORDER BY id DESC LIMIT $\(params.count)"
            return try c.exec(sql, params).rows.map(Self.job)
        }
    }

    public func queueStats(now: Date) throws(StoreError) -> QueueStats {
        try run("queue stats", transaction: false) { c in
            var counts: [JobState: Int] = [:]
            for s in JobState.allCases { counts[s] = 0 }
            for row in try c.exec("SELECT state, COUNT(*) AS n FROM job GROUP BY state").rows {
                if let s = JobState(rawValue: row.string("state") ?? "") { counts[s] = row.int("n") }
            }
            let t = now.timeIntervalSince1970
            let oldest = try c.exec("SELECT MIN(run_at) AS m FROM job WHERE state = 'queued' AND run_at <= $1", [.double(t)]).first?
                .string("m").flatMap(Double.init)
            let finished = try c.exec(
                "SELECT COUNT(*) AS n FROM job WHERE state IN ('done', 'failed', 'dead') AND finished_at >= $1", [.double(t - 3600)]
            ).first?.int("n") ?? 0
            let daemons = try c.exec("SELECT * FROM heartbeat ORDER BY host, pid").rows.map { r in
                DaemonHeartbeat(host: r.string("host") ?? "", pid: Int32(r.int("pid")), startedAt: r.date("started_at"), beatAt: r.date("beat_at"))
            }
            return QueueStats(
                counts: counts, oldestQueuedAge: oldest.map { max(0, t - $0) }, jobsPerMinuteLastHour: Double(finished) / 60, daemons: daemons)
        }
    }

    // MARK: feeds

    private static func feed(_ r: PGRow) -> FeedState {
        FeedState(
            id: r.string("id") ?? "", url: r.string("url") ?? "", effectiveURL: r.string("effective_url") ?? "", title: r.string("title"),
            etag: r.string("etag"), lastModified: r.string("last_modified"), lastFetchAt: r.optionalDate("last_fetch_at"),
            lastStatus: r.string("last_status"), lastHTTPStatus: r.optionalInt("last_http_status"), errorStreak: r.int("error_streak"),
            nextDueAt: r.date("next_due_at"), gone: r.bool("gone"), itemsDelivered: r.int("items_delivered"), configured: r.bool("configured"))
    }

    public func syncFeeds(_ feeds: [(id: String, url: String)], now: Date) throws(StoreError) {
        try run("sync feeds") { c in
            try c.exec("UPDATE feed SET configured = 0 WHERE configured = 1 AND NOT (id = ANY($1::text[]))", [PGValue.textArray(feeds.map(\.id))])
            for f in feeds {
                try c.exec(
                    """
                    INSERT INTO feed (id, url, effective_url, next_due_at) VALUES ($1, $2, $2, $3)
                    ON CONFLICT (id) DO UPDATE SET configured = 1,
                        effective_url = CASE WHEN feed.url = excluded.url THEN feed.effective_url ELSE excluded.url END,
                        etag = CASE WHEN feed.url = excluded.url THEN feed.etag ELSE NULL END,
                        last_modified = CASE WHEN feed.url = excluded.url THEN feed.last_modified ELSE NULL END,
                        gone = CASE WHEN feed.url = excluded.url THEN feed.gone ELSE 0 END,
                        error_streak = CASE WHEN feed.url = excluded.url THEN feed.error_streak ELSE 0 END,
                        next_due_at = CASE WHEN feed.url = excluded.url THEN feed.next_due_at ELSE excluded.next_due_at END,
                        url = excluded.url
                    """,
                    [.text(f.id), .text(f.url), Self.t(now)])
            }
        }
    }

    public func ensureFeed(id: String, url: String, now: Date) throws(StoreError) {
        try run("add feed") { c in
            try c.exec(
                "INSERT INTO feed (id, url, effective_url, next_due_at, configured) VALUES ($1, $2, $2, $3, 0) ON CONFLICT (id) DO NOTHING",
                [.text(id), .text(url), Self.t(now)])
        }
    }

    public func feedState(_ id: String) throws(StoreError) -> FeedState? {
        try run("read feed", transaction: false) { c in try c.exec("SELECT * FROM feed WHERE id = $1", [.text(id)]).first.map(Self.feed) }
    }

    public func feedStates() throws(StoreError) -> [FeedState] {
        try run("read feeds", transaction: false) { c in try c.exec("SELECT * FROM feed WHERE configured = 1 ORDER BY id").rows.map(Self.feed) }
    }

    public func nextDueAt() throws(StoreError) -> Date? {
        try run("next due time", transaction: false) { c in
            try c.exec("SELECT MIN(next_due_at) AS m FROM feed WHERE configured = 1 AND gone = 0").first?.optionalDate("m")
        }
    }

    public func dueFeeds(now: Date) throws(StoreError) -> [FeedState] {
        try run("due feeds", transaction: false) { c in
            try c.exec(
                "SELECT * FROM feed WHERE configured = 1 AND gone = 0 AND next_due_at <= $1 ORDER BY next_due_at, id", [Self.t(now)]
            ).rows.map(Self.feed)
        }
    }

    private static func saveFeed(_ c: PGConnection, _ f: FeedState, delivered: Int) throws {
        try c.exec(
            """
            UPDATE feed SET effective_url = $1, title = $2, etag = $3, last_modified = $4, last_fetch_at = $5, last_status = $6,
                last_http_status = $7, error_streak = $8, next_due_at = $9, gone = $10, items_delivered = items_delivered + $11
            WHERE id = $12
            """,
            [.text(f.effectiveURL), s(f.title), s(f.etag), s(f.lastModified), t(f.lastFetchAt), s(f.lastStatus), i(f.lastHTTPStatus),
             .int(Int64(f.errorStreak)), t(f.nextDueAt), b(f.gone), .int(Int64(delivered)), .text(f.id)])
    }

    // MARK: items

    public func knownItems(feedID: String, keys: [String]) throws(StoreError) -> [String: KnownItem] {
        guard !keys.isEmpty else { return [:] }
        return try run("read items", transaction: false) { c in
            var out: [String: KnownItem] = [:]
            for r in try c.exec("SELECT * FROM item WHERE feed_id = $1 AND item_key = ANY($2::text[])", [.text(feedID), PGValue.textArray(keys)]).rows {
                let k = KnownItem(
                    key: r.string("item_key") ?? "", itemID: r.string("item_id") ?? "", contentHash: r.string("content_hash") ?? "",
                    fileName: r.string("file_name") ?? "", delivered: r.bool("delivered"), dedup: DedupRecord.decode(r.string("dedup")))
                out[k.key] = k
            }
            return out
        }
    }

    public func recordIntents(feedID: String, now: Date, _ plan: (any DedupSession) throws -> DeliveryIntents) throws(StoreError) {
        try run("record intents") { c in
            // Dedup decisions of every node, one round at a time, until this transaction ends.
            try c.exec("SELECT pg_advisory_xact_lock($1)", [.int(Self.dedupLock)])
            let intents = try plan(PostgresDedupSession(c: c))
            for i in intents.items {
                try c.exec(
                    """
                    INSERT INTO item (feed_id, item_key, item_id, content_hash, file_name, delivered, first_seen_at, dedup)
                    VALUES ($1, $2, $3, $4, $5, 0, $6, $7)
                    ON CONFLICT (feed_id, item_key) DO UPDATE SET content_hash = excluded.content_hash,
                        file_name = excluded.file_name, delivered = 0, dedup = excluded.dedup
                    """,
                    [.text(feedID), .text(i.key), .text(i.itemID), .text(i.contentHash), .text(i.fileName), Self.t(now), Self.s(i.dedup?.json)])
            }
            for (h, n) in intents.paragraphs {
                try c.exec(
                    """
                    INSERT INTO feed_paragraph (feed_id, hash, items, last_seen) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (feed_id, hash) DO UPDATE SET items = feed_paragraph.items + excluded.items, last_seen = excluded.last_seen
                    """,
                    [.text(feedID), .int(h), .int(Int64(n)), Self.t(now)])
            }
        }
    }

    public func commitJob(_ jobID: Int64, owner: String, feed: FeedState, deliveredKeys: [String], result: JobResult, now: Date) throws(StoreError) {
        try run("commit job") { c in
            try c.exec(
                """
                UPDATE item SET delivered = 1, delivered_at = $1, deliveries = deliveries + 1
                WHERE feed_id = $2 AND item_key = ANY($3::text[])
                """,
                [Self.t(now), .text(feed.id), PGValue.textArray(deliveredKeys)])
            try Self.saveFeed(c, feed, delivered: deliveredKeys.count)
            try Self.markDone(c, jobID: jobID, owner: owner, result: result, now: now)
        }
    }

    public func failJob(_ jobID: Int64, owner: String, feed: FeedState, error: String, result: JobResult?, retryAt: Date, now: Date) throws(StoreError) -> JobState {
        try run("fail job") { c in
            try Self.saveFeed(c, feed, delivered: 0)
            return try Self.fail(c, jobID: jobID, owner: owner, error: error, result: result, retryAt: retryAt, now: now)
        }
    }

    // MARK: dedup

    public func knownParagraphs(feedID: String, hashes: [Int64]) throws(StoreError) -> Set<Int64> {
        guard !hashes.isEmpty else { return [] }
        return try run("read paragraph history", transaction: false) { c in
            Set(try c.exec(
                "SELECT DISTINCT hash FROM feed_paragraph WHERE hash = ANY($1::bigint[]) AND (feed_id = $2 OR items >= 2)",
                [PGValue.intArray(hashes), .text(feedID)]
            ).rows.map { $0.int64("hash") })
        }
    }

    public func pruneDedup(before: Date) throws(StoreError) -> Int {
        try run("prune dedup index") { c in
            let removed = try c.exec("DELETE FROM dedup_entry WHERE first_seen < $1", [Self.t(before)]).affected
            try c.exec("DELETE FROM feed_paragraph WHERE last_seen < $1", [Self.t(before)])
            return removed
        }
    }

    /// `indexBytes` as `SQLiteStore` counts it: the data, not the table's page overhead.
    public func dedupStats() throws(StoreError) -> DedupStats {
        try run("dedup stats", transaction: false) { c in
            let row = try c.exec(
                """
                SELECT COUNT(*) AS n, MIN(first_seen) AS oldest,
                    COALESCE(SUM(LENGTH(keys) + LENGTH(exact_keys) + LENGTH(sample) + LENGTH(item_id) + LENGTH(cluster)
                        + COALESCE(LENGTH(duplicate_of), 0) + LENGTH(feed_id) + 48), 0) AS bytes
                FROM dedup_entry
                """
            ).first!
            var methods: [String: Int] = [:]
            for r in try c.exec("SELECT method, COUNT(*) AS n FROM dedup_entry WHERE status = 'duplicate' GROUP BY method").rows {
                methods[r.string("method") ?? "?"] = r.int("n")
            }
            var sources: [String: Int] = [:]
            for r in try c.exec("SELECT source_name, COUNT(*) AS n FROM dedup_entry WHERE source_name IS NOT NULL GROUP BY source_name").rows {
                sources[r.string("source_name") ?? ""] = r.int("n")
            }
            let feeds = try c.exec(
                """
                SELECT feed_id, COUNT(*) AS n, SUM(CASE WHEN status = 'duplicate' THEN 1 ELSE 0 END) AS copies FROM dedup_entry
                GROUP BY feed_id ORDER BY SUM(CASE WHEN status = 'duplicate' THEN 1 ELSE 0 END) * 1.0 / COUNT(*) DESC, feed_id
                """
            ).rows.map { DedupStats.FeedRate(feedID: $0.string("feed_id") ?? "", items: $0.int("n"), copies: $0.int("copies")) }
            return DedupStats(
                entries: row.int("n"), oldest: row.optionalDate("oldest"), indexBytes: row.int("bytes"), copiesByMethod: methods,
                feeds: feeds, sources: sources)
        }
    }

    public func dedupEntry(itemID: String) throws(StoreError) -> (DedupEntry, DedupDetails)? {
        try run("read dedup entry", transaction: false) { c in
            try c.exec("SELECT * FROM dedup_entry WHERE item_id = $1 ORDER BY seq DESC LIMIT 1", [.text(itemID)]).first.map {
                (PostgresDedupSession.entry($0), PostgresDedupSession.details($0))
            }
        }
    }

    public func fileName(itemID: String) throws(StoreError) -> String? {
        try run("read item", transaction: false) { c in
            try c.exec(
                "SELECT file_name FROM item WHERE item_id = $1 AND file_name != '' ORDER BY first_seen_at DESC LIMIT 1", [.text(itemID)]
            ).first?.string("file_name")
        }
    }

    // MARK: daemons

    public func beat(host: String, pid: Int32, startedAt: Date, now: Date) throws(StoreError) {
        try run("heartbeat") { c in
            try c.exec(
                """
                INSERT INTO heartbeat (host, pid, started_at, beat_at) VALUES ($1, $2, $3, $4)
                ON CONFLICT (host, pid) DO UPDATE SET beat_at = excluded.beat_at
                """,
                [.text(host), .int(Int64(pid)), Self.t(startedAt), Self.t(now)])
        }
    }

    public func endHeartbeat(host: String, pid: Int32) throws(StoreError) {
        try run("end heartbeat") { c in
            try c.exec("DELETE FROM heartbeat WHERE host = $1 AND pid = $2", [.text(host), .int(Int64(pid))])
        }
    }

    public func listenForJobs() throws(StoreError) -> (any JobWakeups)? {
        let c = try PGConnection(url: url)
        do { try c.exec("LISTEN feedspool_jobs") } catch { throw .unavailable(path: PGConnection.redacted(url), reason: "LISTEN: \(error)") }
        return PostgresJobWakeups(connection: c, url: url)
    }

    private static func finishAttempt(_ c: PGConnection, jobID: Int64, outcome: String, error: String?, now: Date) throws {
        try c.exec(
            """
            UPDATE job_attempt SET finished_at = $1, outcome = $2, error = $3
            WHERE job_id = $4 AND number = (SELECT MAX(number) FROM job_attempt WHERE job_id = $4) AND finished_at IS NULL
            """,
            [t(now), .text(outcome), s(error), .int(jobID)])
    }
}

/// The dedup index rows inside one `recordIntents` transaction, which holds the
/// advisory lock: rounds on every node run one at a time, so `seq` order is commit order.
struct PostgresDedupSession: DedupSession {
    let c: PGConnection

    func entries(after seq: Int64, since: Date, limit: Int) throws -> [DedupEntry] {
        try c.exec(
            """
            SELECT seq, item_id, feed_id, first_seen, status, cluster, duplicate_of, similarity, method, has_file, words, keys, joins
            FROM dedup_entry WHERE seq > $1 AND first_seen >= $2 ORDER BY seq LIMIT $3
            """,
            [.int(seq), .double(since.timeIntervalSince1970), .int(Int64(limit))]
        ).rows.map(Self.entry)
    }

    func details(_ seqs: [Int64]) throws -> [Int64: DedupDetails] {
        guard !seqs.isEmpty else { return [:] }
        var out: [Int64: DedupDetails] = [:]
        for r in try c.exec("SELECT seq, exact_keys, sample, sample_whole FROM dedup_entry WHERE seq = ANY($1::bigint[])", [PGValue.intArray(seqs)]).rows {
            out[r.int64("seq")] = Self.details(r)
        }
        return out
    }

    func insert(_ e: DedupEntry, details d: DedupDetails) throws -> Int64 {
        try c.exec(
            """
            INSERT INTO dedup_entry (item_id, feed_id, first_seen, status, cluster, duplicate_of, similarity, method, has_file,
                words, keys, exact_keys, sample, sample_whole, joins, source_name)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
            RETURNING seq
            """,
            [.text(e.itemID), .text(e.feedID), .double(e.firstSeen.timeIntervalSince1970), .text(e.record.status.rawValue),
             .text(e.record.cluster), e.record.duplicateOf.map { .text($0) }, e.record.similarity.map { .double($0) },
             e.record.method.map { .text($0.rawValue) }, .int(e.hasFile ? 1 : 0), .int(Int64(e.words)), .bytes(Blob.pack(e.keys)),
             .bytes(Blob.pack(d.exactKeys)), .bytes(Blob.pack(d.sample)), .int(d.sampleIsWhole ? 1 : 0),
             e.joins.isEmpty ? nil : .text(e.joins.joined(separator: ",")), e.sourceName.map { .text($0) }]
        ).first!.int64("seq")
    }

    static func entry(_ r: PGRow) -> DedupEntry {
        DedupEntry(
            seq: r.int64("seq"), itemID: r.string("item_id") ?? "", feedID: r.string("feed_id") ?? "", firstSeen: r.date("first_seen"),
            record: DedupRecord(
                status: DedupRecord.Status(rawValue: r.string("status") ?? "") ?? .original, cluster: r.string("cluster") ?? "",
                duplicateOf: r.string("duplicate_of"), similarity: r.string("similarity").flatMap(Double.init),
                method: r.string("method").flatMap(DedupRecord.Method.init(rawValue:))),
            hasFile: r.bool("has_file"), words: r.int("words"), keys: Blob.unpack(r.bytes("keys")),
            joins: r.string("joins")?.split(separator: ",").map(String.init) ?? [], sourceName: nil)
    }

    static func details(_ r: PGRow) -> DedupDetails {
        DedupDetails(exactKeys: Blob.unpack(r.bytes("exact_keys")), sample: Blob.unpack(r.bytes("sample")), sampleIsWhole: r.bool("sample_whole"))
    }
}

/// A second connection that `LISTEN`s to `feedspool_jobs`; its socket is watched
/// by a Dispatch read source. `@unchecked Sendable`: used only on the daemon's queue.
final class PostgresJobWakeups: JobWakeups, @unchecked Sendable {
    private let connection: PGConnection
    private let url: String

    init(connection: PGConnection, url: String) {
        self.connection = connection
        self.url = url
    }

    var fileDescriptor: Int32 { connection.socket }

    func drain() throws(StoreError) -> Bool {
        do {
            return try !connection.notifications().isEmpty
        } catch {
            throw .unavailable(path: PGConnection.redacted(url), reason: "the LISTEN connection was lost: \(error)")
        }
    }
}

/// Fixed-width integers as little-endian bytes, the index's compact columns (the
/// layout `RowValues.blob` writes and `RawColumn.integers` reads in the SQLite store).
enum Blob {
    static func pack<T: FixedWidthInteger>(_ values: [T]) -> Data {
        // One copy of the whole array (an append per value was a tenth of a decision's time).
        let little = values.map(\.littleEndian)
        return little.withUnsafeBytes { Data($0) }
    }

    static func unpack<T: FixedWidthInteger>(_ data: Data?) -> [T] {
        guard let data else { return [] }
        let size = MemoryLayout<T>.size
        var out: [T] = []
        out.reserveCapacity(data.count / size)
        data.withUnsafeBytes { raw in
            var i = 0
            while i + size <= raw.count {
                out.append(T(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: T.self)))
                i += size
            }
        }
        return out
    }
}
