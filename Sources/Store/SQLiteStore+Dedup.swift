import FeedspoolModel
import Foundation
import GRDB
import GRDBSQLite

/// The dedup index rows inside one `recordIntents` transaction (which holds
/// SQLite's write lock, so rounds from other processes wait for it).
final class SQLiteDedupSession: DedupSession {
    let db: Database
    /// The two statements of the hot path, looked up in GRDB's cache once per round
    /// (the lookup hashes the SQL text, a tenth of an insert's cost).
    private var detailsStatement: Statement?
    private var insertStatement: Statement?
    private var entriesStatement: Statement?
    /// The inserted row's text and blob values, reused from row to row.
    private var row = RowValues()

    init(db: Database) {
        self.db = db
    }

    func entries(after seq: Int64, since: Date, limit: Int) throws -> [DedupEntry] {
        // The rowid range after `seq` (`+first_seen` keeps it so, should an index on
        // first_seen come back: through it SQLite would visit every entry of the window).
        // Every round asks, and the answer is usually nothing: bound and stepped with
        // SQLite's own calls, as GRDB's arguments and row cursor cost more than the query.
        if entriesStatement == nil {
            entriesStatement = try db.cachedStatement(
                sql: "SELECT \(Self.entryColumns) FROM dedup_entry WHERE seq > ? AND +first_seen >= ? ORDER BY seq LIMIT ?")
        }
        let raw = entriesStatement!.sqliteStatement
        sqlite3_reset(raw)
        defer { sqlite3_reset(raw) }
        try RawColumn.check(sqlite3_bind_int64(raw, 1, seq), db)
        try RawColumn.check(sqlite3_bind_double(raw, 2, since.timeIntervalSince1970), db)
        try RawColumn.check(sqlite3_bind_int64(raw, 3, Int64(limit)), db)
        var out: [DedupEntry] = []
        while true {
            let rc = sqlite3_step(raw)
            if rc == SQLITE_DONE { return out }
            guard rc == SQLITE_ROW else { throw RawColumn.error(db, rc) }
            out.append(Self.entry(raw))
        }
    }

    func details(_ seqs: [Int64]) throws -> [Int64: DedupDetails] {
        guard !seqs.isEmpty else { return [:] }
        // Point lookups by rowid through one prepared statement, read with SQLite's
        // own calls: a few per item, and GRDB's row decoding cost more than the lookup.
        if detailsStatement == nil {
            detailsStatement = try db.cachedStatement(sql: "SELECT exact_keys, sample, sample_whole FROM dedup_entry WHERE seq = ?")
        }
        let raw = detailsStatement!.sqliteStatement
        defer { sqlite3_reset(raw) }
        var out: [Int64: DedupDetails] = [:]
        out.reserveCapacity(seqs.count)
        for seq in seqs {
            sqlite3_reset(raw)
            try RawColumn.check(sqlite3_bind_int64(raw, 1, seq), db)
            let rc = sqlite3_step(raw)
            if rc == SQLITE_ROW {
                out[seq] = DedupDetails(
                    exactKeys: RawColumn.integers(raw, 0), sample: RawColumn.integers(raw, 1), sampleIsWhole: sqlite3_column_int64(raw, 2) != 0)
            } else if rc != SQLITE_DONE {
                throw RawColumn.error(db, rc)
            }
        }
        return out
    }

