import Config
import FeedspoolModel
import Foundation

/// When a feed is fetched next (DESIGN: Scheduling).
public struct Schedule: Sendable {
    public var settings: Config.ScheduleSettings

    public init(_ settings: Config.ScheduleSettings) { self.settings = settings }

    /// After a success: the longest of the configured interval, the feed's own
    /// hint (RSS `<ttl>`, `sy:updatePeriod`) and `Cache-Control: max-age`,
    /// clamped between `min_interval` and `max_backoff`, with up to 5% jitter
    /// (`random` in [0, 1)) so that feeds do not all fire in one second.
    public func nextFetch(after now: Date, configured: Interval?, feedHint: Int?, maxAge: Int?, random: Double) -> Date {
        var seconds = Double((configured ?? settings.interval).seconds)
        if let hint = feedHint { seconds = max(seconds, Double(hint)) }
        if let maxAge { seconds = max(seconds, Double(maxAge)) }
        seconds = min(max(seconds, Double(settings.minInterval.seconds)), Double(settings.maxBackoff.seconds))
        return now.addingTimeInterval(seconds * (1 + 0.05 * random))
    }

    /// The backoff after failures: `RetryPolicy` capped at `max_backoff`.
    public var retryPolicy: RetryPolicy {
        RetryPolicy(base: 60, maximum: Double(settings.maxBackoff.seconds), jitter: 0.1)
    }
}
