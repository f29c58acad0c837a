import FeedspoolModel
import Foundation
import Store
import TestSupport
import Testing

/// A new empty store of `backend`, a folder to remove afterwards, and a way to
/// open another connection to the same store (as another process would).
private func temporaryStore(_ backend: StoreBackend) throws -> (any Store, String, () throws -> any Store) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("feedspool-store-\(UUID().uuidString)").path
    switch backend {
    case .sqlite:
        let path = dir + "/feedspool.db"
        return (try SQLiteStore(path: path), dir, { try SQLiteStore(path: path) })
    case .postgres:
        let url = try StoreBackend.scratchPostgres()
        return (try PostgresStore(url: url), dir, { try PostgresStore(url: url) })
    }
}

private let t0 = Date(timeIntervalSince1970: 1_700_000_000)
private func at(_ seconds: TimeInterval) -> Date { t0.addingTimeInterval(seconds) }

@Suite struct JobQueueTests {
    @Test(arguments: StoreBackend.available) func oneLiveJobPerFeed(_ backend: StoreBackend) throws {
        let (s, dir, reopen) = try temporaryStore(backend)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try s.enqueue(feedID: "racurs", url: "https://r.example/feed", kind: .scheduled, runAt: t0, maxAttempts: 3, now: t0)
        let again = try s.enqueue(feedID: "racurs", url: "https://r.example/feed", kind: .scheduled, runAt: t0, maxAttempts: 3, now: t0)
        #expect(a.id == again.id && a.state == .queued && a.attempts == 0)
        #expect(try s.listJobs(JobFilter()).count == 1)
    }

    @Test(arguments: StoreBackend.available) func claimOrderIsManualThenDueTimeThenID(_ backend: StoreBackend) throws {
        let (s, dir, reopen) = try temporaryStore(backend)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let late = try s.enqueue(feedID: "late", url: "u", kind: .scheduled, runAt: at(-10), maxAttempts: 3, now: t0)
        let early = try s.enqueue(feedID: "early", url: "u", kind: .scheduled, runAt: at(-60), maxAttempts: 3, now: t0)
        let future = try s.enqueue(feedID: "future", url: "u", kind: .scheduled, runAt: at(600), maxAttempts: 3, now: t0)
        let manual = try s.enqueue(feedID: "manual", url: "u", kind: .manual, runAt: t0, maxAttempts: 3, now: t0)
        let claimed = try s.claimJobs(limit: 10, owner: "w1", leaseFor: 60, now: t0)
        #expect(claimed.map(\.id) == [manual.id, early.id, late.id])
        #expect(claimed.allSatisfy { $0.state == .running && $0.attempts == 1 && $0.leaseOwner == "w1" && $0.leaseUntil == at(60) })
        #expect(try s.job(future.id)?.state == .queued)
        #expect(try s.claimJobs(limit: 10, owner: "w1", leaseFor: 60, now: t0).isEmpty)
    }

    @Test(arguments: StoreBackend.available) func aManualFetchJumpsTheLine(_ backend: StoreBackend) throws {
        let (s, dir, reopen) = try temporaryStore(backend)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let scheduled = try s.enqueue(feedID: "f", url: "u", kind: .scheduled, runAt: at(900), maxAttempts: 3, now: t0)
        let manual = try s.enqueue(feedID: "f", url: "u", kind: .manual, runAt: t0, maxAttempts: 3, now: t0)
        #expect(manual.id == scheduled.id && manual.kind == .manual && manual.runAt == t0)
        #expect(try s.claimJobs(limit: 1, owner: "w", leaseFor: 60, now: t0).first?.id == scheduled.id)
    }

    @Test(arguments: StoreBackend.available) func completeRecordsTheResultAndTheAttempt(_ backend: StoreBackend) throws {
        let (s, dir, reopen) = try temporaryStore(backend)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let j = try s.enqueue(feedID: "f", url: "u", kind: .scheduled, runAt: t0, maxAttempts: 3, now: t0)
        _ = try s.claimJobs(limit: 1, owner: "w", leaseFor: 60, now: t0)
        let result = JobResult(httpStatus: 200, bytes: 1234, itemsSeen: 20, itemsNew: 3, seconds: 0.5)
        try s.complete(j.id, owner: "w", result: result, now: at(1))
        let done = try #require(try s.job(j.id))
        #expect(done.state == .done && done.result == result && done.finishedAt == at(1) && done.leaseOwner == nil)
        let attempts = try s.attempts(ofJob: j.id)
        #expect(attempts.count == 1 && attempts[0].outcome == "done" && attempts[0].owner == "w")
        // A finished job frees the feed for the next one.
        let next = try s.enqueue(feedID: "f", url: "u", kind: .scheduled, runAt: at(900), maxAttempts: 3, now: at(2))
        #expect(next.id != j.id)
    }

