/// A length of time as config.json writes it: `90s`, `15m`, `2h`, `14d`, `1w`,
/// or a sum such as `1h30m`.
public struct Interval: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var seconds: Int64

    public init(seconds: Int64) { self.seconds = seconds }

    public static func minutes(_ m: Int64) -> Interval { Interval(seconds: m * 60) }
    public static func hours(_ h: Int64) -> Interval { Interval(seconds: h * 3600) }
    public static func days(_ d: Int64) -> Interval { Interval(seconds: d * 86_400) }

    /// Reads `text`; `nil` when it is not a number followed by a unit, or is zero.
    public init?(parsing text: String) {
        var total: Int64 = 0
        var number: Int64?
        var sawUnit = false
        for c in text {
            if let d = c.wholeNumberValue, c.isASCII {
                number = (number ?? 0) * 10 + Int64(d)
                if number! > 1_000_000_000 { return nil }
                continue
            }
            guard let n = number else { return nil }
            let unit: Int64
            switch c {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            case "w": unit = 604_800
            default: return nil
            }
            total += n * unit
            number = nil
            sawUnit = true
        }
        guard number == nil, sawUnit, total > 0 else { return nil }
        seconds = total
    }

    /// The shortest way config.json can write it (`1h30m`, `14d`).
    public var description: String {
        var s = seconds
        var out = ""
        for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60), ("s", 1)] where s >= size {
            out += "\(s / size)\(unit)"
            s %= size
        }
        return out.isEmpty ? "0s" : out
    }

    public static func < (a: Interval, b: Interval) -> Bool { a.seconds < b.seconds }
}
