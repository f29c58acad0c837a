import Fetch
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A Unix datagram socket standing in for systemd's notification socket.
private final class NotifySocket {
    let path: String
    private let fd: Int32

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("fs-notify-\(UUID().uuidString.prefix(8))").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw POSIXError(.EADDRINUSE) }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// One message, or nil when none came within 0.1 s.
    private func receive() -> String? {
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
    }

    /// Every message received within `seconds`.
    func collect(seconds: Double) -> [String] {
        var seen: [String] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline { if let m = receive() { seen.append(m) } }
        return seen
    }

    /// Messages until one contains `text`, or nil after `seconds`.
    func wait(for text: String, seconds: Double) -> [String]? {
        var seen: [String] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard let m = receive() else { continue }
            seen.append(m)
            if m.contains(text) { return seen }
        }
        return nil
    }
}

/// A daemon child process with its stderr collected.
private final class DaemonProcess {
    let process = Process()
    private let errors = Pipe()

    init(config: String, notify: String?, extra: [String] = [], environment: [String: String] = [:]) throws {
        process.executableURL = Binary.url
        process.arguments = ["run", "--config", config] + extra
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = notify
        env.merge(environment) { _, new in new }
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
    }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// Waits for exit (at most `seconds`); returns the status and stderr.
    func finish(within seconds: Double) -> (Int32?, String) {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return (nil, String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        return (process.terminationStatus, String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }
}

private func workspace(_ config: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("feedspool-daemon-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("feeds"), withIntermediateDirectories: true)
    for f in 0..<3 {
        let xml = "<rss version=\"2.0\"><channel><title>F\(f)</title><item><title>A\(f)</title><guid>a\(f)</guid></item></channel></rss>"
        try Data(xml.utf8).write(to: dir.appendingPathComponent("feeds/f\(f).xml"))
    }
    try Data(config.utf8).write(to: dir.appendingPathComponent("config.json"))
    return dir
}

private func spoolCount(_ dir: URL) -> Int {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("spool/new").path)) ?? []).count
}

private func feedsConfig(_ ids: [Int], extra: String = "") -> String {
    """
    {"spool": "spool", "store": {"path": "feedspool.db"}, "fetch": {"allow_file_urls": true\(extra)},
     "feeds": [\(ids.map { #"{"id": "f\#($0)", "url": "feeds/f\#($0).xml"}"# }.joined(separator: ","))]}
    """
}

@Suite(.serialized) struct DaemonTests {
    @Test(.timeLimit(.minutes(1)))
    func readyThenDeliversThenStopsCleanlyOnSIGTERM() throws {
        let dir = try workspace(feedsConfig([0, 1]))
        defer { try? FileManager.default.removeItem(at: dir) }
        let notify = try NotifySocket()
        let d = try DaemonProcess(config: dir.appendingPathComponent("config.json").path, notify: notify.path)
        let ready = notify.wait(for: "READY=1", seconds: 20)
        #expect(ready != nil)
        #expect(ready?.last?.contains("MAINPID=\(d.process.processIdentifier)") == true)
        let deadline = Date().addingTimeInterval(10)
        while spoolCount(dir) < 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(spoolCount(dir) == 2)
        // The CLI sees a live daemon through its heartbeat.
        let stats = try Binary.run(["queue", "stats", "--json", "--config", dir.appendingPathComponent("config.json").path])
        #expect(stats.stdout.contains("\"pid\":\(d.process.processIdentifier)"))
        d.signal(SIGTERM)
        #expect(notify.wait(for: "STOPPING=1", seconds: 10) != nil)
        let (status, log) = d.finish(within: 15)
        #expect(status == 0, "\(log)")
        #expect(log.contains("stopped"))
    }

    @Test(.timeLimit(.minutes(1)))
    func sighupReloadsAValidConfigAndKeepsTheOldOneOtherwise() throws {
        let dir = try workspace(feedsConfig([0]))
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("config.json")
        let notify = try NotifySocket()
        let d = try DaemonProcess(config: config.path, notify: notify.path)
        #expect(notify.wait(for: "READY=1", seconds: 20) != nil)
        try Data("{ not json".utf8).write(to: config)
        d.signal(SIGHUP)
        #expect(notify.wait(for: "RELOADING=1", seconds: 10)?.last?.contains("MONOTONIC_USEC=") == true)
        #expect(notify.wait(for: "READY=1", seconds: 10) != nil)
        #expect(d.process.isRunning)
        try Data(feedsConfig([0, 1, 2]).utf8).write(to: config)
        d.signal(SIGHUP)
        #expect(notify.wait(for: "READY=1", seconds: 10) != nil)
        let deadline = Date().addingTimeInterval(10)
        while spoolCount(dir) < 3 && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(spoolCount(dir) == 3)  // the two feeds added by the reload were fetched
        d.signal(SIGINT)
        let (status, log) = d.finish(within: 15)
        #expect(status == 0)
        #expect(log.contains("reload refused, keeping the running config"))
        #expect(log.contains("reloaded"))
    }

