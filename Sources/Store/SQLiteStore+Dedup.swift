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

    init(db: Database) {
        self.db = db
    }

    func entries(after seq: Int64, since: Date, limit: Int) throws -> [DedupEntry] {
        // `+first_seen`: walk the rowid range after `seq`; through the first_seen index
        // SQLite would visit every entry of the window on each round.
        // Cached: every round asks, usually for nothing, and parsing the SQL each time
        // cost more than the answer.
        let statement = try db.cachedStatement(
            sql: """
                SELECT seq, item_id, feed_id, first_seen, status, cluster, duplicate_of, similarity, method, has_file, words, keys, joins
                FROM dedup_entry WHERE seq > ? AND +first_seen >= ? ORDER BY seq LIMIT ?
                """)
        return try Row.fetchAll(statement, arguments: [seq, since.timeIntervalSince1970, limit]).map(Self.entry)
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
        let raw = insertStatement!.sqliteStatement
        sqlite3_reset(raw)
        defer { sqlite3_reset(raw) }
        // A bind fails only for a value SQLite will not take (too big, out of memory):
        // then nothing is inserted and the round fails, rather than a column left NULL.
        try RawColumn.check(RawColumn.bind(raw, 1, e.itemID), db)
        try RawColumn.check(RawColumn.bind(raw, 2, e.feedID), db)
        try RawColumn.check(sqlite3_bind_double(raw, 3, e.firstSeen.timeIntervalSince1970), db)
        try RawColumn.check(RawColumn.bind(raw, 4, e.record.status.rawValue), db)
        try RawColumn.check(RawColumn.bind(raw, 5, e.record.cluster), db)
        try RawColumn.check(RawColumn.bind(raw, 6, e.record.duplicateOf), db)
        try RawColumn.check(e.record.similarity.map { sqlite3_bind_double(raw, 7, $0) } ?? sqlite3_bind_null(raw, 7), db)
        try RawColumn.check(RawColumn.bind(raw, 8, e.record.method?.rawValue), db)
        try RawColumn.check(sqlite3_bind_int64(raw, 9, e.hasFile ? 1 : 0), db)
        try RawColumn.check(sqlite3_bind_int64(raw, 10, Int64(e.words)), db)
        try RawColumn.check(RawColumn.bind(raw, 11, e.keys), db)
        try RawColumn.check(RawColumn.bind(raw, 12, d.exactKeys), db)
        try RawColumn.check(RawColumn.bind(raw, 13, d.sample), db)
        try RawColumn.check(sqlite3_bind_int64(raw, 14, d.sampleIsWhole ? 1 : 0), db)
        try RawColumn.check(RawColumn.bind(raw, 15, e.joins.isEmpty ? nil : e.joins.joined(separator: ",")), db)
        try RawColumn.check(RawColumn.bind(raw, 16, e.sourceName), db)
        let rc = sqlite3_step(raw)
        guard rc == SQLITE_DONE else { throw RawColumn.error(db, rc) }
        return sqlite3_last_insert_rowid(db.sqliteConnection)
    }

    static func entry(_ r: Row) -> DedupEntry {
        DedupEntry(
            seq: r["seq"], itemID: r["item_id"], feedID: r["feed_id"], firstSeen: Date(timeIntervalSince1970: r["first_seen"]),
            record: DedupRecord(
                status: DedupRecord.Status(rawValue: r["status"]) ?? .original, cluster: r["cluster"], duplicateOf: r["duplicate_of"],
                similarity: r["similarity"], method: (r["method"] as String?).flatMap(DedupRecord.Method.init(rawValue:))),
            hasFile: r["has_file"], words: r["words"], keys: Blob.unpack(r["keys"]),
            joins: (r["joins"] as String?)?.split(separator: ",").map(String.init) ?? [])
    }

    static func details(_ r: Row) -> DedupDetails {
        DedupDetails(exactKeys: Blob.unpack(r["exact_keys"]), sample: Blob.unpack(r["sample"]), sampleIsWhole: r["sample_whole"])
    }
}

/// Binding and reading the index's columns with SQLite's C calls, on statements
/// GRDB prepared and caches (the hot path of every dedup decision).
enum RawColumn {
    /// SQLite copies the value before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    static func bind(_ statement: OpaquePointer, _ index: Int32, _ text: String?) -> Int32 {
        guard var text else { return sqlite3_bind_null(statement, index) }
        return text.withUTF8 { u in
            guard let base = u.baseAddress, !u.isEmpty else { return sqlite3_bind_text(statement, index, "", 0, transient) }
            return base.withMemoryRebound(to: CChar.self, capacity: u.count) { sqlite3_bind_text(statement, index, $0, Int32(u.count), transient) }
        }
    }

    /// Fixed-width integers as a little-endian blob (see `Blob`).
    static func bind<T: FixedWidthInteger>(_ statement: OpaquePointer, _ index: Int32, _ values: [T]) -> Int32 {
        #if _endian(little)
            let little = values  // already little-endian: no copy
        #else
            let little = values.map(\.littleEndian)
        #endif
        return little.withUnsafeBytes { raw in
            // An empty array still binds a zero-length blob, not NULL (as `Blob.pack` did).
            sqlite3_bind_blob(statement, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count), transient)
        }
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

/// Fixed-width integers as little-endian bytes, the index's compact columns.
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
            try db.execute(sql: "DELETE FROM dedup_entry WHERE first_seen < ?", arguments: [before.timeIntervalSince1970])
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
            try Row.fetchOne(db, sql: "SELECT * FROM dedup_entry WHERE item_id = ? ORDER BY seq DESC LIMIT 1", arguments: [itemID]).map {
                (SQLiteDedupSession.entry($0), SQLiteDedupSession.details($0))
            }
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
