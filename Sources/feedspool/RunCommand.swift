import ArgumentParser
import Config
import Daemon
import Logging
import FeedspoolModel
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon in the foreground; with --once, work the queue until it is empty and exit.",
        discussion: """
            The daemon fetches each feed when due, reloads config.json on SIGHUP, and on SIGTERM or SIGINT lets \
            running jobs finish (--grace), hands the rest back to the queue and exits 0. It speaks systemd's \
            $NOTIFY_SOCKET protocol (Type=notify). With --once: exit 0 when every job ended done, 1 when any failed.

            The daemon logs events from info up to stderr; $FEEDSPOOL_LOG_LEVEL (trace, debug, info, notice, \
            warning, error, critical) sets another level.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Work the queue until it is empty, then exit.")
    var once = false

    @Flag(help: "With --once: enqueue every feed, not only those that are due.")
    var all = false

    @Option(help: "Seconds running jobs get to finish after SIGTERM/SIGINT before they are handed back.")
    var grace: Double = 10

    func validate() throws {
        if all && !once { throw ValidationError("--all goes with --once.") }
        if grace < 0 { throw ValidationError("--grace must not be negative.") }
    }

    func run() throws {
        if !once { return try runDaemon() }
        try reportingFailures {
            let p = try Pipeline.open(try global.loadConfig())
            defer { p.shutdown() }
            try p.prepare()
            let now = Date()
            let feeds = all ? try p.store.feedStates().filter { !$0.gone } : try p.store.dueFeeds(now: now)
            for f in feeds {
                _ = try p.store.enqueue(feedID: f.id, url: f.effectiveURL, kind: .scheduled, runAt: now,
                                        maxAttempts: p.config.schedule.maxAttempts, now: now)
            }
            let tally = try QueueRunner(worker: p.worker, config: p.config).run()
            if global.json {
                var w = JSONWriter()
                w.beginObject()
                w.key("jobs"); w.value(tally.done + tally.failed)
                w.key("done"); w.value(tally.done)
                w.key("failed"); w.value(tally.failed)
                w.key("items_new"); w.value(tally.itemsNew)
                w.key("copies"); w.value(tally.copies)
                w.endObject()
                Console.out(w.string)
            } else {
                let copies =
                    tally.copies == 0
                    ? "" : " (\(tally.copies) syndicated \(tally.copies == 1 ? "copy" : "copies") \(p.config.dedup.duplicates == .drop ? "dropped" : "marked"))"
                Console.out(
                    "\(tally.done + tally.failed) jobs: \(tally.done) done, \(tally.failed) failed; \(tally.itemsNew) new items in \(p.config.spool)/new\(copies)")
            }
            for (id, outcome) in tally.outcomes.sorted(by: { $0.key < $1.key }) {
                if case .failed(let state, let message) = outcome { Console.error("job \(id) \(state.rawValue): \(message)") }
            }
            if tally.failed > 0 { throw ExitCode(ExitStatus.workFailed.rawValue) }
        }
    }
}

extension RunCommand {
    /// The long-running daemon: returns when it was stopped by SIGTERM or SIGINT.
    func runDaemon() throws {
        var status: Int32 = 0
        try reportingFailures {
            if case .failure(let e) = JournalLogHandler.level() { throw Failure(.configError, e.message) }
            LoggingSystem.bootstrap { JournalLogHandler(label: $0) }
            let config = try global.loadConfig()
            let p = try Pipeline.open(config)
            defer { p.shutdown() }
            let file = config.file
            let daemon = Daemon(config: config, store: p.store, spool: p.spool, fetcher: p.fetcher, grace: grace) {
                try Config.load(from: file)
            }
            status = daemon.run()
        }
        if status != 0 { throw ExitCode(status) }
    }
}
