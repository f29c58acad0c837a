import Config
import FeedspoolModel
import Foundation
import Store
import Synchronization

/// Returns jobs whose worker died to the queue: at once when that worker was a
/// process of this machine that no longer exists (its owner is `host:pid:…`),
/// else when its lease expires. Every process that works the queue calls it at start.
public func reclaimOrphanedJobs(_ store: any Store, now: Date = Date()) throws(StoreError) {
    let host = ProcessInfo.processInfo.hostName
    let dead = try store.leaseOwners().filter { owner in
        let parts = owner.split(separator: ":")
        guard parts.count >= 3, parts[0] == host, let pid = Int32(parts[1]), pid != getpid() else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
    _ = try store.expireLeases(of: dead, now: now)
    _ = try store.rescueExpiredLeases(now: now)
}

/// What a run of the queue did.
public struct RunTally: Sendable, Equatable {
    public var done = 0
    public var failed = 0
    public var itemsNew = 0
    /// New items recognized as syndicated copies (dropped or marked, per `dedup.duplicates`).
    public var copies = 0
    public var outcomes: [Int64: JobOutcome] = [:]
}

/// Works the queue until nothing is due: claims as many jobs as there are free
/// slots (`fetch.concurrency`), renews their leases while they run, and
/// waits for a completion (no polling) before claiming again.
public final class QueueRunner: Sendable {
    private let worker: Worker
    private let store: any Store
    private let concurrency: Int
    /// Long enough for a whole fetch and parse; renewed at a third of it.
    public let leaseSeconds: TimeInterval
    private let now: @Sendable () -> Date

    public init(worker: Worker, config: Config, now: @escaping @Sendable () -> Date = Date.init) {
        self.worker = worker
        self.store = worker.store
        concurrency = config.fetch.concurrency
        leaseSeconds = 2 * Double(config.fetch.timeout.seconds) + 60
        self.now = now
    }

    /// Runs until the queue has nothing due and nothing is in flight.
    /// `only`: stop once these jobs have ended (they are manual, so claimed first).
    public func run(only: Set<Int64>? = nil) throws(StoreError) -> RunTally {
        let state = Mutex((inFlight: Set<Int64>(), tally: RunTally()))
        let finished = DispatchSemaphore(value: 0)
        let owner = worker.owner
        let renewals = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "feedspool.lease-renewal"))
        renewals.setEventHandler { [store, leaseSeconds, now] in
            let ids = state.withLock { Array($0.inFlight) }
            try? store.renewLeases(ids, owner: owner, until: now().addingTimeInterval(leaseSeconds))
        }
        renewals.schedule(deadline: .now() + leaseSeconds / 3, repeating: leaseSeconds / 3)
        renewals.resume()
        defer { renewals.cancel() }

        while true {
            let (inFlight, remaining) = state.withLock { s in
                (s.inFlight.count, only.map { $0.subtracting(s.tally.outcomes.keys).count })
            }
            if remaining == 0 && inFlight == 0 { break }
            let room = concurrency - inFlight
            let claimed = room > 0 && remaining != 0
                ? try store.claimJobs(limit: min(room, remaining ?? room), owner: owner, leaseFor: leaseSeconds, now: now())
                : []
            if claimed.isEmpty {
                if inFlight == 0 { break }
                finished.wait()
                continue
            }
            for job in claimed {
                state.withLock { _ = $0.inFlight.insert(job.id) }
                worker.process(job) { outcome in
                    state.withLock { s in
                        s.inFlight.remove(job.id)
                        s.tally.outcomes[job.id] = outcome
                        switch outcome {
                        case .done(let r):
                            s.tally.done += 1
                            s.tally.itemsNew += r.itemsNew
                            s.tally.copies += r.copies?.values.reduce(0, +) ?? 0
                        case .failed:
                            s.tally.failed += 1
                        }
                    }
                    finished.signal()
                }
            }
        }
        return state.withLock { $0.tally }
    }
}
