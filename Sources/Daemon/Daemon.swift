import Config
import FeedspoolModel
import Fetch
import Foundation
import Logging
import Spool
import Store

#if canImport(Glibc)
    import Glibc
#endif

/// `feedspool run`: the long-running daemon, driven by Dispatch timers and
/// signal sources (no polling thread, no thread per feed).
///
/// - A schedule timer fires when the next feed is due and enqueues every due feed.
/// - Jobs are claimed whenever a slot is free (`fetch.concurrency`); a 2 s
///   maintenance timer also picks up manual jobs enqueued by `feedspool fetch`
///   from other processes, renews leases, rescues expired ones and beats the heartbeat.
/// - SIGHUP reloads config.json (an invalid one is logged and the old kept);
///   SIGTERM/SIGINT stop claiming, give running jobs `grace` seconds, hand the
///   rest back to the queue and exit 0.
/// - systemd: READY=1, STATUS=, WATCHDOG=1 at half of WATCHDOG_USEC while the
///   store answers, RELOADING=1 + MONOTONIC_USEC around a reload, STOPPING=1.
///
/// `@unchecked Sendable`: every mutable property is touched only on `queue`.
public final class Daemon: @unchecked Sendable {
    private let queue = DispatchQueue(label: "feedspool.daemon")
    private var config: Config
    private let reload: @Sendable () throws -> Config
    private let store: any Store
    private let spool: Spool
    private let fetcher: Fetcher
    private var worker: Worker
    private let owner: String
    private let grace: TimeInterval
    private let log = Logger(label: "feedspool.daemon")
    private let notifier = SystemdNotifier()
    private let host = ProcessInfo.processInfo.hostName
    private let startedAt = Date()

    private var inFlight: [Int64: FetchJob] = [:]
    private var stopping = false
    private var finished = false
    private var jobsDone = 0, jobsFailed = 0, itemsDelivered = 0
    private var timers: [DispatchSourceTimer] = []
    private var scheduleTimer: DispatchSourceTimer?
    private var jobWakeups: DispatchSourceRead?
    private var signals: [DispatchSourceSignal] = []
    private var lastMaintenance = Date.distantPast
    /// The process keeps the memory it frees while it works (`ProcessMemory`); see
    /// `returnFreedMemoryWhenIdle`.
    private var lastJobEnd = Date.distantPast
    private var lastMemoryReturn = Date()
    private var workedSinceMemoryReturn = false
    /// Maintenance ticks left in which to reach arenas that kept a large free top
    /// at the last return (`returnFreedMemoryWhenIdle`).
    private var memoryReturnRetries = 0
    private let metrics = DaemonMetrics()
    private var healthServer: HealthServer?
    private let exit = DispatchSemaphore(value: 0)
    private var exitStatus: Int32 = 0

    public init(config: Config, store: any Store, spool: Spool, fetcher: Fetcher, grace: TimeInterval,
                reload: @escaping @Sendable () throws -> Config) {
        self.config = config
        self.store = store
        self.spool = spool
        self.fetcher = fetcher
        self.grace = grace
        self.reload = reload
        owner = "\(host):\(getpid()):\(UUID().uuidString.prefix(8))"
        worker = Worker(store: store, spool: spool, fetcher: fetcher, config: config, owner: owner)
    }

    /// Runs until SIGTERM or SIGINT; returns the exit status (0 after a clean drain).
    public func run() -> Int32 {
        installSignalHandlers()
        queue.async { self.start() }
        exit.wait()
        return exitStatus
    }

    // MARK: start

