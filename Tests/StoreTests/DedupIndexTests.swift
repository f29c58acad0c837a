import FeedspoolModel
import Foundation
import GRDB
@testable import Store
import Testing

/// The SQLite store's dedup index rows.
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
}
