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