    private func start() {
        dispatchPrecondition(condition: .onQueue(queue))
        do {
            try store.syncFeeds(config.feeds.map { (id: $0.id, url: $0.url) }, now: Date())
            try reclaimOrphanedJobs(store)
            try store.beat(host: host, pid: getpid(), startedAt: startedAt, now: Date())
        } catch {
            log.error("cannot start", metadata: ["reason": "\(error.message)"])
            finish(status: 74)
            return
        }
        let maintenance = DispatchSource.makeTimerSource(queue: queue)
        maintenance.setEventHandler { [weak self] in self?.maintain() }
        maintenance.schedule(deadline: .now() + 2, repeating: 2)
        maintenance.resume()
        timers.append(maintenance)
        if let interval = SystemdNotifier.watchdogInterval() {
            let watchdog = DispatchSource.makeTimerSource(queue: queue)
            watchdog.setEventHandler { [weak self] in self?.watchdog() }
            watchdog.schedule(deadline: .now(), repeating: interval / 2)
            watchdog.resume()
            timers.append(watchdog)
        }
        if let listen = config.metrics.listen {
            do {
                healthServer = try HealthServer(listen: listen) { [weak self] path in
                    self?.queue.sync { self?.answer(path) } ?? HealthServer.Response(status: 503, contentType: "text/plain", body: Array("stopping\n".utf8))
                }
                log.info("serving metrics and health", metadata: ["metrics": "http://\(listen)/metrics", "health": "http://\(listen)/healthz"])
            } catch {
                log.error("cannot serve metrics", metadata: ["reason": "\((error as? HealthServerError)?.message ?? "\(error)")"])
                finish(status: 78)
                return
            }
        }
        listenForJobs()
        let s = DispatchSource.makeTimerSource(queue: queue)
        s.setEventHandler { [weak self] in self?.scheduleDueFeeds() }
        s.resume()
        scheduleTimer = s
        log.info("started", metadata: ["feeds": "\(config.feeds.count)", "spool": "\(config.spool)", "owner": "\(owner)"])
        notifier?.notify("READY=1\nSTATUS=\(status())\nMAINPID=\(getpid())")
        scheduleDueFeeds()
    }

    // MARK: scheduling and claiming

