import FeedspoolModel
import Foundation

/// Reads the dates real feeds write: RFC 822/2822 with its common variants,
/// RFC 3339 / W3CDTF / ISO 8601 at any precision, and a few other forms.
///
/// A date without a zone is taken as UTC. Anything it cannot read is `nil`,
/// never an error: a bad date must not cost an item.
public enum DateParser {
    public static func parse(_ raw: String) -> Date? {
        let s = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !s.isEmpty, s.utf8.count < 100 else { return nil }
        let bytes = Array(s.utf8)
        if bytes.count >= 4, bytes[0...3].allSatisfy(isDigit) {
            if let d = iso8601(bytes) { return d }
        }
        return loose(s)
    }

    // MARK: ISO 8601 / RFC 3339 / W3CDTF

    private static func iso8601(_ b: [UInt8]) -> Date? {
        var i = 0
        func number(_ maxDigits: Int) -> Int64? {
            var v: Int64 = 0
            var n = 0
            while i < b.count, n < maxDigits, isDigit(b[i]) { v = v * 10 + Int64(b[i] - 48); i += 1; n += 1 }
            return n == 0 ? nil : v
        }
        func skip(_ c: UInt8) -> Bool {
            if i < b.count, b[i] == c { i += 1; return true }
            return false
        }
        guard let year = number(4) else { return nil }
        var month: Int64 = 1, day: Int64 = 1
        let dash = skip(UInt8(ascii: "-"))
        if i < b.count, isDigit(b[i]) {
            guard let m = number(2) else { return nil }
            month = m
            _ = dash ? skip(UInt8(ascii: "-")) : false
            if i < b.count, isDigit(b[i]) { guard let d = number(2) else { return nil }; day = d }
        }
        var hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0
        var offset: Zone = .fixed(0)
        if i < b.count, b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: "t") || b[i] == 0x20 {
            i += 1
            while i < b.count, b[i] == 0x20 { i += 1 }
            if i < b.count, isDigit(b[i]) {
                guard let h = number(2) else { return nil }
                hour = h
                if skip(UInt8(ascii: ":")) || (i < b.count && isDigit(b[i])) {
                    guard let m = number(2) else { return nil }
                    minute = m
                    if skip(UInt8(ascii: ":")) || (i < b.count && isDigit(b[i])) {
                        guard let sec = number(2) else { return nil }
                        second = sec
                        if skip(UInt8(ascii: ".")) || skip(UInt8(ascii: ",")) { _ = number(12) }
                    }
                }
            }
            while i < b.count, b[i] == 0x20 { i += 1 }
        }
        if i < b.count {
            let rest = String(decoding: b[i...], as: UTF8.self)
            guard let z = zoneOffset(rest) else { return nil }
            offset = z
        }
        return make(year: year, month: month, day: day, hour: hour, minute: minute, second: second, offset: offset)
    }

    // MARK: RFC 822 and friends

    private static let months: [String: Int64] = [
        "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10,
        "nov": 11, "dec": 12, "january": 1, "february": 2, "march": 3, "april": 4, "june": 6, "july": 7,
        "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    ]
    private static let dayNames: Set<String> = [
        "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun", "monday", "tuesday",
        "wednesday", "thursday", "friday", "saturday", "sunday",
    ]
    /// Named zones, offset in minutes east of UTC.
    private static let zones: [String: Int64] = [
        "ut": 0, "utc": 0, "gmt": 0, "z": 0, "wet": 0,
        "est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420, "mdt": -360, "pst": -480, "pdt": -420,
        "akst": -540, "akdt": -480, "hst": -600, "ast": -240, "adt": -180, "nst": -210, "ndt": -150,
        "bst": 60, "cet": 60, "cest": 120, "met": 60, "mest": 120, "eet": 120, "eest": 180, "west": 60,
        "msk": 180, "msd": 240, "jst": 540, "kst": 540, "hkt": 480, "sgt": 480, "awst": 480,
        "acst": 570, "acdt": 630, "aest": 600, "aedt": 660, "nzst": 720, "nzdt": 780,
    ]

    private static func loose(_ s: String) -> Date? {
        var year: Int64?, month: Int64?, day: Int64?
        var hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0
        var offset: Zone?
        var pm: Bool?
        var numbers: [(value: Int64, digits: Int)] = []
        let separators = CharacterSet(charactersIn: " ,\t\n\r")
        for raw in s.components(separatedBy: separators) where !raw.isEmpty {
            var token = raw
            if token.hasSuffix(".") { token.removeLast() }
            let lower = token.lowercased()
            if lower.contains(":") && lower.first.map({ $0.isNumber }) == true {
                // A time, maybe with its zone glued on: 04:00:00, 4:05, 10:00:00+0200, 10:00:00Z
                var timePart = Substring(lower)
                if let z = lower.firstIndex(where: { $0 == "+" || $0 == "-" || $0 == "z" }) {
                    timePart = lower[..<z]
                    guard let zo = zoneOffset(String(lower[z...])) else { return nil }
                    offset = zo
                }
                let parts = timePart.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count >= 2, parts.count <= 3,
                    let h = Int64(parts[0]), let m = Int64(parts[1])
                else { return nil }
                hour = h
                minute = m
                if parts.count == 3 {
                    guard let sec = Int64(parts[2].split(separator: ".").first ?? "") else { return nil }
                    second = sec
                }
            } else if let m = months[lower] {
                month = m
            } else if dayNames.contains(lower) {
                continue
            } else if lower == "am" || lower == "a.m" {
                pm = false
            } else if lower == "pm" || lower == "p.m" {
                pm = true
            } else if let v = Int64(lower), lower.allSatisfy(\.isNumber) {
                numbers.append((v, lower.count))
            } else if let z = zoneOffset(token) {
                offset = z
            } else if let ordinal = ordinalDay(lower) {
                numbers.append((ordinal, 2))
            } else if lower.contains("-"), let dmy = dashedDate(lower) {
                (day, month, year) = (dmy.0, dmy.1, dmy.2)
            } else {
                return nil
            }
        }
        for n in numbers {
            if n.digits >= 3 || n.value > 31 || (day != nil && year == nil) {
                guard year == nil else { return nil }
                year = n.digits == 2 ? (n.value < 50 ? 2000 + n.value : 1900 + n.value) : n.value
            } else if day == nil {
                day = n.value
            } else {
                return nil
            }
        }
        if let pm {
            if pm && hour < 12 { hour += 12 } else if !pm && hour == 12 { hour = 0 }
        }
        guard let year, let month, let day else { return nil }
        return make(year: year, month: month, day: day, hour: hour, minute: minute, second: second, offset: offset ?? .fixed(0))
    }

    private static func ordinalDay(_ s: String) -> Int64? {
        for suffix in ["st", "nd", "rd", "th"] where s.hasSuffix(suffix) {
            return Int64(s.dropLast(2))
        }
        return nil
    }

    /// `10-jun-2003` style dates.
    private static func dashedDate(_ s: String) -> (Int64, Int64, Int64)? {
        let p = s.split(separator: "-")
        guard p.count == 3, let d = Int64(p[0]), let m = months[String(p[1])], var y = Int64(p[2]) else { return nil }
        if p[2].count == 2 { y += y < 50 ? 2000 : 1900 }
        return (d, m, y)
    }

    enum Zone {
        /// Seconds east of UTC.
        case fixed(Int64)
        /// A region whose offset depends on the date (daylight saving).
        case region(TimeZone)
    }

    /// The zone of `Z`, `+0700`, `-07:00`, `+7`,
    /// `GMT+7`, `UTC-05:00`, a named zone, or an IANA name (`America/Los_Angeles`).
    static func zoneOffset(_ token: String) -> Zone? {
        let t = token.trimmingCharacters(in: .whitespaces)
        let lower = t.lowercased()
        if let m = zones[lower] { return .fixed(m * 60) }
        if t.contains("/"), let tz = TimeZone(identifier: t) { return .region(tz) }
        var body = Substring(lower)
        for prefix in ["gmt", "utc", "ut"] where body.hasPrefix(prefix) && body.count > prefix.count {
            body = body.dropFirst(prefix.count)
            break
        }
        guard let sign = body.first, sign == "+" || sign == "-" else { return nil }
        let digits = body.dropFirst().filter { $0 != ":" }
        guard !digits.isEmpty, digits.count <= 4, digits.allSatisfy(\.isNumber), let v = Int64(digits) else { return nil }
        let (h, m) = digits.count <= 2 ? (v, Int64(0)) : (v / 100, v % 100)
        guard h <= 14, m < 60 else { return nil }
        let minutes = h * 60 + m
        return .fixed((sign == "-" ? -minutes : minutes) * 60)
    }

    private static func make(
        year: Int64, month: Int64, day: Int64, hour: Int64, minute: Int64, second: Int64, offset: Zone
    ) -> Date? {
        guard year >= 1, year <= 9999, (1...12).contains(month), day >= 1, day <= daysIn(month, year),
            (0...24).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        let days = Timestamp.days(year: year, month: month, day: day)
        let local = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59)
        switch offset {
        case .fixed(let seconds):
            return Date(timeIntervalSince1970: TimeInterval(local - seconds))
        case .region(let tz):
            let guess = Date(timeIntervalSince1970: TimeInterval(local))
            let first = Int64(tz.secondsFromGMT(for: guess))
            let second = Int64(tz.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(local - first))))
            return Date(timeIntervalSince1970: TimeInterval(local - second))
        }
    }

    private static func daysIn(_ month: Int64, _ year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    @inline(__always) private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
}
