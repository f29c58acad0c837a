import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A folder with a config.json and generated file feeds.
private struct Workspace {
    let dir: URL

    init(feeds: Int, items: Int, extraFetch: String = "") throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("feedspool-pipeline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("feeds"), withIntermediateDirectories: true)
        var list: [String] = []
        for f in 0..<feeds {
            try Self.writeFeed(dir.appendingPathComponent("feeds/f\(f).xml"), feed: f, items: items)
            list.append(#"{"id": "f\#(f)", "url": "feeds/f\#(f).xml"}"#)
        }
        let config = """
            {"spool": "spool", "store": {"kind": "sqlite", "path": "state/feedspool.db"},
             "fetch": {"allow_file_urls": true, "concurrency": 16, "timeout": "5s"\(extraFetch)},
             "feeds": [\(list.joined(separator: ","))]}
            """
        try Data(config.utf8).write(to: dir.appendingPathComponent("config.json"))
    }

    static func writeFeed(_ url: URL, feed: Int, items: Int, change: String = "") throws {
        var xml = "<rss version=\"2.0\"><channel><title>Feed \(feed)</title>"
        for k in 0..<items {
            xml += "<item><title>Story \(feed)-\(k)\(change)</title><guid>f\(feed)-\(k)</guid><link>https://f\(feed).example/\(k)</link>"
            xml += "<description>Text of story \(k) of feed \(feed).\(change)</description></item>"
        }
        xml += "</channel></rss>"
        try Data(xml.utf8).write(to: url)
    }

    var config: String { dir.appendingPathComponent("config.json").path }

    func run(_ args: [String]) throws -> Binary.Result { try Binary.run(args + ["--config", config]) }

    /// Every spool file in new/, parsed.
    func delivered() throws -> [[String: Any]] {
        let new = dir.appendingPathComponent("spool/new")
        return try FileManager.default.contentsOfDirectory(atPath: new.path).sorted().map { name in
            let data = try Data(contentsOf: new.appendingPathComponent(name))
            guard let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: name])
            }
            return obj
        }
    }

    func remove() { try? FileManager.default.removeItem(at: dir) }
}

