import FeedspoolModel
import Fetch
import Foundation

// Fetch throughput: N URLs on a loopback server, fetched at a given concurrency.
//
//   fetch-bench --base http://127.0.0.1:PORT --count N --concurrency C [--not-modified-since DATE]
//
// Prints "seconds feeds_per_second peak_rss_mib ok failed status". Bodies are
// counted and dropped as they arrive, as the daemon hands them on.
// Benchmarks/run-fetch-bench runs it beside curl against nginx.

let args = CommandLine.arguments
func value(_ name: String) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}
let base = value("--base") ?? "http://127.0.0.1:8080"
let count = Int(value("--count") ?? "10000")!
let concurrency = Int(value("--concurrency") ?? "64")!
let since = value("--not-modified-since")

var settings = FetchSettings()
settings.concurrency = concurrency
settings.perHost = concurrency
settings.perHostSpacing = 0
settings.addresses = AddressPolicy(allowPrivateNetworks: true)
ProcessMemory.keepFreedMemory()  // as `feedspool` sets it at its start
let fetcher = Fetcher(settings: settings)

final class Tally: @unchecked Sendable {  // guarded by `lock`
    let lock = NSLock()
    var ok = 0, failed = 0, bytes = 0
    var statuses: [Int: Int] = [:]
    var firstError: String?
}
let tally = Tally()
let group = DispatchGroup()
let started = DispatchTime.now()
for i in 0..<count {
    group.enter()
    fetcher.fetch(FetchRequest(url: "\(base)/feed-\(i).xml", lastModified: since)) { result in
        tally.lock.lock()
        switch result {
        case .success(let r):
            tally.ok += 1
            tally.bytes += r.body.count
            tally.statuses[r.status, default: 0] += 1
        case .failure(let e):
            tally.failed += 1
            if tally.firstError == nil { tally.firstError = e.message }
        }
        tally.lock.unlock()
        group.leave()
    }
}
group.wait()
let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
fetcher.shutdown()

var peak = 0.0
if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        peak = (line.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0) / 1024
    }
}
let statuses = tally.statuses.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
print(String(format: "%.3f %.0f %.1f %d %d %@", seconds, Double(count) / seconds, peak, tally.ok, tally.failed, statuses as NSString))
if let e = tally.firstError { FileHandle.standardError.write(Data("first error: \(e)\n".utf8)) }
