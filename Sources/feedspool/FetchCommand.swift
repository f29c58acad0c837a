import ArgumentParser
import Config
import Daemon
import FeedspoolModel
import Foundation
import Store

struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Fetch feeds now: enqueue manual jobs ahead of scheduled work and print their ids.",
        discussion: "A URL that is not in the config is fetched as an ad-hoc feed.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Feed ids or URLs.")
    var targets: [String]

    @Flag(help: "Run the jobs in this process right away; no daemon needed.")
    var inline = false

    @Option(name: .long, help: ArgumentHelp("Wait until the jobs end (at most SECONDS, default 300) and print them.", valueName: "SECONDS"))
    var wait: Double?

    func run() throws {
        try reportingFailures {
            let config = try global.loadConfig()
            let p = try Pipeline.open(config)
            defer { p.shutdown() }
            try p.prepare()
            let now = Date()
            var jobs: [FetchJob] = []
            for target in targets {
                let (id, url) = try resolve(target, config: config)
                if config.feeds.first(where: { $0.id == id }) == nil { try p.store.ensureFeed(id: id, url: url, now: now) }
                let url2 = try p.store.feedState(id)?.effectiveURL ?? url
                jobs.append(try p.store.enqueue(feedID: id, url: url2, kind: .manual, runAt: now, maxAttempts: config.schedule.maxAttempts, now: now))
            }
            if inline {
                _ = try QueueRunner(worker: p.worker, config: config).run(only: Set(jobs.map(\.id)))
            } else if let wait {
                try waitFor(jobs.map(\.id), store: p.store, seconds: wait)
            }
            if !inline && wait == nil {
                for j in jobs { Console.out(global.json ? "{\"job\":\(j.id),\"feed\":\"\(j.feedID)\"}" : "\(j.id)") }
                return
            }
            let finished = try jobs.compactMap { try p.store.job($0.id) }
            Console.out(Render.jobs(finished, json: global.json))
            if finished.contains(where: { $0.state != .done }) { throw ExitCode(ExitStatus.workFailed.rawValue) }
        }
    }

    /// A configured feed by id or URL, or an ad-hoc feed for a URL.
    private func resolve(_ target: String, config: Config) throws -> (String, String) {
        if let f = config.feeds.first(where: { $0.id == target || $0.url == target }) { return (f.id, f.url) }
        guard let scheme = URL(string: target)?.scheme?.lowercased(), ["http", "https"].contains(scheme) else {
            throw Failure(.usage, "\(target): no feed with this id in \(config.file), and not an http(s) URL")
        }
        return (FeedSlug.make(from: target, directory: config.directory), target)
    }

    /// Another process (the daemon) runs the jobs; look at the store until they end.
    private func waitFor(_ ids: [Int64], store: any Store, seconds: Double) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let states = try ids.compactMap { try store.job($0)?.state }
            if states.allSatisfy({ !$0.isLive || $0 == .failed }) { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw Failure(.workFailed, "jobs \(ids.map(String.init).joined(separator: ", ")) did not end within \(Int(seconds)) s; is a daemon running? (feedspool queue stats)")
    }
}
