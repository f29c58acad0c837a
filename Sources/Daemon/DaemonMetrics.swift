import FeedspoolModel
import Foundation
import Prometheus

/// The daemon's Prometheus metrics (swift-prometheus does the exposition).
///
/// Counters and the fetch-duration histogram are updated as jobs end; the
/// gauges (queue depth, feeds by state, spool backlog) are read at scrape time.
final class DaemonMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let fetchesOK: Counter
    private let fetchesNotModified: Counter
    private let fetchesFailed: Counter
    private let itemsDelivered: Counter
    private let copies: [String: Counter]
    private let fetchSeconds: ValueHistogram
    private let jobs: [JobState: Gauge]
    private let feeds: [String: Gauge]
    private let spoolBacklog: Gauge

    init() {
        let fetchHelp = "Fetch jobs that ended, by outcome"
        fetchesOK = registry.makeCounter(name: "feedspool_fetches_total", labels: [("outcome", "ok")], help: fetchHelp)
        fetchesNotModified = registry.makeCounter(name: "feedspool_fetches_total", labels: [("outcome", "not_modified")], help: fetchHelp)
        fetchesFailed = registry.makeCounter(name: "feedspool_fetches_total", labels: [("outcome", "error")], help: fetchHelp)
        itemsDelivered = registry.makeCounter(name: "feedspool_items_delivered_total", help: "Items written into the spool")
        var copyCounters: [String: Counter] = [:]
        for method in DedupRecord.Method.allCases.map(\.rawValue) {
            copyCounters[method] = registry.makeCounter(
                name: "feedspool_copies_total", labels: [("method", method)],
                help: "New items recognized as syndicated copies (dropped or marked per dedup.duplicates), by method")
        }
        copies = copyCounters
        fetchSeconds = registry.makeValueHistogram(
            name: "feedspool_fetch_duration_seconds", buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
            help: "Time from claim to commit of successful jobs")
        let registry = self.registry
        var jobGauges: [JobState: Gauge] = [:]
        for state in JobState.allCases {
            jobGauges[state] = registry.makeGauge(name: "feedspool_jobs", labels: [("state", state.rawValue)], help: "Jobs in the queue, by state")
        }
        jobs = jobGauges
        var feedGauges: [String: Gauge] = [:]
        for state in ["ok", "failing", "gone", "never_fetched"] {
            feedGauges[state] = registry.makeGauge(name: "feedspool_feeds", labels: [("state", state)], help: "Configured feeds, by state")
        }
        feeds = feedGauges
        spoolBacklog = registry.makeGauge(name: "feedspool_spool_backlog", help: "Files in the spool's new/ not yet taken by a consumer")
    }

    func record(_ outcome: JobOutcome) {
        switch outcome {
        case .done(let r):
            if r.httpStatus == 304 { fetchesNotModified.increment() } else { fetchesOK.increment() }
            itemsDelivered.increment(by: Int64(r.itemsNew))
            for (method, n) in r.copies ?? [:] { copies[method]?.increment(by: Int64(n)) }
            fetchSeconds.record(r.seconds)
        case .failed:
            fetchesFailed.increment()
        }
    }

    /// Reads the gauges, then renders everything in the Prometheus text format.
    func render(stats: QueueStats?, feedStates: [FeedState], backlog: Int?) -> [UInt8] {
        if let stats { for (state, gauge) in jobs { gauge.set(Double(stats.counts[state] ?? 0)) } }
        var counts = ["ok": 0, "failing": 0, "gone": 0, "never_fetched": 0]
        for f in feedStates {
            let key = f.gone ? "gone" : f.lastFetchAt == nil ? "never_fetched" : f.errorStreak > 0 ? "failing" : "ok"
            counts[key, default: 0] += 1
        }
        for (key, gauge) in feeds { gauge.set(Double(counts[key] ?? 0)) }
        if let backlog { spoolBacklog.set(Double(backlog)) }
        return registry.emitToBuffer()
    }
}
