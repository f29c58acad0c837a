import ArgumentParser
import FeedspoolModel
import Foundation
import Spool
import Store

struct FeedsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "feeds", abstract: "Configured feeds.", subcommands: [List.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Feeds with last fetch, last status, next due time, error streak, items delivered.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try reportingFailures {
                let config = try global.loadConfig()
                let store = try Pipeline.openStore(config)
                try store.syncFeeds(config.feeds.map { (id: $0.id, url: $0.url) }, now: Date())
                let feeds = try store.feedStates()
                if global.json {
                    var w = JSONWriter()
                    w.beginArray()
                    for f in feeds {
                        w.beginObject()
                        w.key("id"); w.value(f.id)
                        w.key("url"); w.value(f.url)
                        w.key("effective_url"); w.value(f.effectiveURL)
                        w.key("title"); w.value(f.title)
                        w.key("last_fetch"); w.value(f.lastFetchAt)
                        w.key("last_status"); w.value(f.lastStatus)
                        w.key("last_http_status"); w.value(f.lastHTTPStatus)
                        w.key("next_due"); w.value(f.gone ? nil : f.nextDueAt)
                        w.key("error_streak"); w.value(f.errorStreak)
                        w.key("gone"); w.value(f.gone)
                        w.key("items_delivered"); w.value(f.itemsDelivered)
                        w.endObject()
                    }
                    w.endArray()
                    Console.out(w.string)
                    return
                }
                Console.out(Render.table(["ID", "LAST FETCH", "STATUS", "NEXT DUE", "ERRORS", "ITEMS", "URL"], feeds.map { f in
                    [f.id, Render.time(f.lastFetchAt), f.gone ? "gone (410): no longer polled" : (f.lastStatus ?? "never fetched"),
                     f.gone ? "-" : Render.time(f.nextDueAt), String(f.errorStreak), String(f.itemsDelivered), f.effectiveURL]
                }))
            }
        }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "One screen: daemon alive, queue counts, feeds in error, spool backlog, store size.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        try reportingFailures {
            let config = try global.loadConfig()
            let store = try Pipeline.openStore(config)
            let now = Date()
            let stats = try store.queueStats(now: now)
            let feeds = try store.feedStates()
            let failing = feeds.filter { $0.errorStreak > 0 || $0.gone }
            let backlog = (try? Spool(root: config.spool).backlog()) ?? 0
            var storeBytes = 0
            if case .sqlite(let path) = config.store {
                for suffix in ["", "-wal", "-shm"] {
                    storeBytes += (try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? Int) ?? 0
                }
            }
            let alive = stats.daemons.filter { now.timeIntervalSince($0.beatAt) < 120 }
            if global.json {
                var w = JSONWriter()
                w.beginObject()
                w.key("daemon_alive"); w.value(!alive.isEmpty)
                w.key("queue")
                w.beginObject()
                for s in JobState.allCases { w.key(s.rawValue); w.value(stats.counts[s] ?? 0) }
                w.endObject()
                w.key("feeds"); w.value(feeds.count)
                w.key("feeds_in_error"); w.value(failing.map(\.id))
                w.key("spool_backlog"); w.value(backlog)
                w.key("store_bytes"); w.value(storeBytes)
                w.endObject()
                Console.out(w.string)
                return
            }
            Console.out("daemon:   \(alive.isEmpty ? "not running" : alive.map { "\($0.host) pid \($0.pid)" }.joined(separator: ", "))")
            Console.out("queue:    " + JobState.allCases.map { "\($0.rawValue) \(stats.counts[$0] ?? 0)" }.joined(separator: ", "))
            Console.out("feeds:    \(feeds.count), in error: \(failing.isEmpty ? "none" : failing.map(\.id).joined(separator: ", "))")
            Console.out("spool:    \(backlog) files waiting in \(config.spool)/new")
            Console.out("store:    \(storeBytes) bytes")
        }
    }
}
