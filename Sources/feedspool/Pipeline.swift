import Config
import Daemon
import FeedspoolModel
import Fetch
import Foundation
import Spool
import Store

/// The store, spool, fetcher and worker of one config, opened for a command.
struct Pipeline {
    let config: Config
    let store: any Store
    let spool: Spool
    let fetcher: Fetcher
    let worker: Worker

    static func open(_ config: Config) throws -> Pipeline {
        let store = try openStore(config)
        let spool = try Spool(root: config.spool)
        let fetcher = Fetcher(settings: Fetch.FetchSettings(config.fetch))
        let owner = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8))"
        let worker = Worker(store: store, spool: spool, fetcher: fetcher, config: config, owner: owner)
        return Pipeline(config: config, store: store, spool: spool, fetcher: fetcher, worker: worker)
    }

    static func openStore(_ config: Config) throws -> any Store {
        switch config.store {
        case .sqlite(let path): return try SQLiteStore(path: path)
        case .postgres(let url): return try PostgresStore(url: url)
        }
    }

    /// Registers the configured feeds and returns jobs whose worker died to the
    /// queue: at once when that worker was a process on this machine that no
    /// longer exists, else when its lease expires.
    func prepare() throws {
        try store.syncFeeds(config.feeds.map { (id: $0.id, url: $0.url) }, now: Date())
        try reclaimOrphanedJobs(store)
    }

    func shutdown() { fetcher.shutdown() }
}
