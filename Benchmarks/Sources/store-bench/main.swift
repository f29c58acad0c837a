import FeedspoolModel
import Foundation
import Store

// Job claim throughput: W workers, each with its own connection (as W daemons
// would have), claim one job at a time and complete it until the queue is
// empty. SQLite (one file, WAL) and PostgreSQL (FOR UPDATE SKIP LOCKED).
//
//   Benchmarks/run-store-bench        (starts a throwaway PostgreSQL on loopback)
//   store-bench [--jobs N] [--postgres URL]

let args = CommandLine.arguments
func option(_ name: String) -> String? {
    args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
}
let jobs = Int(option("--jobs") ?? "") ?? 5000
let postgres = option("--postgres")

final class Counter: @unchecked Sendable {  // guarded by lock
    private let lock = NSLock()
    private var n = 0
    private var failures = 0
    func add(_ k: Int) { lock.lock(); n += k; lock.unlock() }
    func fail() { lock.lock(); failures += 1; lock.unlock() }
    var value: (Int, Int) { lock.lock(); defer { lock.unlock() }; return (n, failures) }
}

func measure(_ name: String, workers: Int, open: () throws -> any Store) throws {
    let first = try open()
    let now = Date()
    for i in 0..<jobs { _ = try first.enqueue(feedID: "f\(i)", url: "u", kind: .scheduled, runAt: now, maxAttempts: 3, now: now) }
    let stores = try (0..<workers).map { _ in try open() }
    let done = Counter()
    let t0 = DispatchTime.now().uptimeNanoseconds
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        let s = stores[w]
        while true {
            guard let claimed = try? s.claimJobs(limit: 1, owner: "w\(w)", leaseFor: 60, now: now) else {
                done.fail()
                continue
            }
            if claimed.isEmpty { break }
            for j in claimed { try? s.complete(j.id, owner: "w\(w)", result: JobResult(httpStatus: 304), now: now) }
            done.add(claimed.count)
        }
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    let (n, failures) = done.value
    print(String(format: "%-10@ workers %d: %d jobs claimed and completed in %.2f s: %.0f jobs/s%@", name as NSString, workers, n, seconds,
                 Double(n) / seconds, (failures > 0 ? " (\(failures) busy retries)" : "") as NSString))
}

for w in [1, 2, 4, 8] {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("store-bench-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("bench.db").path
    try measure("sqlite", workers: w) { try SQLiteStore(path: path) }
}
if let base = postgres {
    for w in [1, 2, 4, 8] {
        let url = base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3Dbench_\(w)_\(UUID().uuidString.prefix(8).lowercased())"
        try measure("postgres", workers: w) { try PostgresStore(url: url) }
    }
} else {
    print("postgres: no --postgres URL given (Benchmarks/run-store-bench starts a server)")
}