    @Test(arguments: StoreBackend.available) func failuresBackOffThenDie(_ backend: StoreBackend) throws {
        let (s, dir, reopen) = try temporaryStore(backend)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let j = try s.enqueue(feedID: "f", url: "u", kind: .scheduled, runAt: t0, maxAttempts: 2, now: t0)
        _ = try s.claimJobs(limit: 1, owner: "w", leaseFor: 60, now: t0)
        #expect(try s.fail(j.id, owner: "w", error: "HTTP 503", result: nil, retryAt: at(120), now: at(1)) == .failed)
        #expect(try s.job(j.id)?.lastError == "HTTP 503")
        #expect(try s.claimJobs(limit: 1, owner: "w", leaseFor: 60, now: at(119)).isEmpty)
        let second = try s.claimJobs(limit: 1, owner: "w", leaseFor: 60, now: at(120))
        #expect(second.first?.attempts == 2)
        #expect(try s.fail(j.id, owner: "w", error: "HTTP 503", result: nil, retryAt: at(400), now: at(121)) == .dead)
        #expect(try s.claimJobs(limit: 1, owner: "w", leaseFor: 60, now: at(10_000)).isEmpty)
        #expect(try s.attempts(ofJob: j.id).map(\.outcome) == ["failed", "failed"])
    }

    @Test(arguments: StoreBackend.available) func anExpiredLeaseReturnsTheJob(_ backend: StoreBackend) throws {
        let (s, dir, reopen) = try temporaryStore(backend)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let j = try s.enqueue(feedID: "f", url: "u", kind: .scheduled, runAt: t0, maxAttempts: 2, now: t0)
        _ = try s.claimJobs(limit: 1, owner: "crashed", leaseFor: 30, now: t0)
        try s.renewLeases([j.id], owner: "crashed", until: at(60))
        #expect(try s.rescueExpiredLeases(now: at(59)) == 0)
        #expect(try s.rescueExpiredLeases(now: at(61)) == 1)
        let back = try #require(try s.job(j.id))
        #expect(back.state == .queued && back.leaseOwner == nil && back.attempts == 1)
        #expect(try s.attempts(ofJob: j.id).first?.outcome == "expired")
        // The owner that lost the lease can no longer finish it.
        try s.complete(j.id, owner: "crashed", result: JobResult(), now: at(62))
        #expect(try s.job(j.id)?.state == .queued)
        // Its last attempt expiring makes it dead.
        _ = try s.claimJobs(limit: 1, owner: "other", leaseFor: 30, now: at(70))
        #expect(try s.rescueExpiredLeases(now: at(101)) == 1)
        #expect(try s.job(j.id)?.state == .dead)
    }

    @Test(arguments: StoreBackend.available) func aGracefulStopHandsJobsBackWithoutCountingThem(_ backend: StoreBackend) throws {
        let (s, dir, reopen) = try temporaryStore(backend)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let j = try s.enqueue(feedID: "f", url: "u", kind: .scheduled, runAt: t0, maxAttempts: 2, now: t0)
        _ = try s.claimJobs(limit: 1, owner: "w", leaseFor: 30, now: t0)
        #expect(try s.release(owner: "w", now: at(1)) == 1)
        let back = try #require(try s.job(j.id))
        #expect(back.state == .queued && back.attempts == 0)
        #expect(try s.attempts(ofJob: j.id).isEmpty)
    }

    @Test(arguments: StoreBackend.available) func retryAndCancel(_ backend: StoreBackend) throws {
        let (s, dir, reopen) = try temporaryStore(backend)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dead = try s.enqueue(feedID: "a", url: "u", kind: .scheduled, runAt: t0, maxAttempts: 1, now: t0)
        _ = try s.claimJobs(limit: 1, owner: "w", leaseFor: 30, now: t0)
        _ = try s.fail(dead.id, owner: "w", error: "gone", result: nil, retryAt: at(60), now: t0)
        let waiting = try s.enqueue(feedID: "b", url: "u", kind: .scheduled, runAt: at(600), maxAttempts: 3, now: t0)
        #expect(try s.retryAllDead(now: at(5)) == [dead.id])
        let again = try #require(try s.job(dead.id))
        #expect(again.state == .queued && again.attempts == 0 && again.runAt == at(5))
        #expect(try s.cancel([waiting.id, 999], now: at(6)) == [waiting.id])
        #expect(try s.job(waiting.id)?.state == .cancelled)
        // A running job is not cancelled; a done one is not retried.
        _ = try s.claimJobs(limit: 1, owner: "w", leaseFor: 30, now: at(10))
        #expect(try s.cancel([dead.id], now: at(11)).isEmpty)
        try s.complete(dead.id, owner: "w", result: JobResult(), now: at(12))
        #expect(try s.retry([dead.id], now: at(13)).isEmpty)
    }

