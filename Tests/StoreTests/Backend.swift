import Foundation
import Store
import TestSupport
import Testing

@Suite struct BackendTests {
    @Test(.enabled(if: StoreBackend.postgresURL != nil, "FEEDSPOOL_TEST_POSTGRES is not set: the store suite ran on SQLite only (Scripts/test starts a PostgreSQL server)"))
    func postgresIsThere() throws {
        let store = try PostgresStore(url: try StoreBackend.scratchPostgres())
        #expect(try store.queueStats(now: Date()).counts[.queued] == 0)
    }

    @Test func anUnreachableServerSaysSo() {
        do {
            _ = try PostgresStore(url: "postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
            Issue.record("connected to port 1")
        } catch {
            #expect(error.message.hasPrefix("postgres://nobody@127.0.0.1:1/none?connect_timeout=2: the store cannot be used"), "\(error.message)")
        }
    }
}

@Suite struct JobWakeupTests {
    @Test(.enabled(if: StoreBackend.postgresURL != nil, "FEEDSPOOL_TEST_POSTGRES is not set: LISTEN/NOTIFY not tested"))
    func anEnqueueOnAnotherConnectionWakesTheListener() throws {
        let url = try StoreBackend.scratchPostgres()
        let listener = try PostgresStore(url: url)
        let wakeups = try #require(try listener.listenForJobs())
        #expect(try wakeups.drain() == false)
        let other = try PostgresStore(url: url)  // another node
        _ = try other.enqueue(feedID: "racurs", url: "u", kind: .manual, runAt: Date(), maxAttempts: 3, now: Date())
        var fds = pollfd(fd: wakeups.fileDescriptor, events: Int16(POLLIN), revents: 0)
        #expect(poll(&fds, 1, 5000) == 1, "no notification within 5 s")
        #expect(try wakeups.drain() == true)
        #expect(try wakeups.drain() == false)
    }

    @Test func sqliteHasNone() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("feedspool-wake-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try SQLiteStore(path: dir.appendingPathComponent("s.db").path).listenForJobs() == nil)
    }
}