    /// Enqueues every feed that is due, then arms the timer for the next one.
    private func scheduleDueFeeds() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !stopping else { return }
        let now = Date()
        do {
            for f in try store.dueFeeds(now: now) {
                _ = try store.enqueue(feedID: f.id, url: f.effectiveURL, kind: .scheduled, runAt: now,
                                      maxAttempts: config.schedule.maxAttempts, now: now)
            }
            fill()
            armScheduleTimer()
        } catch {
            log.error("scheduling failed", metadata: ["reason": "\(error.message)"])
            scheduleTimer?.schedule(deadline: .now() + 30)
        }
    }

    /// The timer fires when the next configured feed is due (at most an hour away).
    private func armScheduleTimer() {
        let now = Date()
        let next = (try? store.nextDueAt()) ?? nil
        let wait = max(0.5, min(3600, (next ?? now.addingTimeInterval(3600)).timeIntervalSince(now)))
        scheduleTimer?.schedule(deadline: .now() + wait)
    }

    /// Claims jobs while there are free slots.
    private func fill() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !stopping else { return }
        let room = config.fetch.concurrency - inFlight.count
        guard room > 0 else { return }
        let claimed: [FetchJob]
        do {
            claimed = try store.claimJobs(limit: room, owner: owner, leaseFor: leaseSeconds, now: Date())
        } catch {
            log.error("claiming jobs failed", metadata: ["reason": "\(error.message)"])
            return
        }
        let worker = self.worker
        for job in claimed {
            inFlight[job.id] = job
            worker.process(job) { [weak self] outcome in
                guard let self else { return }
                self.queue.async { self.jobEnded(job, outcome) }
            }
        }
    }

    private var leaseSeconds: TimeInterval { 2 * Double(config.fetch.timeout.seconds) + 60 }

    private func jobEnded(_ job: FetchJob, _ outcome: JobOutcome) {
        dispatchPrecondition(condition: .onQueue(queue))
        inFlight[job.id] = nil
        lastJobEnd = Date()
        workedSinceMemoryReturn = true
        metrics.record(outcome)
        switch outcome {
        case .done(let r):
            jobsDone += 1
            itemsDelivered += r.itemsNew
            if r.itemsNew > 0 { log.info("new items", metadata: ["feed": "\(job.feedID)", "items": "\(r.itemsNew)", "job": "\(job.id)"]) }
        case .failed(let state, let message):
            jobsFailed += 1
            log.log(level: state == .dead ? .error : .warning, "fetch failed",
                    metadata: ["feed": "\(job.feedID)", "job": "\(job.id)", "state": "\(state.rawValue)", "reason": "\(message)"])
        }
        if stopping {
            if inFlight.isEmpty { drained() }
            return
        }
        fill()
        armScheduleTimer()
    }

    /// With PostgreSQL, a job enqueued on any machine wakes this daemon at once
    /// (LISTEN/NOTIFY on a read source); otherwise, and if that connection is
    /// lost, the 2 s maintenance timer finds it.
    private func listenForJobs() {
        do {
            guard let wakeups = try store.listenForJobs() else { return }
            let source = DispatchSource.makeReadSource(fileDescriptor: wakeups.fileDescriptor, queue: queue)
            source.setEventHandler { [weak self] in
                guard let self else { return }
                do {
                    if try wakeups.drain(), !self.stopping { self.fill() }
                } catch {
                    self.log.warning("job notifications stopped; polling every 2 s", metadata: ["reason": "\((error as? StoreError)?.message ?? "\(error)")"])
                    self.jobWakeups?.cancel()
                    self.jobWakeups = nil
                }
            }
            source.setCancelHandler { _ = wakeups }  // keeps the connection open as long as the source
            source.resume()
            jobWakeups = source
        } catch {
            log.warning("no job notifications; polling every 2 s", metadata: ["reason": "\(error.message)"])
        }
    }

    // MARK: maintenance

    private func maintain() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !stopping else { return }
        fill()  // manual jobs from `feedspool fetch` in another process
        let now = Date()
        returnFreedMemoryWhenIdle(now)
        guard now.timeIntervalSince(lastMaintenance) >= 15 else { return }
        lastMaintenance = now
        do {
            try store.renewLeases(Array(inFlight.keys), owner: owner, until: now.addingTimeInterval(leaseSeconds))
            let rescued = try store.rescueExpiredLeases(now: now)
            if rescued > 0 { log.warning("jobs whose worker stopped went back to the queue", metadata: ["jobs": "\(rescued)"]) }
            try store.beat(host: host, pid: getpid(), startedAt: startedAt, now: now)
            notifier?.notify("STATUS=\(status())")
        } catch {
            log.error("maintenance failed", metadata: ["reason": "\(error.message)"])
        }
    }

    /// How long the daemon waits without a job before it gives freed memory back.
    static let idleBeforeMemoryReturn: TimeInterval = 10
    /// How often a daemon that is never idle gives freed memory back all the same.
    static let busyMemoryReturnInterval: TimeInterval = 600

    /// Gives the memory the process freed back to the kernel once no job has run for
    /// `idleBeforeMemoryReturn` (and every `busyMemoryReturnInterval` in a daemon
    /// never idle so long). While jobs run, it stays for the next ones: given back
    /// at once, as glibc does by default, the next large feed faulted it in again
    /// page by page (`ProcessMemory`). Memory at the top of an arena of a Dispatch
    /// thread still alive is out of reach at first; the next few ticks, each on
    /// some such thread, try again while the daemon stays idle.
    private func returnFreedMemoryWhenIdle(_ now: Date) {
        let retry = !workedSinceMemoryReturn && memoryReturnRetries > 0 && inFlight.isEmpty
        if retry {
            memoryReturnRetries -= 1
        } else {
            guard workedSinceMemoryReturn else { return }
            let idle = inFlight.isEmpty && now.timeIntervalSince(lastJobEnd) >= Self.idleBeforeMemoryReturn
            guard idle || now.timeIntervalSince(lastMemoryReturn) >= Self.busyMemoryReturnInterval else { return }
            lastMemoryReturn = now
            workedSinceMemoryReturn = false
            memoryReturnRetries = inFlight.isEmpty ? Self.memoryReturnRetryTicks : 0
        }
        // The resident size is read (from /proc) only for a log that shows it.
        let logging = log.logLevel <= .debug
        let before = logging ? ProcessMemory.residentBytes() : nil
        let started = DispatchTime.now()
        let largeTopsLeft = ProcessMemory.returnFreedMemory()
        if largeTopsLeft == 0 { memoryReturnRetries = 0 }
        if logging {
            let after = ProcessMemory.residentBytes()
            let ms = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6
            log.debug(
                retry ? "gave more freed memory back to the system" : "gave freed memory back to the system",
                metadata: [
                    "rss_mib_before": "\((before ?? 0) >> 20)", "rss_mib_after": "\((after ?? 0) >> 20)",
                    "ms": "\(String(format: "%.1f", ms))", "arenas": "\(ProcessMemory.arenaCount() ?? 0)",
                    "large_free_tops_left": "\(largeTopsLeft)",
                ])
        }
    }

    /// How many maintenance ticks (2 s apart) try again for memory out of reach at first.
    static let memoryReturnRetryTicks = 5

    /// WATCHDOG=1 only while the store answers.
    private func watchdog() {
        if (try? store.queueStats(now: Date())) != nil { notifier?.notify("WATCHDOG=1") }
    }

    /// `/metrics` and `/healthz`.
    private func answer(_ path: String) -> HealthServer.Response {
        dispatchPrecondition(condition: .onQueue(queue))
        switch path {
        case "/metrics":
            let stats = try? store.queueStats(now: Date())
            let body = metrics.render(stats: stats, feedStates: (try? store.feedStates()) ?? [], backlog: try? spool.backlog())
            return HealthServer.Response(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: body)
        case "/healthz":
            if let problem = healthProblem() {
                return HealthServer.Response(status: 503, contentType: "text/plain", body: Array("unhealthy: \(problem)\n".utf8))
            }
            return HealthServer.Response(status: 200, contentType: "text/plain", body: Array("ok\n".utf8))
        default:
            return HealthServer.Response(status: 404, contentType: "text/plain", body: Array("try /metrics or /healthz\n".utf8))
        }
    }

    /// Why the daemon cannot do its work, if it cannot: the store cannot be written, or the spool is not writable.
    private func healthProblem() -> String? {
        if stopping { return "stopping" }
        // A write, not just a read: a store that answers but cannot record anything is not healthy.
        do { try store.beat(host: host, pid: getpid(), startedAt: startedAt, now: Date()) } catch { return "store: \(error.message)" }
        for dir in [spool.tmp, spool.new] where access(dir, W_OK) != 0 {
            return "spool: \(dir) is not writable (\(String(cString: strerror(errno))))"
        }
        return nil
    }

    private func status() -> String {
        "\(config.feeds.count) feeds, \(inFlight.count) running, \(jobsDone) done, \(jobsFailed) failed, \(itemsDelivered) items delivered"
    }

    // MARK: signals

    private func installSignalHandlers() {
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            signal(sig, SIG_IGN)  // the Dispatch source gets it instead
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { [weak self] in
                if sig == SIGHUP { self?.reloadConfig() } else { self?.stop(signal: sig) }
            }
            source.resume()
            signals.append(source)
        }
    }

    private func reloadConfig() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !stopping else { return }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        notifier?.notify("RELOADING=1\nMONOTONIC_USEC=\(Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000)")
        do {
            let fresh = try reload()
            try store.syncFeeds(fresh.feeds.map { (id: $0.id, url: $0.url) }, now: Date())
            config = fresh
            worker = Worker(store: store, spool: spool, fetcher: fetcher, config: fresh, owner: owner)
            log.notice("reloaded", metadata: ["config": "\(fresh.file)", "feeds": "\(fresh.feeds.count)"])
            scheduleDueFeeds()
        } catch {
            let message = (error as? ConfigError)?.message ?? (error as? StoreError)?.message ?? "\(error)"
            log.error("reload refused, keeping the running config", metadata: ["reason": "\(message)"])
        }
        notifier?.notify("READY=1\nSTATUS=\(status())")
    }

    private func stop(signal sig: Int32) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !stopping else { return }
        stopping = true
        notifier?.notify("STOPPING=1\nSTATUS=stopping: \(inFlight.count) jobs finishing")
        log.notice("stopping", metadata: ["signal": "\(sig)", "running": "\(inFlight.count)", "grace_s": "\(Int(grace))"])
        scheduleTimer?.cancel()
        if inFlight.isEmpty {
            drained()
            return
        }
        let deadline = DispatchSource.makeTimerSource(queue: queue)
        deadline.setEventHandler { [weak self] in self?.drained() }
        deadline.schedule(deadline: .now() + grace)
        deadline.resume()
        timers.append(deadline)
    }

    /// Hands back what still runs, stops the timers, says goodbye.
    private func drained() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !finished else { return }
        do {
            let handedBack = try store.release(owner: owner, now: Date())
            if handedBack > 0 { log.notice("unfinished jobs handed back to the queue", metadata: ["jobs": "\(handedBack)"]) }
            try store.endHeartbeat(host: host, pid: getpid())
        } catch {
            log.error("stopping failed", metadata: ["reason": "\(error.message)"])
        }
        log.notice("stopped", metadata: ["jobs_done": "\(jobsDone)", "jobs_failed": "\(jobsFailed)", "items": "\(itemsDelivered)"])
        finish(status: 0)
    }

    private func finish(status: Int32) {
        finished = true
        let server = healthServer
        healthServer = nil
        DispatchQueue.global().async { server?.stop() }
        for t in timers { t.cancel() }
        timers = []
        jobWakeups?.cancel()
        jobWakeups = nil
        scheduleTimer?.cancel()
        for s in signals { s.cancel() }
        signals = []
        exitStatus = status
        exit.signal()
    }
}
