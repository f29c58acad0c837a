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
        let fetches = Self.name("feedspool_fetches", "total", "Fetch jobs that ended, by outcome")
        fetchesOK = registry.makeCounter(descriptor: fetches, labels: [("outcome", "ok")])
        fetchesNotModified = registry.makeCounter(descriptor: fetches, labels: [("outcome", "not_modified")])
        fetchesFailed = registry.makeCounter(descriptor: fetches, labels: [("outcome", "error")])
        itemsDelivered = registry.makeCounter(descriptor: Self.name("feedspool_items_delivered", "total", "Items written into the spool"))
        var copyCounters: [String: Counter] = [:]
        for method in DedupRecord.Method.allCases.map(\.rawValue) {
            copyCounters[method] = registry.makeCounter(
                descriptor: Self.name(
                    "feedspool_copies", "total", "New items recognized as syndicated copies (dropped or marked per dedup.duplicates), by method"),
                labels: [("method", method)])
        }
        copies = copyCounters
        fetchSeconds = registry.makeValueHistogram(
            descriptor: Self.name("feedspool_fetch_duration", "seconds", "Time from claim to commit of successful jobs"),
            buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30])
        let registry = self.registry
        var jobGauges: [JobState: Gauge] = [:]
        for state in JobState.allCases {
            jobGauges[state] = registry.makeGauge(descriptor: Self.name("feedspool_jobs", "", "Jobs in the queue, by state"), labels: [("state", state.rawValue)])
        }
        jobs = jobGauges
        var feedGauges: [String: Gauge] = [:]
        for state in ["ok", "failing", "gone", "never_fetched"] {
            feedGauges[state] = registry.makeGauge(descriptor: Self.name("feedspool_feeds", "", "Configured feeds, by state"), labels: [("state", state)])
        }
        feeds = feedGauges
        spoolBacklog = registry.makeGauge(descriptor: Self.name("feedspool_spool_backlog", "", "Files in the spool's new/ not yet taken by a consumer"))
    }

    /// A metric's full name is `name` and `unit` joined by "_" (no unit: `name` alone).
    private static func name(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: unit, helpText: help)
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