@Suite(.serialized) struct PipelineTests {
    @Test func eachStoryIsDeliveredOnceAndAChangedOneAgainWithItsID() throws {
        let w = try Workspace(feeds: 3, items: 4)
        defer { w.remove() }
        let first = try w.run(["run", "--once", "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains(#""done":3,"failed":0,"items_new":12"#))
        let items = try w.delivered()
        #expect(items.count == 12)
        #expect(items.allSatisfy { $0["schema"] as? String == "feedspool.item/1" && ($0["dedup"] as? [String: Any])?["status"] as? String == "original" })
        #expect(Set(items.compactMap { $0["id"] as? String }).count == 12)
        let f1IDs = Set(items.filter { ($0["feed"] as? [String: Any])?["id"] as? String == "f1" }.compactMap { $0["id"] as? String })
        #expect(try FileManager.default.contentsOfDirectory(atPath: w.dir.appendingPathComponent("spool/tmp").path).isEmpty)

        let again = try w.run(["run", "--once", "--all", "--json"])
        #expect(again.status == 0 && again.stdout.contains(#""items_new":0"#))
        #expect(try w.delivered().count == 12)

        try Workspace.writeFeed(w.dir.appendingPathComponent("feeds/f1.xml"), feed: 1, items: 4, change: " (corrected)")
        let changed = try w.run(["run", "--once", "--all", "--json"])
        #expect(changed.stdout.contains(#""items_new":4"#), "\(changed.stdout)")
        let all = try w.delivered()
        #expect(all.count == 16)
        let redelivered = all.filter { ($0["title"] as? String)?.hasSuffix("(corrected)") == true }
        #expect(redelivered.count == 4)
        #expect(f1IDs.count == 4 && Set(redelivered.compactMap { $0["id"] as? String }) == f1IDs)  // same ids, new files
        #expect(redelivered.allSatisfy { $0["updated"] is String })
    }

    @Test func aFailingFeedFailsTheRunWhileTheOthersDeliver() throws {
        let w = try Workspace(feeds: 2, items: 2)
        defer { w.remove() }
        try FileManager.default.removeItem(at: w.dir.appendingPathComponent("feeds/f0.xml"))
        let r = try w.run(["run", "--once"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("2 jobs: 1 done, 1 failed"))
        #expect(r.stderr.contains("failed"))
        #expect(try w.delivered().count == 2)
        let feeds = try w.run(["feeds", "list", "--json"])
        let list = try #require(try JSONSerialization.jsonObject(with: Data(feeds.stdout.utf8)) as? [[String: Any]])
        let broken = try #require(list.first { $0["id"] as? String == "f0" })
        #expect(broken["error_streak"] as? Int == 1)
        let jobs = try #require(try JSONSerialization.jsonObject(with: Data(try w.run(["queue", "list", "--state", "failed", "--json"]).stdout.utf8)) as? [[String: Any]])
        #expect(jobs.count == 1 && jobs.first?["feed"] as? String == "f0")
        // The feed is back: a manual fetch runs it at once.
        try Workspace.writeFeed(w.dir.appendingPathComponent("feeds/f0.xml"), feed: 0, items: 2)
        let fetched = try w.run(["fetch", "f0", "--inline"])
        #expect(fetched.status == 0, "\(fetched.stderr)")
        #expect(try w.delivered().count == 4)
    }

    @Test func queueCommands() throws {
        let w = try Workspace(feeds: 2, items: 1)
        defer { w.remove() }
        let enqueued = try w.run(["fetch", "f0", "f1"])
        let ids = enqueued.stdout.split(separator: "\n").compactMap { Int($0) }
        #expect(enqueued.status == 0 && ids.count == 2)
        let stats = try #require(try JSONSerialization.jsonObject(with: Data(try w.run(["queue", "stats", "--json"]).stdout.utf8)) as? [String: Any])
        #expect(Set(stats.keys) == ["queued", "running", "done", "failed", "dead", "cancelled", "oldest_queued_age_s", "jobs_per_min_1h", "daemons"])
        #expect(stats["queued"] as? Int == 2)
        let cancelled = try w.run(["queue", "cancel", String(ids[0]), "999"])
        #expect(cancelled.stdout.contains("cancelled: \(ids[0])") && cancelled.stderr.contains("999"))
        let shown = try #require(try JSONSerialization.jsonObject(with: Data(try w.run(["queue", "show", String(ids[0]), "--json"]).stdout.utf8)) as? [String: Any])
        #expect((shown["job"] as? [String: Any])?["state"] as? String == "cancelled")
        #expect(try w.run(["queue", "show", "424242"]).status == 64)
        #expect(try w.run(["queue", "list", "--state", "bogus"]).status == 64)
        #expect(try w.run(["fetch", "no-such-feed"]).status == 64)
        let status = try w.run(["status", "--json"])
        #expect(status.status == 0 && status.stdout.contains(#""daemon_alive":false"#))
    }

    /// SPEC section 4 and DESIGN's "Delivery without loss": a process killed
    /// with SIGKILL at random moments, many times, then run to the end.
    @Test(.timeLimit(.minutes(5)))
    func killedAtRandomMomentsNothingIsLostOrDoubled() throws {
        let feeds = 200, items = 5
        let w = try Workspace(feeds: feeds, items: items)
        defer { w.remove() }
        var rng = SystemRandomNumberGenerator()
        var kills = 0
        for _ in 0..<12 {
            let p = Process()
            p.executableURL = Binary.url
            p.arguments = ["run", "--once", "--all", "--config", w.config]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            Thread.sleep(forTimeInterval: Double.random(in: 0.03...0.4, using: &rng))
            if p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                kills += 1
            }
            p.waitUntilExit()
        }
        let final = try w.run(["run", "--once", "--all"])
        #expect(final.status == 0, "\(final.stderr)")
        let delivered = try w.delivered()
        let keys = delivered.map { "\(($0["feed"] as? [String: Any])?["id"] as? String ?? "?")/\($0["guid"] as? String ?? "?")" }
        #expect(delivered.count == feeds * items, "\(delivered.count) files after \(kills) kills")
        #expect(Set(keys).count == feeds * items)
        #expect(Set(delivered.compactMap { $0["id"] as? String }).count == feeds * items)
        #expect(try FileManager.default.contentsOfDirectory(atPath: w.dir.appendingPathComponent("spool/tmp").path).isEmpty)
        let running = try w.run(["queue", "list", "--state", "running", "--json"])
        #expect(running.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        print("crash test: \(kills) SIGKILLs, \(delivered.count) items delivered once each")
    }
}

@Suite struct FullDiskTests {
    /// The spool on a 64 KiB tmpfs (needs root, as CI has; skipped otherwise).
    @Test(.enabled(if: geteuid() == 0, "mounting a tmpfs needs root"))
    func aFullDiskFailsTheJobAndTheItemsArriveOnceThereIsSpace() throws {
        let w = try Workspace(feeds: 1, items: 40)
        defer { w.remove() }
        // Stories of about 4 KiB each: 160 KiB in all, more than the spool holds. Each
        // its own words, so that copy detection does not (rightly) drop them as copies.
        var xml = "<rss version=\"2.0\"><channel><title>Big</title>"
        for k in 0..<40 {
            let big = (0..<500).map { "w\((k * 1000 + $0) * 7919 % 99991)" }.joined(separator: " ")
            xml += "<item><title>S\(k)</title><guid>big-\(k)</guid><description>\(big)</description></item>"
        }
        try Data((xml + "</channel></rss>").utf8).write(to: w.dir.appendingPathComponent("feeds/f0.xml"))
        let spool = w.dir.appendingPathComponent("spool")
        try FileManager.default.createDirectory(at: spool, withIntermediateDirectories: true)
        func mount(_ args: [String]) throws -> Int32 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/mount")
            p.arguments = args
            try p.run()
            p.waitUntilExit()
            return p.terminationStatus
        }
        try #require(try mount(["-t", "tmpfs", "-o", "size=64k", "feedspool-full", spool.path]) == 0)
        defer {
            let u = Process()
            u.executableURL = URL(fileURLWithPath: "/bin/umount")
            u.arguments = [spool.path]
            try? u.run()
            u.waitUntilExit()
        }
        let full = try w.run(["run", "--once"])
        #expect(full.status == 1)
        #expect(full.stderr.contains("no space left on the device"), "\(full.stderr)")
        let partial = try w.delivered().count
        #expect(partial < 40)
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool.appendingPathComponent("tmp").path).isEmpty)
        // Every file that did land is whole.
        #expect(try w.delivered().allSatisfy { $0["schema"] as? String == "feedspool.item/1" })

        // Space returns; the failed job is retried by hand (it would be after its backoff).
        try #require(try mount(["-o", "remount,size=4m", spool.path]) == 0)
        let failed = try #require(try JSONSerialization.jsonObject(with: Data(try w.run(["queue", "list", "--state", "failed", "--json"]).stdout.utf8)) as? [[String: Any]])
        let id = try #require(failed.first?["id"] as? Int)
        #expect(try w.run(["queue", "retry", String(id)]).status == 0)
        let again = try w.run(["run", "--once"])
        #expect(again.status == 0, "\(again.stderr)")
        let delivered = try w.delivered()
        #expect(delivered.count == 40)
        #expect(Set(delivered.compactMap { $0["guid"] as? String }).count == 40)
    }
}
