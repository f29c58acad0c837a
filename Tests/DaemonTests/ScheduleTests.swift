import Config
import Daemon
import FeedspoolModel
import Foundation
import Testing

private let now = Date(timeIntervalSince1970: 1_700_000_000)

private func schedule(interval: Int64 = 900, min: Int64 = 300, maxBackoff: Int64 = 86_400) -> Schedule {
    var s = Config.ScheduleSettings()
    s.interval = Interval(seconds: interval)
    s.minInterval = Interval(seconds: min)
    s.maxBackoff = Interval(seconds: maxBackoff)
    return Schedule(s)
}

@Suite struct ScheduleTests {
    @Test func theConfiguredIntervalWithoutJitter() {
        #expect(schedule().nextFetch(after: now, configured: nil, feedHint: nil, maxAge: nil, random: 0) == now.addingTimeInterval(900))
        #expect(schedule().nextFetch(after: now, configured: .minutes(10), feedHint: nil, maxAge: nil, random: 0) == now.addingTimeInterval(600))
    }

    @Test func theLongestOfIntervalTTLAndMaxAgeWins() {
        let s = schedule()
        #expect(s.nextFetch(after: now, configured: nil, feedHint: 3600, maxAge: nil, random: 0) == now.addingTimeInterval(3600))
        #expect(s.nextFetch(after: now, configured: nil, feedHint: 60, maxAge: 7200, random: 0) == now.addingTimeInterval(7200))
        #expect(s.nextFetch(after: now, configured: nil, feedHint: 60, maxAge: 10, random: 0) == now.addingTimeInterval(900))
    }

    @Test func clampedBetweenMinIntervalAndMaxBackoff() {
        let s = schedule(interval: 900, min: 1200, maxBackoff: 7200)
        #expect(s.nextFetch(after: now, configured: .minutes(5), feedHint: nil, maxAge: nil, random: 0) == now.addingTimeInterval(1200))
        #expect(s.nextFetch(after: now, configured: nil, feedHint: 999_999, maxAge: nil, random: 0) == now.addingTimeInterval(7200))
    }

    @Test func jitterIsAtMostFivePercent() {
        let s = schedule()
        let earliest = s.nextFetch(after: now, configured: nil, feedHint: nil, maxAge: nil, random: 0)
        let latest = s.nextFetch(after: now, configured: nil, feedHint: nil, maxAge: nil, random: 0.999_999)
        #expect(earliest == now.addingTimeInterval(900))
        #expect(latest.timeIntervalSince(now) > 944 && latest.timeIntervalSince(now) <= 945)
        // 2,000 feeds do not all fire in the same second.
        let spread = Set((0..<2000).map { i in Int(s.nextFetch(after: now, configured: nil, feedHint: nil, maxAge: nil, random: Double(i) / 2000).timeIntervalSince1970) })
        #expect(spread.count >= 40)
    }

    @Test func failuresBackOffUpToMaxBackoffAndHonourRetryAfter() {
        let p = schedule(maxBackoff: 3600).retryPolicy
        let waits = (1...8).map { p.delay(afterAttempt: $0, random: 0.5) }
        #expect(waits == [60, 120, 240, 480, 960, 1920, 3600, 3600])
        #expect(p.delay(afterAttempt: 1, retryAfter: 900, random: 0.5) == 900)
        #expect(p.delay(afterAttempt: 1, retryAfter: 99_999, random: 0.5) == 3600)
    }
}
