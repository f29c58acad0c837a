import Config
import Dedup
import FeedspoolModel
import Fetch
import Foundation
import Parse
import Spool
import Store
import Synchronization

/// How a job ended, for the caller's tally and exit code.
public enum JobOutcome: Sendable, Equatable {
    case done(JobResult)
    case failed(JobState, String)
}

/// Runs one job: fetch, parse, decide what is new, write the spool, commit the
/// store, in the order of DESIGN's "Delivery without loss". `feedspool run`,
/// `run --once` and `fetch --inline` all go through `process`.
public final class Worker: Sendable {
    let store: any Store
    let spool: Spool
    let fetcher: Fetcher
    let config: Config
    let owner: String
    private let schedule: Schedule
    private let feedSettings: [String: FeedSettings]
    /// Parsing and delivery: fetch wide, parse narrow (one operation per core).
    private let parsing: OperationQueue
    /// Copy detection; its in-memory index is shared by every job of this process.
    let dedup: Deduplicator
    private let lastPrune = Mutex<Date?>(nil)
    private let now: @Sendable () -> Date
    private let random: @Sendable () -> Double

    public init(
        store: any Store, spool: Spool, fetcher: Fetcher, config: Config, owner: String,
        now: @escaping @Sendable () -> Date = Date.init, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.store = store
        self.spool = spool
        self.fetcher = fetcher
        self.config = config
        self.owner = owner
        self.now = now
        self.random = random
        schedule = Schedule(config.schedule)
        dedup = Deduplicator(policy: DedupPolicy(config.dedup))
        feedSettings = Dictionary(config.feeds.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let q = OperationQueue()
        q.name = "feedspool.parse"
        q.maxConcurrentOperationCount = ProcessInfo.processInfo.activeProcessorCount
        parsing = q
    }

    /// Processes a job claimed by `owner`; `completion` runs once the store has the outcome.
    public func process(_ job: FetchJob, completion: @escaping @Sendable (JobOutcome) -> Void) {
        let started = now()
        let state: FeedState
        do {
            state = try store.feedState(job.feedID) ?? FeedState(id: job.feedID, url: job.url, nextDueAt: started)
        } catch {
            completion(.failed(.failed, error.message))
            return
        }
        let request = FetchRequest(url: state.effectiveURL, etag: state.etag, lastModified: state.lastModified)
        fetcher.fetch(request) { [self] result in
            parsing.addOperation { [self] in
                let outcome = handle(job, state: state, started: started, fetched: result)
                pruneIfDue()
                completion(outcome)
            }
        }
    }

    /// Processes one job and waits for it (the CLI's `--inline`).
    public func processAndWait(_ job: FetchJob) -> JobOutcome {
        let box = OutcomeBox()
        let done = DispatchSemaphore(value: 0)
        process(job) { outcome in
            box.value = outcome
            done.signal()
        }
        done.wait()
        return box.value!
    }

    private func handle(_ job: FetchJob, state: FeedState, started: Date, fetched: Result<FetchResponse, FetchError>) -> JobOutcome {
        var feed = state
        let fetchedAt = now()
        feed.lastFetchAt = fetchedAt
        switch fetched {
        case .failure(.cancelled(let url)):
            // The fetcher was shut down (the daemon is stopping): the job was handed back; the feed did nothing wrong.
            return .failed(.queued, "\(url): cancelled at shutdown")
        case .failure(let error):
            var result = JobResult(seconds: fetchedAt.timeIntervalSince(started))
            if case .http(_, let status, _) = error { result.httpStatus = status; feed.lastHTTPStatus = status }
            if case .gone = error { result.httpStatus = 410; feed.lastHTTPStatus = 410; feed.gone = true }
            return fail(job, feed: feed, message: error.message, retryAfter: error.retryAfter, result: result)
        case .success(let response):
            feed.lastHTTPStatus = response.status
            if let etag = response.etag { feed.etag = etag }
            if let lm = response.lastModified { feed.lastModified = lm }
            if let moved = response.permanentRedirect { feed.effectiveURL = moved }
            var result = JobResult(httpStatus: response.status, bytes: response.body.count, seconds: 0)
            let configured = feedSettings[job.feedID]?.interval
            if response.isNotModified {
                feed.lastStatus = "not modified"
                feed.errorStreak = 0
                feed.nextDueAt = schedule.nextFetch(after: fetchedAt, configured: configured, feedHint: nil, maxAge: response.maxAge, random: random())
                result.seconds = now().timeIntervalSince(started)
                return commit(job, feed: feed, delivered: [], result: result)
            }
            let parsed: ParsedFeed
            do {
                parsed = try FeedParser.parse(
                    response.body,
                    options: ParseOptions(baseURL: URL(string: response.url), charset: response.charset, feedID: job.feedID,
                                          maxBytes: config.fetch.maxBytes))
            } catch {
                return fail(job, feed: feed, message: "\(response.url): \(error.message)", retryAfter: nil, result: result)
            }
            feed.title = parsed.feed.title ?? feed.title
            result.itemsSeen = parsed.items.count
            let delivery: Delivery
            do {
                delivery = try deliver(parsed, feed: feed, job: job, fetchedAt: fetchedAt)
            } catch let e as SpoolError {
                return fail(job, feed: feed, message: e.message, retryAfter: nil, result: result, countsAsFeedError: false)
            } catch let e as StoreError {
                return fail(job, feed: feed, message: e.message, retryAfter: nil, result: result, countsAsFeedError: false)
            } catch {
                return fail(job, feed: feed, message: "\(error)", retryAfter: nil, result: result, countsAsFeedError: false)
            }
            result.itemsNew = delivery.files
            result.copies = delivery.copies.isEmpty ? nil : delivery.copies
            feed.lastStatus = parsed.droppedItemsSummary.map { "ok, but \($0)" } ?? "ok"
            feed.errorStreak = 0
            feed.nextDueAt = schedule.nextFetch(
                after: fetchedAt, configured: configured, feedHint: parsed.feed.suggestedInterval, maxAge: response.maxAge, random: random())
            result.seconds = now().timeIntervalSince(started)
            return commit(job, feed: feed, delivered: delivery.keys, result: result)
        }
    }

    /// What one job delivered.
    private struct Delivery {
        /// Item keys the commit marks delivered, dropped copies included.
        var keys: [String]
        /// Files in the spool for them.
        var files: Int
        /// New items recognized as copies, by method.
        var copies: [String: Int]
    }

    /// Steps 1 and 2 of delivery: decide what is a copy and record the intents
    /// (one serialized transaction), then write the files (step 3, the commit, is the caller's).
    private func deliver(_ parsed: ParsedFeed, feed: FeedState, job: FetchJob, fetchedAt: Date) throws -> Delivery {
        let known = try store.knownItems(feedID: job.feedID, keys: parsed.items.map(\.key))
        let marksCopies = config.dedup.duplicates == .mark
        var planned: [(Item, KnownItem)] = []  // items that already have a decision
        var fresh: [(Item, String)] = []  // new items and their content hashes
        var alreadyThere: [String] = []
        var alreadyThereFiles = 0
        for var item in parsed.items {
            let hash = Self.contentHash(item)
            guard let k = known[item.key] else {
                fresh.append((item, hash))
                continue
            }
            if k.delivered && k.contentHash == hash { continue }  // unchanged: never again
            if !k.delivered && k.contentHash == hash {
                // An intent from an attempt that crashed: finish it, writing only if the file is missing.
                if k.fileName.isEmpty {
                    alreadyThere.append(k.key)  // a dropped copy: nothing to write
                } else if try spool.isDelivered(k.fileName) {
                    alreadyThere.append(k.key)
                    alreadyThereFiles += 1
                } else {
                    planned.append((item, k))
                }
                continue
            }
            // A changed story (or a changed intent): same id, new file, the decision it had.
            if k.delivered { item.updated = item.updated ?? fetchedAt }
            let record = k.dedup ?? .original(item.id)
            let writes = record.status == .original || marksCopies
            let name = writes ? Spool.fileName(itemID: item.id, at: fetchedAt) : ""
            planned.append((item, KnownItem(key: item.key, itemID: item.id, contentHash: hash, fileName: name, delivered: false, dedup: record)))
        }

        // Boilerplate the feed's earlier items carried leaves the new ones' text.
        var newParagraphs: [Int64: Int] = [:]
        for (item, _) in fresh {
            for h in Set(Boilerplate.paragraphs(item.contentText ?? "").compactMap(\.hash)) { newParagraphs[h, default: 0] += 1 }
        }
        for p in parsed.boilerplate { newParagraphs[Boilerplate.hash(p), default: 0] += 2 }  // it recurred in this document
        let history = try store.knownParagraphs(feedID: job.feedID, hashes: Array(newParagraphs.keys))
        if !history.isEmpty {
            for i in fresh.indices {
                if let text = fresh[i].0.contentText { fresh[i].0.contentText = Boilerplate.removing(history, from: text) }
            }
        }
        let candidates = fresh.map { item, _ in
            DedupCandidate(
                itemID: item.id, feedID: job.feedID, guid: item.guid, url: item.url, text: item.contentText ?? item.summary ?? "",
                sourceName: item.source?.name)
        }
        var decided: [(Item, KnownItem)] = []
        do {
            try store.recordIntents(feedID: job.feedID, now: fetchedAt) { session in
                let decisions = candidates.isEmpty ? [] : try dedup.decide(candidates, session: session, now: fetchedAt)
                decided = zip(fresh, decisions).map { entry, d in
                    let (item, hash) = entry
                    let name = d.writesFile ? Spool.fileName(itemID: item.id, at: fetchedAt) : ""
                    return (item, KnownItem(key: item.key, itemID: item.id, contentHash: hash, fileName: name, delivered: false, dedup: d.record))
                }
                return DeliveryIntents(items: planned.map(\.1).filter { known[$0.key] != $0 } + decided.map(\.1), paragraphs: newParagraphs)
            }
        } catch {
            dedup.invalidate()  // decisions the store did not keep must not stay in memory
            throw error
        }
        let ref = FeedRef(id: job.feedID, url: feedSettings[job.feedID]?.url ?? job.url, title: parsed.feed.title ?? feed.title)
        var wrote = 0
        for (item, k) in planned + decided where !k.fileName.isEmpty {
            let document = ItemDocument.json(item: item, feed: ref, fetched: fetchedAt, dedup: k.dedup ?? .original(item.id))
            try spool.deliver(document, name: k.fileName, syncDirectory: false)
            wrote += 1
        }
        if wrote > 0 { try spool.syncNew() }  // before the commit counts them delivered
        var copies: [String: Int] = [:]
        for (_, k) in decided where k.dedup?.status == .duplicate { copies[k.dedup?.method?.rawValue ?? "?", default: 0] += 1 }
        return Delivery(keys: (planned + decided).map(\.1.key) + alreadyThere, files: wrote + alreadyThereFiles, copies: copies)
    }

    /// Forgets dedup entries and paragraph history older than the window, at most hourly.
    private func pruneIfDue() {
        let t = now()
        let due = lastPrune.withLock { last -> Bool in
            guard last.map({ t.timeIntervalSince($0) >= 3600 }) ?? true else { return false }
            last = t
            return true
        }
        guard due else { return }
        _ = try? store.pruneDedup(before: t.addingTimeInterval(-TimeInterval(config.dedup.window.seconds)))  // retried in an hour
    }

    /// What the feed says of an item; a change means the story changed. Made from
    /// the feed's own fields, not from `contentText`, whose cleaning depends on the
    /// other items of the document (boilerplate found in two of them).
    static func contentHash(_ item: Item) -> String {
        var h = SHA256()
        for part in [item.title, item.url, item.summary, item.contentHTML] {
            h.update(part ?? "")
            h.update(byte: 0)
        }
        for e in item.enclosures { h.update(e.url) }
        return h.finalizeHex(bytes: 16)
    }

    private func commit(_ job: FetchJob, feed: FeedState, delivered: [String], result: JobResult) -> JobOutcome {
        do {
            try store.commitJob(job.id, owner: owner, feed: feed, deliveredKeys: delivered, result: result, now: now())
            return .done(result)
        } catch {
            return .failed(.failed, error.message)
        }
    }

    private func fail(
        _ job: FetchJob, feed state: FeedState, message: String, retryAfter: Int?, result: JobResult?, countsAsFeedError: Bool = true
    ) -> JobOutcome {
        var feed = state
        let t = now()
        let delay = schedule.retryPolicy.delay(afterAttempt: job.attempts, retryAfter: retryAfter.map(Double.init), random: random())
        let retryAt = t.addingTimeInterval(delay)
        feed.lastStatus = message
        if countsAsFeedError { feed.errorStreak += 1 }
        // A failing feed is never forgotten: it is polled again at the backoff.
        feed.nextDueAt = retryAt
        do {
            let state = try store.failJob(job.id, owner: owner, feed: feed, error: message, result: result, retryAt: retryAt, now: t)
            return .failed(state, message)
        } catch {
            return .failed(.failed, "\(message); and the store failed: \(error.message)")
        }
    }
}

private final class OutcomeBox: @unchecked Sendable {  // written before the semaphore is signalled, read after
    var value: JobOutcome?
}

extension DedupPolicy {
    /// The policy config.json's `dedup` asks for.
    public init(_ settings: Config.DedupSettings) {
        self.init(threshold: settings.threshold, window: TimeInterval(settings.window.seconds), dropCopies: settings.duplicates == .drop)
    }
}