    func insert(_ e: DedupEntry, details d: DedupDetails) throws -> Int64 {
        if insertStatement == nil {
            insertStatement = try db.cachedStatement(
                sql: """
                    INSERT INTO dedup_entry (item_id, feed_id, first_seen, status, cluster, duplicate_of, similarity, method, has_file,
                        words, keys, exact_keys, sample, sample_whole, joins, source_name)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
        }
        // Bound with SQLite's own calls (GRDB's argument boxing was a third of the
        // insert); every parameter is bound each time, so none is left from the last row.
        // The text and blob values are copied once into `row`, and SQLite reads them
        // from there (SQLITE_STATIC): its own copies, a malloc, a copy and a free per
        // value, were a quarter of the insert.
        let raw = insertStatement!.sqliteStatement
        sqlite3_reset(raw)
        defer { sqlite3_reset(raw) }
        row.clear()
        row.text(1, e.itemID)
        row.text(2, e.feedID)
        row.text(4, e.record.status.rawValue)
        row.text(5, e.record.cluster)
        row.text(6, e.record.duplicateOf)
        row.text(8, e.record.method?.rawValue)
        row.blob(11, e.keys)
        row.blob(12, d.exactKeys)
        row.blob(13, d.sample)
        row.list(15, e.joins)
        row.text(16, e.sourceName)
        // A bind fails only for a value SQLite will not take (too big, out of memory):
        // then nothing is inserted and the round fails, rather than a column left NULL.
        let rc = try row.bound(to: raw, db) {
            try RawColumn.check(sqlite3_bind_double(raw, 3, e.firstSeen.timeIntervalSince1970), db)
            try RawColumn.check(e.record.similarity.map { sqlite3_bind_double(raw, 7, $0) } ?? sqlite3_bind_null(raw, 7), db)
            try RawColumn.check(sqlite3_bind_int64(raw, 9, e.hasFile ? 1 : 0), db)
            try RawColumn.check(sqlite3_bind_int64(raw, 10, Int64(e.words)), db)
            try RawColumn.check(sqlite3_bind_int64(raw, 14, d.sampleIsWhole ? 1 : 0), db)
            return sqlite3_step(raw)
        }
        guard rc == SQLITE_DONE else { throw RawColumn.error(db, rc) }
        return sqlite3_last_insert_rowid(db.sqliteConnection)
    }

    /// The columns `entry` reads, in its order.
    static let entryColumns = "seq, item_id, feed_id, first_seen, status, cluster, duplicate_of, similarity, method, has_file, words, keys, joins"

    /// An entry from the current row of a query that selects `entryColumns` first.
    static func entry(_ raw: OpaquePointer) -> DedupEntry {
        DedupEntry(
            seq: sqlite3_column_int64(raw, 0), itemID: RawColumn.text(raw, 1) ?? "", feedID: RawColumn.text(raw, 2) ?? "",
            firstSeen: Date(timeIntervalSince1970: sqlite3_column_double(raw, 3)),
            record: DedupRecord(
                status: RawColumn.text(raw, 4).flatMap(DedupRecord.Status.init(rawValue:)) ?? .original, cluster: RawColumn.text(raw, 5) ?? "",
                duplicateOf: RawColumn.text(raw, 6),
                similarity: sqlite3_column_type(raw, 7) == SQLITE_NULL ? nil : sqlite3_column_double(raw, 7),
                method: RawColumn.text(raw, 8).flatMap(DedupRecord.Method.init(rawValue:))),
            hasFile: sqlite3_column_int64(raw, 9) != 0, words: Int(sqlite3_column_int64(raw, 10)), keys: RawColumn.integers(raw, 11),
            joins: RawColumn.text(raw, 12)?.split(separator: ",").map(String.init) ?? [])
    }
}

/// Text and blob values of one row in one buffer, bound as SQLITE_STATIC: SQLite
/// reads them in place while the statement runs, and `bound` clears the bindings
/// before the buffer can move or change.
struct RowValues {
    private var bytes: [UInt8] = []
    private var spans: [(parameter: Int32, start: Int, count: Int, kind: Kind)] = []
    private enum Kind { case text, blob, null }

    mutating func clear() {
        bytes.removeAll(keepingCapacity: true)
        spans.removeAll(keepingCapacity: true)
    }

    mutating func text(_ parameter: Int32, _ value: String?) {
        guard var value else { return spans.append((parameter, 0, 0, .null)) }
        let start = bytes.count
        value.withUTF8 { bytes.append(contentsOf: $0) }
        spans.append((parameter, start, bytes.count - start, .text))
    }

    /// `values` joined by commas; NULL when there are none.
    mutating func list(_ parameter: Int32, _ values: [String]) {
        guard !values.isEmpty else { return spans.append((parameter, 0, 0, .null)) }
        let start = bytes.count
        for (k, v) in values.enumerated() {
            if k > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: v.utf8)
        }
        spans.append((parameter, start, bytes.count - start, .text))
    }

    /// Fixed-width integers as a little-endian blob (see `Blob`); an empty array is a
    /// zero-length blob, not NULL.
    mutating func blob<T: FixedWidthInteger>(_ parameter: Int32, _ values: [T]) {
        let start = bytes.count
        #if _endian(little)
            values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        #else
            values.map(\.littleEndian).withUnsafeBytes { bytes.append(contentsOf: $0) }
        #endif
        spans.append((parameter, start, bytes.count - start, .blob))
    }

    /// Binds the values to `statement`, runs `body` (the other binds and the step),
    /// and clears every binding before the buffer is let go.
    func bound(to statement: OpaquePointer, _ db: Database, _ body: () throws -> Int32) throws -> Int32 {
        try bytes.withUnsafeBufferPointer { buffer in
            defer { sqlite3_clear_bindings(statement) }
            // A zero-length value still needs a pointer that is not NULL.
            let base = buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!
            for s in spans {
                let rc: Int32
                switch s.kind {
                case .null:
                    rc = sqlite3_bind_null(statement, s.parameter)
                case .text:
                    rc = (base + s.start).withMemoryRebound(to: CChar.self, capacity: max(s.count, 1)) {
                        sqlite3_bind_text(statement, s.parameter, $0, Int32(s.count), nil)  // SQLITE_STATIC
                    }
                case .blob:
                    rc = sqlite3_bind_blob(statement, s.parameter, base + s.start, Int32(s.count), nil)  // SQLITE_STATIC
                }
                try RawColumn.check(rc, db)
            }
            return try body()
        }
    }
}

/// Reading the index's columns with SQLite's C calls, on statements GRDB
/// prepared and caches (the hot path of every dedup decision).
enum RawColumn {
    /// A text column; nil for NULL.
    static func text(_ statement: OpaquePointer, _ column: Int32) -> String? {
        guard let p = sqlite3_column_text(statement, column) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(statement, column))), as: UTF8.self)
    }

    /// A blob column of little-endian integers; empty for NULL.
    static func integers<T: FixedWidthInteger>(_ statement: OpaquePointer, _ column: Int32) -> [T] {
        let count = Int(sqlite3_column_bytes(statement, column)) / MemoryLayout<T>.size
        guard count > 0, let base = sqlite3_column_blob(statement, column) else { return [] }
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count { buffer[i] = T(littleEndian: base.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)) }
            initialized = count
        }
    }

    static func check(_ rc: Int32, _ db: Database) throws {
        if rc != SQLITE_OK { throw error(db, rc) }
    }

    static func error(_ db: Database, _ rc: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
    }
}

extension SQLiteStore {
    public func knownParagraphs(feedID: String, hashes: [Int64]) throws(StoreError) -> Set<Int64> {
        guard !hashes.isEmpty else { return [] }
        return try read("read paragraph history") { db in
            Set(
                try Int64.fetchAll(
                    db, sql: """
                        SELECT DISTINCT hash FROM feed_paragraph
                        WHERE hash IN (SELECT value FROM json_each(?)) AND (feed_id = ? OR items >= 2)
                        """,
                    arguments: [Self.jsonList(hashes), feedID]))
        }
    }

    public func pruneDedup(before: Date) throws(StoreError) -> Int {
        try write("prune dedup index") { db in
            // Entries are appended as they are first seen, so the expired ones come first
            // in seq order: the first entry still inside the window is found by walking
            // from the oldest (reading only what is then deleted; there is no index on
            // first_seen, see migration v7), and everything before it goes. An entry
            // stamped more than a day ahead of now (a clock set wrong) does not count as
            // inside the window, or it would stop pruning until that date. The newest
            // entry always stays: a new one then takes its seq + 1, never a seq used before.
            let ahead = max(Date(), before).addingTimeInterval(86400)
            guard let newest = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM dedup_entry") else { return 0 }
            let firstKept = try Int64.fetchOne(
                db, sql: "SELECT seq FROM dedup_entry WHERE first_seen >= ? AND first_seen <= ? ORDER BY seq LIMIT 1",
                arguments: [before.timeIntervalSince1970, ahead.timeIntervalSince1970])
            try db.execute(sql: "DELETE FROM dedup_entry WHERE seq < ?", arguments: [min(firstKept ?? newest, newest)])
            let removed = db.changesCount
            try db.execute(sql: "DELETE FROM feed_paragraph WHERE last_seen < ?", arguments: [before.timeIntervalSince1970])
            return removed
        }
    }

    /// `indexBytes` adds up the variable-length columns and 48 bytes per row for the
    /// fixed-width ones (seq, times, counts, flags): the data, not the file's page overhead.
    public func dedupStats() throws(StoreError) -> DedupStats {
        try read("dedup stats") { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) AS n, MIN(first_seen) AS oldest,
                        COALESCE(SUM(LENGTH(keys) + LENGTH(exact_keys) + LENGTH(sample) + LENGTH(item_id) + LENGTH(cluster)
                            + COALESCE(LENGTH(duplicate_of), 0) + LENGTH(feed_id) + 48), 0) AS bytes
                    FROM dedup_entry
                    """)!
            var methods: [String: Int] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT method, COUNT(*) AS n FROM dedup_entry WHERE status = 'duplicate' GROUP BY method") {
                methods[r["method"] ?? "?"] = r["n"]
            }
            let feeds = try Row.fetchAll(
                db,
                sql: """
                    SELECT feed_id, COUNT(*) AS n, SUM(status = 'duplicate') AS copies FROM dedup_entry
                    GROUP BY feed_id ORDER BY copies * 1.0 / COUNT(*) DESC, feed_id
                    """
            ).map { DedupStats.FeedRate(feedID: $0["feed_id"], items: $0["n"], copies: $0["copies"]) }
            var sources: [String: Int] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT source_name, COUNT(*) AS n FROM dedup_entry WHERE source_name IS NOT NULL GROUP BY source_name") {
                sources[r["source_name"]] = r["n"]
            }
            let oldest: Double? = row["oldest"]
            return DedupStats(
                entries: row["n"], oldest: oldest.map(Date.init(timeIntervalSince1970:)), indexBytes: row["bytes"], copiesByMethod: methods,
                feeds: feeds, sources: sources)
        }
    }

    /// No index serves this (see migration v6): the table is read from its newest
    /// entry back, so a recent item is found at once, and an unknown id costs a whole
    /// pass (about half a second at a million entries). Only `dedup explain` asks.
    public func dedupEntry(itemID: String) throws(StoreError) -> (DedupEntry, DedupDetails)? {
        try read("read dedup entry") { db in
            let statement = try db.makeStatement(
                sql: """
                    SELECT \(SQLiteDedupSession.entryColumns), exact_keys, sample, sample_whole
                    FROM dedup_entry WHERE item_id = ? ORDER BY seq DESC LIMIT 1
                    """)
            try statement.setArguments([itemID])
            let raw = statement.sqliteStatement
            let rc = sqlite3_step(raw)
            if rc == SQLITE_DONE { return nil }
            guard rc == SQLITE_ROW else { throw RawColumn.error(db, rc) }
            return (
                SQLiteDedupSession.entry(raw),
                DedupDetails(exactKeys: RawColumn.integers(raw, 13), sample: RawColumn.integers(raw, 14), sampleIsWhole: sqlite3_column_int64(raw, 15) != 0)
            )
        }
    }

    public func fileName(itemID: String) throws(StoreError) -> String? {
        try read("read item") { db in
            try String.fetchOne(
                db, sql: "SELECT file_name FROM item WHERE item_id = ? AND file_name != '' ORDER BY first_seen_at DESC LIMIT 1",
                arguments: [itemID])
        }
    }
}

extension SQLiteStore {
    /// SQLite cannot announce anything: the daemon's maintenance timer finds new jobs.
    public func listenForJobs() throws(StoreError) -> (any JobWakeups)? { nil }
}