    @Test(.timeLimit(.minutes(1)))
    func aJobInFlightAtSIGTERMIsHandedBack() throws {
        let server = TestServer.shared
        let dir = try workspace("""
            {"spool": "spool", "store": {"path": "feedspool.db"}, "fetch": {"allow_private_networks": true, "timeout": "30s"},
             "feeds": [{"id": "slow", "url": "\(server.url("/hold?ms=5000"))"}]}
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("config.json").path
        let notify = try NotifySocket()
        let d = try DaemonProcess(config: config, notify: notify.path, extra: ["--grace", "1"])
        #expect(notify.wait(for: "READY=1", seconds: 20) != nil)
        Thread.sleep(forTimeInterval: 0.5)  // the fetch is under way (the server holds it 5 s)
        d.signal(SIGTERM)
        let (status, log) = d.finish(within: 10)
        #expect(status == 0, "\(log)")
        #expect(log.contains("unfinished jobs handed back to the queue jobs=1"))
        let jobs = try Binary.run(["queue", "list", "--json", "--config", config])
        #expect(jobs.stdout.contains(#""state":"queued""#) && jobs.stdout.contains(#""attempts":0"#))
    }

    @Test(.timeLimit(.minutes(1)))
    func fetchWaitIsAnsweredByARunningDaemon() throws {
        let dir = try workspace(feedsConfig([0]))
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("config.json").path
        let notify = try NotifySocket()
        let d = try DaemonProcess(config: config, notify: notify.path)
        #expect(notify.wait(for: "READY=1", seconds: 20) != nil)
        let r = try Binary.run(["fetch", "f0", "--wait", "20", "--config", config])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("done"))
        d.signal(SIGTERM)
        #expect(d.finish(within: 15).0 == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func watchdogPingsComeAtHalfTheInterval() throws {
        let dir = try workspace(feedsConfig([0]))
        defer { try? FileManager.default.removeItem(at: dir) }
        let notify = try NotifySocket()
        // WatchdogSec=1s: a ping every 0.5 s.
        let d = try DaemonProcess(config: dir.appendingPathComponent("config.json").path, notify: notify.path,
                                  environment: ["WATCHDOG_USEC": "1000000"])
        #expect(notify.wait(for: "READY=1", seconds: 20) != nil)
        let pings = notify.collect(seconds: 3).filter { $0.contains("WATCHDOG=1") }.count
        #expect((5...7).contains(pings), "\(pings) pings in 3 s")
        d.signal(SIGTERM)
        #expect(d.finish(within: 15).0 == 0)
        // Without WATCHDOG_USEC there are none.
        let quiet = try DaemonProcess(config: dir.appendingPathComponent("config.json").path, notify: notify.path)
        #expect(notify.wait(for: "READY=1", seconds: 20) != nil)
        #expect(notify.collect(seconds: 1.5).allSatisfy { !$0.contains("WATCHDOG=1") })
        quiet.signal(SIGTERM)
        #expect(quiet.finish(within: 15).0 == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func metricsAreScrapedAndHealthFlipsWhenTheSpoolGoes() throws {
        let port = freePort()
        let dir = try workspace(feedsConfig([0, 1]).replacingOccurrences(of: #""feeds":"#, with: #""metrics": {"listen": "127.0.0.1:\#(port)"}, "feeds":"#))
        defer { try? FileManager.default.removeItem(at: dir) }
        let notify = try NotifySocket()
        let d = try DaemonProcess(config: dir.appendingPathComponent("config.json").path, notify: notify.path)
        #expect(notify.wait(for: "READY=1", seconds: 20) != nil)
        let deadline = Date().addingTimeInterval(10)
        while spoolCount(dir) < 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }

        var settings = FetchSettings()
        settings.addresses = AddressPolicy(allowPrivateNetworks: true)
        let fetcher = Fetcher(settings: settings)
        defer { fetcher.shutdown() }
        func get(_ path: String) -> (Int, String) {
            switch fetcher.fetchAll([FetchRequest(url: "http://127.0.0.1:\(port)\(path)")])[0] {
            case .success(let r): return (r.status, String(decoding: r.body, as: UTF8.self))
            case .failure(.http(_, let status, _)): return (status, "")
            case .failure(let e): return (0, e.message)
            }
        }
        let (status, text) = get("/metrics")
        #expect(status == 200)
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let v = Double(parts[1]) { samples[String(parts[0])] = v }
        }
        #expect(samples[#"feedspool_fetches_total{outcome="ok"}"#] == 2, "\(text)")
        #expect(samples["feedspool_items_delivered_total"] == 2)
        #expect(samples[#"feedspool_jobs{state="done"}"#] == 2)
        #expect(samples[#"feedspool_feeds{state="ok"}"#] == 2)
        #expect(samples["feedspool_spool_backlog"] == 2)
        #expect(samples[#"feedspool_copies_total{method="near-duplicate"}"#] == 0)
        #expect(samples["feedspool_fetch_duration_seconds_count"] == 2)
        #expect(get("/healthz").0 == 200)

        // A client that sends a byte every half second gets 2 s in all, not 2 s per
        // byte: the server answers one connection at a time, and others wait behind it.
        let slow = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(slow, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(connected == 0)
        let dripped = DispatchSemaphore(value: 0)
        let dripping = Thread {
            defer { dripped.signal() }
            for _ in 0..<24 {  // 12 s, if the server let it
                guard send(slow, "G", 1, Int32(MSG_NOSIGNAL)) == 1 else { return }
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
        dripping.start()
        Thread.sleep(forTimeInterval: 0.3)
        let asked = Date()
        #expect(get("/healthz").0 == 200)
        #expect(Date().timeIntervalSince(asked) < 6, "a slow client held the server")
        _ = dripped.wait(timeout: .now() + 15)  // the descriptor is closed only once nothing writes to it
        close(slow)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("spool"))
        let (sick, reason) = get("/healthz")
        #expect(sick == 503, "\(reason)")
        #expect(get("/nope").0 == 404)
        d.signal(SIGTERM)
        #expect(d.finish(within: 15).0 == 0)
    }
}

/// Another process holds an exclusive lock on the database: the daemon's store
/// cannot be written (its writes fail after the 10 s busy timeout).
extension DaemonTests {
    // 10 s alone; each write the daemon tries waits out the 10 s busy timeout, so
    // under the full suite's load (three daemons of the multi-node test beside it) it took 77 s once.
    @Test(.timeLimit(.minutes(3)))
    func healthFlipsWhenTheStoreCannotBeWritten() throws {
        let port = freePort()
        let dir = try workspace("""
            {"spool": "spool", "store": {"path": "feedspool.db"}, "fetch": {"allow_file_urls": true},
             "metrics": {"listen": "127.0.0.1:\(port)"}, "feeds": [{"id": "f0", "url": "feeds/f0.xml"}]}
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let notify = try NotifySocket()
        let d = try DaemonProcess(config: dir.appendingPathComponent("config.json").path, notify: notify.path)
        #expect(notify.wait(for: "READY=1", seconds: 20) != nil)
        var settings = FetchSettings()
        settings.addresses = AddressPolicy(allowPrivateNetworks: true)
        settings.timeout = 30
        let fetcher = Fetcher(settings: settings)
        defer { fetcher.shutdown() }
        func health() -> (Int, String) {
            switch fetcher.fetchAll([FetchRequest(url: "http://127.0.0.1:\(port)/healthz")])[0] {
            case .success(let r): return (r.status, String(decoding: r.body, as: UTF8.self))
            case .failure(.http(_, let status, _)): return (status, "")
            case .failure(let e): return (0, e.message)
            }
        }
        #expect(health().0 == 200)
        let locker = Process()
        locker.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        locker.arguments = ["python3", "-c", """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
            c.execute("BEGIN EXCLUSIVE")
            print("locked", flush=True)
            time.sleep(40)
            """, dir.appendingPathComponent("feedspool.db").path]
        let out = Pipe()
        locker.standardOutput = out
        try locker.run()
        defer { if locker.isRunning { kill(locker.processIdentifier, SIGKILL) } }
        #expect(String(decoding: out.fileHandleForReading.availableData, as: UTF8.self).contains("locked"))
        #expect(health().0 == 503)
        kill(locker.processIdentifier, SIGKILL)
        locker.waitUntilExit()
        #expect(health().0 == 200)
        d.signal(SIGTERM)
        #expect(d.finish(within: 20).0 == 0)
    }

    /// The memory a large feed took stays with the daemon while it works (for the
    /// next feeds, `ProcessMemory`) and goes back to the system once it has had
    /// nothing to do for 10 s (`Daemon.idleBeforeMemoryReturn`). Measured as the
    /// process's anonymous memory (its RSS also holds the binary's pages). Most of
    /// it sat at the tops of the arenas of the threads that parsed, which glibc's
    /// `malloc_trim` leaves: 38-53 MiB of 63-67 stayed when only that ran, 29-42
    /// when the trimming thread's own arena was trimmed too; 5 stay now (measured,
    /// six runs).
    @Test(.timeLimit(.minutes(1)))
    func freedMemoryGoesBackOnceTheDaemonIsIdle() throws {
        let dir = try workspace(feedsConfig([0]))
        defer { try? FileManager.default.removeItem(at: dir) }
        // 300 stories of about 37 KB each: some 11 MB to fetch, parse and spool, which
        // leave the daemon with 63-67 MiB of anonymous memory (measured).
        let paragraph = "<p>" + String(repeating: "Grain barges left the river port at night, said the director. ", count: 20) + "</p>"
        var xml = "<rss version=\"2.0\"><channel><title>Big</title>"
        for i in 0..<300 {
            xml += "<item><title>Story \(i)</title><guid>big-\(i)</guid><description><![CDATA[<p>Story \(i).</p>"
            xml += String(repeating: paragraph, count: 30) + "]]></description></item>"
        }
        xml += "</channel></rss>"
        try Data(xml.utf8).write(to: dir.appendingPathComponent("feeds/f0.xml"))
        let notify = try NotifySocket()
        let d = try DaemonProcess(
            config: dir.appendingPathComponent("config.json").path, notify: notify.path, environment: ["FEEDSPOOL_LOG_LEVEL": "debug"])
        defer { d.signal(SIGKILL); _ = d.finish(within: 5) }
        #expect(notify.wait(for: "READY=1", seconds: 20) != nil)
        var deadline = Date().addingTimeInterval(20)
        while spoolCount(dir) < 300 && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(spoolCount(dir) == 300)
        func anonymousMiB() -> Int {
            let rollup = (try? String(contentsOfFile: "/proc/\(d.process.processIdentifier)/smaps_rollup", encoding: .utf8)) ?? ""
            let line = rollup.split(separator: "\n").first { $0.hasPrefix("Anonymous:") } ?? ""
            return (line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0) / 1024
        }
        Thread.sleep(forTimeInterval: 1)  // the job's last steps (the store's commit) after its last file
        let working = anonymousMiB()
        // Kept while the daemon may still be working: not given back within 5 s of the job.
        Thread.sleep(forTimeInterval: 5)
        let kept = anonymousMiB()
        #expect(kept > working - 8, "\(working) MiB after the job, \(kept) MiB 5 s later: given back too soon")
        deadline = Date().addingTimeInterval(25)
        var idle = kept
        while idle > working / 4 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.5)
            idle = anonymousMiB()
        }
        #expect(idle <= working / 4, "\(working) MiB after the job, still \(idle) MiB idle")
        d.signal(SIGTERM)
        let (status, log) = d.finish(within: 20)
        #expect(status == 0)
        // At FEEDSPOOL_LOG_LEVEL=debug the daemon says when it gave memory back.
        #expect(log.contains("gave freed memory back to the system"), "\(log)")
    }

    @Test func aBadLogLevelIsAConfigError() throws {
        let dir = try workspace(feedsConfig([0]))
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Binary.run(
            ["run", "--config", dir.appendingPathComponent("config.json").path], environment: ["FEEDSPOOL_LOG_LEVEL": "loud"])
        #expect(r.status == 78)
        #expect(r.stderr.contains(#"FEEDSPOOL_LOG_LEVEL: must be one of trace, debug, info, notice, warning, error, critical, got "loud""#), "\(r.stderr)")
    }
}

