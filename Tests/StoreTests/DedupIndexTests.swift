import FeedspoolModel
import Foundation
import GRDB
@testable import Store
import Testing

/// The SQLite store's dedup index rows: their seqs, pruning, and the v7 upgrade.
@Suite struct DedupIndexTests {
    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    /// A folder for one test's database, removed when the test ends.
    final class Folder {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("feedspool-dedup-index-\(UUID().uuidString)")
        var db: String { url.appendingPathComponent("s.db").path }
        init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(at: url) }
    }

    static func entry(_ n: Int, at seen: Date, joins: [String] = [], source: String? = nil) -> (DedupEntry, DedupDetails) {
        let id = String(format: "%032x", n)
        return (
            DedupEntry(
                itemID: id, feedID: "feed\(n % 3)", firstSeen: seen, record: .original(id), hasFile: true, words: 100 + n, keys: [UInt64(n), 7],
                joins: joins, sourceName: source),
            DedupDetails(exactKeys: [UInt64(n) << 32], sample: [1, 2, UInt32(n)], sampleIsWhole: n % 2 == 0)
        )
    }

    /// Inserts entries in one round; returns their seqs.
    static func insert(_ store: SQLiteStore, _ entries: [(DedupEntry, DedupDetails)]) throws -> [Int64] {
        var seqs: [Int64] = []
        try store.recordIntents(feedID: "f", now: t0) { session in
            for (e, d) in entries { seqs.append(try session.insert(e, details: d)) }
            return DeliveryIntents(items: [])
        }
        return seqs
    }

    static func seqs(_ store: SQLiteStore) throws -> [Int64] {
        try store.database.read { try Int64.fetchAll($0, sql: "SELECT seq FROM dedup_entry ORDER BY seq") }
    }

    @Test func rowsReadBackAsWritten() throws {
        let folder = try Folder()
        let store = try SQLiteStore(path: folder.db)
        let written = [Self.entry(1, at: Self.t0), Self.entry(2, at: Self.t0 + 1, joins: ["a", "b"], source: "Racurs")]
        let seqs = try Self.insert(store, written)
        var read: [DedupEntry] = []
        var details: [Int64: DedupDetails] = [:]
        try store.recordIntents(feedID: "f", now: Self.t0) { session in
            read = try session.entries(after: 0, since: Self.t0, limit: 10)
            details = try session.details(seqs)
            return DeliveryIntents(items: [])
        }
        #expect(read.count == 2)
        for (k, (e, d)) in written.enumerated() {
            var expected = e
            expected.seq = seqs[k]
            var got = read[k]
            got.sourceName = expected.sourceName  // the catch-up query does not read it back
            #expect(got == expected)
            #expect(details[seqs[k]] == d)
        }
        // The blob of an empty array is empty, not NULL (the column is NOT NULL).
        var empty = Self.entry(3, at: Self.t0)
        empty.0.keys = []
        empty.1 = DedupDetails(exactKeys: [], sample: [], sampleIsWhole: true)
        let s3 = try Self.insert(store, [empty])
        var emptyKeys: [UInt64]?
        var emptyDetails: DedupDetails?
        try store.recordIntents(feedID: "f", now: Self.t0) { session in
            emptyKeys = try session.entries(after: seqs[1], since: Self.t0, limit: 10).first?.keys
            emptyDetails = try session.details(s3)[s3[0]]
            return DeliveryIntents(items: [])
        }
        #expect(emptyKeys == [])
        #expect(emptyDetails == empty.1)
    }

    @Test func pruningKeepsTheNewestEntrySoThatNoSeqComesBack() throws {
        let folder = try Folder()
        let store = try SQLiteStore(path: folder.db)
        let seqs = try Self.insert(store, (1...4).map { Self.entry($0, at: Self.t0 + Double($0)) })
        // All four have left the window; the newest stays.
        #expect(try store.pruneDedup(before: Self.t0 + 100) == 3)
        #expect(try Self.seqs(store) == [seqs[3]])
        #expect(try Self.insert(store, [Self.entry(5, at: Self.t0 + 200)]) == [seqs[3] + 1])
        // A later prune then lets it go.
        #expect(try store.pruneDedup(before: Self.t0 + 150) == 1)
        #expect(try Self.seqs(store) == [seqs[3] + 1])
    }

    @Test func anEntryStampedInTheFutureDoesNotStopPruning() throws {
        let folder = try Folder()
        let store = try SQLiteStore(path: folder.db)
        let tenYears = 10 * 365 * 86400.0
        let seqs = try Self.insert(
            store,
            [
                Self.entry(1, at: Self.t0), Self.entry(2, at: Date().addingTimeInterval(tenYears)),  // a clock set wrong
                Self.entry(3, at: Self.t0 + 10), Self.entry(4, at: Self.t0 + 5000), Self.entry(5, at: Self.t0 + 6000),
            ])
        #expect(try store.pruneDedup(before: Self.t0 + 4000) == 3)
        #expect(try Self.seqs(store) == Array(seqs[3...]))
    }

    @Test func theV7UpgradeKeepsEveryEntryAndItsSeq() throws {
        let folder = try Folder()
        // A store as the previous release left it: migrated up to v6, with entries.
        let old = try DatabaseQueue(path: folder.db)
        try SQLiteStore.migrator.migrate(old, upTo: "v6-dedup-entry-without-item-index")
        try old.write { db in
            for (seq, n) in [(5, 1), (9, 2)] {
                try db.execute(
                    sql: """
                        INSERT INTO dedup_entry (seq, item_id, feed_id, first_seen, status, cluster, has_file, words, keys, exact_keys, sample,
                            sample_whole, joins, source_name)
                        VALUES (?, ?, 'f', ?, 'original', ?, 1, 100, x'0700000000000000', x'', x'01000000', 1, NULL, 'Racurs')
                        """, arguments: [seq, "item\(n)", Self.t0.timeIntervalSince1970 + Double(n), "item\(n)"])
            }
        }
        try old.close()

        let store = try SQLiteStore(path: folder.db)
        #expect(try Self.seqs(store) == [5, 9])
        let schema = try store.database.read {
            try String.fetchOne($0, sql: "SELECT sql FROM sqlite_schema WHERE name = 'dedup_entry'")
        }
        #expect(schema?.contains("AUTOINCREMENT") == false)
        #expect(try store.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM sqlite_schema WHERE tbl_name = 'dedup_entry' AND type = 'index'") } == 0)
        let sources = try store.database.read { try String.fetchAll($0, sql: "SELECT source_name FROM dedup_entry ORDER BY seq") }
        #expect(sources == ["Racurs", "Racurs"])
        #expect(try Self.insert(store, [Self.entry(3, at: Self.t0 + 3)]) == [10])
        #expect(try store.database.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
    }
}
