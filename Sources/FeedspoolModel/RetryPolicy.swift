import Foundation

/// When a failed job runs again: exponential backoff with jitter, capped.
public struct RetryPolicy: Sendable {
    /// The wait after the first failure. Default 1 minute.
    public var base: TimeInterval
    /// The longest wait (`schedule.max_backoff`).
    public var maximum: TimeInterval
    /// Plus or minus this share of the wait, so that failures do not retry in lockstep. Default 0.1.
    public var jitter: Double

    public init(base: TimeInterval = 60, maximum: TimeInterval = 86_400, jitter: Double = 0.1) {
        self.base = base
        self.maximum = maximum
        self.jitter = jitter
    }

    /// The wait after failed attempt number `attempt` (1-based); `random` in [0, 1).
    /// A server's `Retry-After` is honoured when it asks for longer.
    public func delay(afterAttempt attempt: Int, retryAfter: TimeInterval? = nil, random: Double) -> TimeInterval {
        let exponent = Double(max(0, min(attempt - 1, 40)))
        let raw = min(maximum, base * pow(2, exponent))
        let jittered = raw * (1 - jitter + 2 * jitter * random)
        return min(maximum, max(jittered, retryAfter ?? 0))
    }
}