/// A port nothing listens on right now (bound, then released).
private func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Several daemons sharing one PostgreSQL store (issue: beyond one machine). In the
/// serialized daemon suite: run beside the other daemon tests, both sides slowed past their limits.
extension DaemonTests {
    /// Three `feedspool run` sharing one PostgreSQL and 40 loopback feeds, each
    /// with its own spool; the first is killed with SIGKILL while it holds leased
    /// jobs. Every item lands exactly once across the three spools, every feed is
    /// fetched, and the killed node's jobs are taken over when their lease ends.
    @Test(.enabled(if: StoreBackend.postgresURL != nil, "FEEDSPOOL_TEST_POSTGRES is not set (Scripts/test starts a server): multi-node not tested"),
          .timeLimit(.minutes(4)))
    func threeNodesOneQueueOneKilled() throws {
        let server = TestServer.shared
        let url = try StoreBackend.scratchPostgres()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("feedspool-nodes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let feeds = (0..<40).map { #"{"id": "n\#($0)", "url": "\#(server.url("/gen/n\($0)?items=10&ms=3000"))"}"# }
        var configs: [String] = []
        for node in ["a", "b", "c"] {
            let folder = dir.appendingPathComponent(node)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let config = """
                {"spool": "spool", "store": {"kind": "postgres", "url": "\(url)"},
                 "fetch": {"allow_private_networks": true, "concurrency": 4, "timeout": "5s"},
                 "schedule": {"interval": "1d"}, "dedup": {"duplicates": "mark"},
                 "feeds": [\(feeds.joined(separator: ","))]}
                """
            try Data(config.utf8).write(to: folder.appendingPathComponent("config.json"))
            configs.append(folder.appendingPathComponent("config.json").path)
        }
        func jobs(_ state: String) throws -> [[String: Any]] {
            let r = try Binary.run(["queue", "list", "--state", state, "--limit", "1000", "--json", "--config", configs[1]])
            return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]], "\(r.stderr)")
        }

        let a = try DaemonProcess(config: configs[0], notify: nil)
        let aOwner = ":\(a.process.processIdentifier):"
        // Wait (at most 20 s) until node a holds leased jobs, then start the others and kill it.
        var held: [Int] = []
        let start = Date()
        while held.isEmpty && Date().timeIntervalSince(start) < 20 {
            held = try jobs("running").filter { ($0["lease_owner"] as? String)?.contains(aOwner) == true }.compactMap { $0["id"] as? Int }
            if held.isEmpty { Thread.sleep(forTimeInterval: 0.2) }
        }
        try #require(!held.isEmpty, "node a never claimed a job")
        let b = try DaemonProcess(config: configs[1], notify: nil)
        let c = try DaemonProcess(config: configs[2], notify: nil)
        // Once b and c have started (their heartbeats are in), node a dies: they cannot
        // have reclaimed its jobs at start, so only the lease can give them back.
        var daemons = 0
        while daemons < 3 && Date().timeIntervalSince(start) < 30 {
            let stats = try Binary.run(["queue", "stats", "--json", "--config", configs[1]])
            daemons = ((try? JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])?["daemons"] as? [Any])?.count ?? 0
            if daemons < 3 { Thread.sleep(forTimeInterval: 0.2) }
        }
        try #require(daemons == 3, "nodes b and c did not start")
        let killedAt = Date()
        a.signal(SIGKILL)
        _ = a.finish(within: 5)

        // Wait (at most 150 s: the lease is 2 x 5 s + 60 s) until every feed's job is done.
        let deadline = Date().addingTimeInterval(150)
        var done: [[String: Any]] = []
        while Date() < deadline {
            done = try jobs("done")
            if Set(done.compactMap { $0["feed"] as? String }).count == 40 { break }
            Thread.sleep(forTimeInterval: 1)
        }
        b.signal(SIGTERM)
        c.signal(SIGTERM)
        let (bStatus, bLog) = b.finish(within: 30)
        let (cStatus, _) = c.finish(within: 30)
        #expect(bStatus == 0, "\(bLog)")
        #expect(cStatus == 0)
        #expect(Set(done.compactMap { $0["feed"] as? String }).count == 40, "every feed fetched")

        // Exactly once across the three spools.
        var seen: [String: Int] = [:]
        var perNode: [Int] = []
        for node in ["a", "b", "c"] {
            let new = dir.appendingPathComponent("\(node)/spool/new")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: new.path)) ?? []
            perNode.append(names.count)
            for name in names {
                let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: new.appendingPathComponent(name))) as? [String: Any])
                seen[doc["guid"] as? String ?? "?", default: 0] += 1
            }
        }
        let tookOver = Date().timeIntervalSince(killedAt)
        print("multi-node: files per node a/b/c \(perNode), jobs node a held when killed \(held.count), all done \(Int(tookOver)) s after the kill")
        #expect(seen.count == 400)
        #expect(seen.values.allSatisfy { $0 == 1 })
        #expect(perNode[1] > 0 && perNode[2] > 0, "both surviving nodes worked")

        // Node a's jobs went back to the queue when their lease ran out and another node finished them.
        for id in held {
            let show = try Binary.run(["queue", "show", String(id), "--json", "--config", configs[1]])
            let job = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any], "\(show.stderr)")
            let attempts = job["attempts"] as? [[String: Any]] ?? []
            #expect((job["job"] as? [String: Any])?["state"] as? String == "done", "\(job)")
            #expect(attempts.contains { ($0["owner"] as? String)?.contains(aOwner) == true && $0["outcome"] as? String == "expired" }, "\(job)")
        }
    }
}
