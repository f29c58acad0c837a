import Foundation
import GRDB
@testable import Store
import Testing

/// The SQLite store's background checkpoints, on a real database file.
@Suite struct CheckpointTests {
    static let frame = 4096 + 24  // a WAL frame: page and header

    /// Writes `rounds` transactions of about four pages each.
    static func fill(_ store: SQLiteStore, rounds: Int) throws {
        for i in 0..<rounds {
            try store.write("fill") { db in
                try db.execute(sql: "CREATE TABLE IF NOT EXISTS filler (n INTEGER, b BLOB)")
                try db.execute(sql: "INSERT INTO filler VALUES (?, randomblob(14000))", arguments: [i])
            }
        }
    }

    @Test func theWALStaysBoundedAndCheckpointsRunInTheBackground() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("feedspool-ckpt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("s.db").path
        // 300 rounds write about 1,200 frames: SQLite's own checkpoint (at 1,000) would
        // let the WAL reach about 1,000 frames, and none at all would keep all of them.
        let store = try SQLiteStore(path: path, checkpointEvery: 25, checkpointLimit: 200)
        var largest = 0
        for _ in 0..<10 {
            try Self.fill(store, rounds: 30)
            let wal = (try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
            largest = max(largest, wal)
        }
        store.drainCheckpoints()
        let progress = store.checkpoints
        #expect(progress.completed > 0, "no background checkpoint ran")
        #expect(progress.copiedFrames > 0, "background checkpoints ran but copied nothing")
        #expect(progress.lastError == nil)
        // Twice the limit, plus the commits made while a background checkpoint holds the
        // checkpoint lock (the writer's own checkpoint is then busy and tries again at
        // the next commit): well under the 1,000 frames SQLite's own checkpoint allows.
        #expect(largest <= 32 + 3 * 200 * Self.frame, "WAL reached \(largest / Self.frame) frames")
        #expect(largest >= 150 * Self.frame, "the WAL never came near the limit: the test did not exercise it")

        // Nothing lost, and the file is sound, for this connection and a new one.
        let rows = try store.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM filler") }
        #expect(rows == 300)
        let reopened = try DatabaseQueue(path: path)
        #expect(try reopened.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
        #expect(try reopened.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM filler") } == 300)
    }

    @Test func aStoreClosesWithACheckpointPending() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("feedspool-ckpt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("s.db").path
        for round in 1...5 {
            let store = try SQLiteStore(path: path, checkpointEvery: 10, checkpointLimit: 1000)
            try Self.fill(store, rounds: 20)  // past `every`: a background checkpoint is asked for
            _ = consume store  // closed while it may run
            let again = try SQLiteStore(path: path, checkpointEvery: 10, checkpointLimit: 1000)
            #expect(try again.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM filler") } == 20 * round)
        }
    }
}
