import ArgumentParser
import FeedspoolModel
import Foundation
import Store

struct QueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue", abstract: "Inspect and steer the job queue.",
        subcommands: [List.self, Stats.self, Show.self, Retry.self, Cancel.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Jobs, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Comma-separated states: queued,running,done,failed,dead,cancelled.") var state: String?
        @Option(help: "Only this feed's jobs.") var feed: String?
        @Option(help: "At most this many jobs.") var limit = 50

        func validate() throws {
            for s in (state ?? "").split(separator: ",") where JobState(rawValue: String(s)) == nil {
                throw ValidationError("unknown state \"\(s)\"; states are queued, running, done, failed, dead, cancelled.")
            }
            if limit < 1 { throw ValidationError("--limit must be at least 1.") }
        }

        func run() throws {
            try reportingFailures {
                let store = try Pipeline.openStore(try global.loadConfig())
                let states = state.map { Set($0.split(separator: ",").compactMap { JobState(rawValue: String($0)) }) } ?? Set(JobState.allCases)
                Console.out(Render.jobs(try store.listJobs(JobFilter(states: states, feedID: feed, limit: limit)), json: global.json))
            }
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts per state, oldest queued age, throughput, live daemons.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try reportingFailures {
                let store = try Pipeline.openStore(try global.loadConfig())
                let now = Date()
                let s = try store.queueStats(now: now)
                if global.json {
                    var w = JSONWriter()
                    w.beginObject()
                    for state in JobState.allCases { w.key(state.rawValue); w.value(s.counts[state] ?? 0) }
                    w.key("oldest_queued_age_s"); w.value(s.oldestQueuedAge.map { ($0 * 10).rounded() / 10 })
                    w.key("jobs_per_min_1h"); w.value((s.jobsPerMinuteLastHour * 100).rounded() / 100)
                    w.key("daemons")
                    w.beginArray()
                    for d in s.daemons {
                        w.beginObject()
                        w.key("host"); w.value(d.host)
                        w.key("pid"); w.value(Int(d.pid))
                        w.key("heartbeat_age_s"); w.value((now.timeIntervalSince(d.beatAt) * 10).rounded() / 10)
                        w.endObject()
                    }
                    w.endArray()
                    w.endObject()
                    Console.out(w.string)
                    return
                }
                Console.out(Render.table(["STATE", "JOBS"], JobState.allCases.map { [$0.rawValue, String(s.counts[$0] ?? 0)] }))
                Console.out("oldest queued: \(s.oldestQueuedAge.map { "\(Int($0)) s" } ?? "none"); jobs/min over the last hour: \(String(format: "%.2f", s.jobsPerMinuteLastHour))")
                Console.out(s.daemons.isEmpty ? "no daemon alive" : s.daemons.map { "daemon \($0.host) pid \($0.pid), last heartbeat \(Int(now.timeIntervalSince($0.beatAt))) s ago" }.joined(separator: "\n"))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One job with its attempts and errors.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The job id.") var id: Int64

        func run() throws {
            try reportingFailures {
                let store = try Pipeline.openStore(try global.loadConfig())
                guard let job = try store.job(id) else { throw Failure(.usage, "no job \(id); see feedspool queue list") }
                let attempts = try store.attempts(ofJob: id)
                if global.json {
                    var w = JSONWriter()
                    w.beginObject()
                    w.key("job"); Render.write(job, &w)
                    w.key("attempts")
                    w.beginArray()
                    for a in attempts {
                        w.beginObject()
                        w.key("number"); w.value(a.number)
                        w.key("owner"); w.value(a.owner)
                        w.key("started_at"); w.value(a.startedAt)
                        w.key("finished_at"); w.value(a.finishedAt)
                        w.key("outcome"); w.value(a.outcome)
                        w.key("error"); w.value(a.error)
                        w.endObject()
                    }
                    w.endArray()
                    w.endObject()
                    Console.out(w.string)
                    return
                }
                Console.out(Render.jobs([job], json: false))
                Console.out("")
                Console.out(Render.table(["ATTEMPT", "OWNER", "STARTED", "FINISHED", "OUTCOME", "ERROR"], attempts.map {
                    [String($0.number), $0.owner, Render.time($0.startedAt), Render.time($0.finishedAt), $0.outcome ?? "running", $0.error ?? ""]
                }))
            }
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put failed or dead jobs back to queued.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Job ids.") var ids: [Int64] = []
        @Flag(name: .customLong("all-dead"), help: "Every dead job.") var allDead = false

        func validate() throws {
            if ids.isEmpty && !allDead { throw ValidationError("name job ids, or --all-dead.") }
        }

        func run() throws {
            try reportingFailures {
                let store = try Pipeline.openStore(try global.loadConfig())
                var changed = try store.retry(ids, now: Date())
                if allDead { changed += try store.retryAllDead(now: Date()) }
                Console.out(global.json ? "{\"retried\":[\(changed.map(String.init).joined(separator: ","))]}" : "retried: \(changed.isEmpty ? "none" : changed.map(String.init).joined(separator: " "))")
                let skipped = Set(ids).subtracting(changed)
                if !skipped.isEmpty {
                    Console.error("not retried (not failed or dead, or the feed has a live job): \(skipped.sorted().map(String.init).joined(separator: " "))")
                }
            }
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel queued jobs.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Job ids.") var ids: [Int64]

        func run() throws {
            try reportingFailures {
                let store = try Pipeline.openStore(try global.loadConfig())
                let changed = try store.cancel(ids, now: Date())
                Console.out(global.json ? "{\"cancelled\":[\(changed.map(String.init).joined(separator: ","))]}" : "cancelled: \(changed.isEmpty ? "none" : changed.map(String.init).joined(separator: " "))")
                let skipped = Set(ids).subtracting(changed)
                if !skipped.isEmpty { Console.error("not cancelled (not queued): \(skipped.sorted().map(String.init).joined(separator: " "))") }
            }
        }
    }
}