    @Test(arguments: StoreBackend.available) func retryKeepsOneLiveJobPerFeed(_ backend: StoreBackend) throws {
        let (s, dir, reopen) = try temporaryStore(backend)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try s.enqueue(feedID: "f", url: "u", kind: .scheduled, runAt: t0, maxAttempts: 1, now: t0)
        _ = try s.claimJobs(limit: 1, owner: "w", leaseFor: 30, now: t0)
        _ = try s.fail(first.id, owner: "w", error: "x", result: nil, retryAt: at(60), now: t0)
        _ = try s.enqueue(feedID: "f", url: "u", kind: .scheduled, runAt: at(60), maxAttempts: 1, now: at(1))
        #expect(try s.retry([first.id], now: at(2)).isEmpty)
    }

    @Test(arguments: StoreBackend.available) func listingAndStats(_ backend: StoreBackend) throws {
        let (s, dir, reopen) = try temporaryStore(backend)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for i in 0..<5 { _ = try s.enqueue(feedID: "f\(i)", url: "u", kind: .scheduled, runAt: at(Double(-100 + i)), maxAttempts: 3, now: t0) }
        let claimed = try s.claimJobs(limit: 2, owner: "w", leaseFor: 30, now: t0)
        try s.complete(claimed[0].id, owner: "w", result: JobResult(), now: at(1))
        #expect(try s.listJobs(JobFilter()).map(\.feedID) == ["f4", "f3", "f2", "f1", "f0"])
        #expect(try s.listJobs(JobFilter(states: [.queued])).count == 3)
        #expect(try s.listJobs(JobFilter(feedID: "f1")).map(\.state) == [.running])
        #expect(try s.listJobs(JobFilter(limit: 2)).count == 2)
        try s.beat(host: "node-a", pid: 42, startedAt: t0, now: at(5))
        let stats = try s.queueStats(now: at(10))
        #expect(stats.counts[.queued] == 3 && stats.counts[.running] == 1 && stats.counts[.done] == 1 && stats.counts[.dead] == 0)
        #expect(stats.oldestQueuedAge == 108)  // f2 was due at t0 - 98
        #expect(stats.jobsPerMinuteLastHour == 1.0 / 60)
        #expect(stats.daemons == [DaemonHeartbeat(host: "node-a", pid: 42, startedAt: t0, beatAt: at(5))])
        try s.endHeartbeat(host: "node-a", pid: 42)
        #expect(try s.queueStats(now: at(11)).daemons.isEmpty)
    }

    /// Four connections to one store, as four processes would have, claiming at once.
    @Test(arguments: StoreBackend.available) func concurrentClaimersNeverShareAJob(_ backend: StoreBackend) throws {
        let (s, dir, reopen) = try temporaryStore(backend)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for i in 0..<200 { _ = try s.enqueue(feedID: "f\(i)", url: "u", kind: .scheduled, runAt: t0, maxAttempts: 3, now: t0) }
        let claimers = try (0..<4).map { _ in try reopen() }
        let claimed = Claimed()
        DispatchQueue.concurrentPerform(iterations: 4) { w in
            while let jobs = try? claimers[w].claimJobs(limit: 3, owner: "w\(w)", leaseFor: 60, now: t0), !jobs.isEmpty {
                claimed.add(jobs.map(\.id))
            }
        }
        #expect(claimed.ids.count == 200)
        #expect(Set(claimed.ids).count == 200)
    }

    @Test func anUnusablePathSaysSo() {
        do {
            _ = try SQLiteStore(path: "/proc/feedspool/feedspool.db")
            Issue.record("opened a store under /proc")
        } catch {
            #expect(error.message.hasPrefix("/proc/feedspool/feedspool.db: the store cannot be used"))
        }
    }
}

private final class Claimed: @unchecked Sendable {  // guarded by lock
    private let lock = NSLock()
    private var all: [Int64] = []
    func add(_ ids: [Int64]) { lock.lock(); all += ids; lock.unlock() }
    var ids: [Int64] { lock.lock(); defer { lock.unlock() }; return all }
}

@Suite struct RetryPolicyTests {
    @Test func exponentialCappedWithJitter() {
        let p = RetryPolicy(base: 60, maximum: 3600, jitter: 0.1)
        #expect(p.delay(afterAttempt: 1, random: 0.5) == 60)
        #expect(p.delay(afterAttempt: 3, random: 0.5) == 240)
        #expect(p.delay(afterAttempt: 30, random: 0.5) == 3600)
        #expect(p.delay(afterAttempt: 1, random: 0) == 54)
        #expect(abs(p.delay(afterAttempt: 1, random: 0.999_999) - 66) < 0.001)
        #expect(p.delay(afterAttempt: 1, retryAfter: 600, random: 0.5) == 600)
        #expect(p.delay(afterAttempt: 1, retryAfter: 99_999, random: 0.5) == 3600)
    }
}
