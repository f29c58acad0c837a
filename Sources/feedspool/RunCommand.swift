import ArgumentParser
import Daemon
import FeedspoolModel
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the pipeline: with --once, enqueue what is due, work the queue until it is empty, exit.",
        discussion: "Exit 0 when every job ended done, 1 when any failed (all jobs still ran).")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Work the queue until it is empty, then exit.")
    var once = false

    @Flag(help: "With --once: enqueue every feed, not only those that are due.")
    var all = false

    func validate() throws {
        if all && !once { throw ValidationError("--all goes with --once.") }
        if !once {
            throw ValidationError("This build runs the pipeline with --once only; the long-running daemon (timers, signals, systemd) is not built yet.")
        }
    }

    func run() throws {
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
                w.endObject()
                Console.out(w.string)
            } else {
                Console.out("\(tally.done + tally.failed) jobs: \(tally.done) done, \(tally.failed) failed; \(tally.itemsNew) new items in \(p.config.spool)/new")
            }
            for (id, outcome) in tally.outcomes.sorted(by: { $0.key < $1.key }) {
                if case .failed(let state, let message) = outcome { Console.error("job \(id) \(state.rawValue): \(message)") }
            }
            if tally.failed > 0 { throw ExitCode(ExitStatus.workFailed.rawValue) }
        }
    }
}
