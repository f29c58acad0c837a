import Content
import FeedspoolModel
import Foundation

/// Reads the dates real feeds write: RFC 822/2822 with its common variants,
/// RFC 3339 / W3CDTF / ISO 8601 at any precision, and a few other forms.
///
/// A date without a zone is taken as UTC. Anything it cannot read is `nil`,
/// never an error: a bad date must not cost an item.
public enum DateParser {
    public static func parse(_ raw: String) -> Date? {
        var raw = raw
        return raw.withUTF8 { parse(bytes: $0) }
    }

    /// Reads a date from UTF-8 bytes (surrounding white space allowed).
    public static func parse(bytes raw: UnsafeBufferPointer<UInt8>) -> Date? {
        var start = 0, end = raw.count
        while start < end, TextBytes.isSpace(raw[start]) { start += 1 }
        while end > start, TextBytes.isSpace(raw[end - 1]) { end -= 1 }
        guard end > start, end - start < 100 else { return nil }
        let bytes = UnsafeBufferPointer(rebasing: raw[start..<end])
        if bytes.count >= 4, bytes[0...3].allSatisfy(isDigit) {
            if let d = iso8601(bytes) { return d }
        }
        if let d = rfc822(bytes) { return d }
        return loose(Array(bytes))
    }

    // MARK: RFC 822 as most feeds write it

    /// `Wed, 09 Aug 2023 10:05:00 +0000` exactly (day name optional, one- or two-digit
    /// day, seconds optional, zone `+hhmm`, `-hhmm`, `GMT`, `UT`, `UTC` or `Z`): read
    /// without tokens or tables. Anything else is `nil`, for `loose` to read.
    private static func rfc822(_ b: UnsafeBufferPointer<UInt8>) -> Date? {
        do {
            let n = b.count
            var i = 0
            @inline(__always) func lower(_ k: Int) -> UInt32 { UInt32(b[k] | 0x20) }
            @inline(__always) func word3(_ k: Int) -> UInt32 { lower(k) << 16 | lower(k + 1) << 8 | lower(k + 2) }
            @inline(__always) func digits(_ count: Int) -> Int64? {
                guard i + count <= n else { return nil }
                var v: Int64 = 0
                for k in i..<(i + count) {
                    guard isDigit(b[k]) else { return nil }
                    v = v * 10 + Int64(b[k] - 48)
                }
                i += count
                return v
            }
            @inline(__always) func skip(_ c: UInt8) -> Bool {
                guard i < n, b[i] == c else { return false }
                i += 1
                return true
            }
            if n >= 5, b[3] == 0x2C {
                switch word3(0) {
                case 0x6D6F6E, 0x747565, 0x776564, 0x746875, 0x667269, 0x736174, 0x73756E: break  // mon tue wed thu fri sat sun
                default: return nil
                }
                i = 4
                guard skip(0x20) else { return nil }
            }
            guard i + 2 <= n else { return nil }
            let day: Int64
            if i + 1 < n, isDigit(b[i + 1]) { guard let d = digits(2) else { return nil }; day = d } else {
                guard let d = digits(1) else { return nil }
                day = d
            }
            guard skip(0x20), i + 3 <= n else { return nil }
            let month: Int64
            switch word3(i) {
            case 0x6A616E: month = 1
            case 0x666562: month = 2
            case 0x6D6172: month = 3
            case 0x617072: month = 4
            case 0x6D6179: month = 5
            case 0x6A756E: month = 6
            case 0x6A756C: month = 7
            case 0x617567: month = 8
            case 0x736570: month = 9
            case 0x6F6374: month = 10
            case 0x6E6F76: month = 11
            case 0x646563: month = 12
            default: return nil
            }
            i += 3
            guard skip(0x20), let year = digits(4), skip(0x20), let hour = digits(2), skip(0x3A), let minute = digits(2)
            else { return nil }
            var second: Int64 = 0
            if skip(0x3A) {
                guard let s = digits(2) else { return nil }
                second = s
            }
            guard skip(0x20), i < n else { return nil }
            let offset: Int64
            if b[i] == 0x2B || b[i] == 0x2D {
                let negative = b[i] == 0x2D
                i += 1
                guard let hh = digits(2), let mm = digits(2), hh <= 14, mm < 60 else { return nil }
                offset = (negative ? -1 : 1) * (hh * 60 + mm) * 60
            } else {
                let rest = n - i
                if rest == 3, word3(i) == 0x676D74 || word3(i) == 0x757463 {  // gmt utc
                    i += 3
                } else if rest == 2, lower(i) == 0x75, lower(i + 1) == 0x74 {  // ut
                    i += 2
                } else if rest == 1, lower(i) == 0x7A {  // z
                    i += 1
                } else {
                    return nil
                }
                offset = 0
            }
            guard i == n else { return nil }
            return make(year: year, month: month, day: day, hour: hour, minute: minute, second: second, offset: .fixed(offset))
        }
    }

    // MARK: ISO 8601 / RFC 3339 / W3CDTF

    private static func iso8601(_ b: UnsafeBufferPointer<UInt8>) -> Date? {
        var i = 0
        // Inlined: called as a closure over `i`, each call paid a run-time exclusivity check.
        @inline(__always) func number(_ maxDigits: Int) -> Int64? {
            var v: Int64 = 0
            var n = 0
            while i < b.count, n < maxDigits, isDigit(b[i]) { v = v * 10 + Int64(b[i] - 48); i += 1; n += 1 }
            return n == 0 ? nil : v
        }
        @inline(__always) func skip(_ c: UInt8) -> Bool {
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
        if i + 1 == b.count, b[i] | 0x20 == 0x7A {
            offset = .fixed(0)  // "Z", the usual zone, without a copy of it
        } else if i < b.count {
            guard let z = zoneOffset(ArraySlice(b[i...])) else { return nil }
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

    /// RFC 822 and other word-ordered dates, tokenized on bytes (this runs once per item).
    private static func loose(_ b: [UInt8]) -> Date? {
        var year: Int64?, month: Int64?, day: Int64?
        var hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0
        var offset: Zone?
        var pm: Bool?
        var numbers: [(value: Int64, digits: Int)] = []
        var i = 0
        while i < b.count {
            while i < b.count, b[i] == 0x20 || b[i] == 0x2C || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D { i += 1 }
            guard i < b.count else { break }
            var j = i
            while j < b.count, b[j] != 0x20, b[j] != 0x2C, b[j] != 0x09, b[j] != 0x0A, b[j] != 0x0D { j += 1 }
            var end = j
            if end > i + 1, b[end - 1] == 0x2E { end -= 1 }  // "Aug." "p.m."
            let token = b[i..<end]
            i = j
            let first = token.first!
            if isDigit(first) {
                if token.contains(0x3A) {  // a time, maybe with its zone glued on
                    guard let t = time(token) else { return nil }
                    (hour, minute, second) = (t.0, t.1, t.2)
                    if let z = t.3 { offset = z }
                } else if token.allSatisfy(isDigit), token.count <= 8 {
                    numbers.append((token.reduce(0) { $0 * 10 + Int64($1 - 48) }, token.count))
                } else if let ordinal = ordinalDay(token) {
                    numbers.append((ordinal, 2))
                } else if let dmy = dashedDate(token) {
                    (day, month, year) = (dmy.0, dmy.1, dmy.2)
                } else {
                    return nil
                }
                continue
            }
            let word = lowercaseWord(token)
            if let m = monthNumbers[word] {
                month = m
            } else if dayWords.contains(word) {
                continue
            } else if word == packWord("am") || word == packWord("a.m") {
                pm = false
            } else if word == packWord("pm") || word == packWord("p.m") {
                pm = true
            } else if let z = zoneOffset(token) {
                offset = z
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

    /// `H:MM[:SS[.fff]]` with an optional zone glued on (`10:00:00Z`, `10:00+0200`).
    private static func time(_ t: ArraySlice<UInt8>) -> (Int64, Int64, Int64, Zone?)? {
        var parts: [Int64] = []
        var value: Int64 = 0, digits = 0
        var i = t.startIndex
        var zone: Zone?
        while i < t.endIndex {
            let c = t[i]
            if isDigit(c) {
                value = value * 10 + Int64(c - 48); digits += 1
                guard digits <= 2 else { return nil }
            } else if c == 0x3A {
                guard digits > 0 else { return nil }
                parts.append(value); value = 0; digits = 0
            } else if c == 0x2E {  // fraction of a second: skip its digits
                i += 1
                while i < t.endIndex, isDigit(t[i]) { i += 1 }
                continue
            } else {
                guard let z = zoneOffset(t[i...]) else { return nil }
                zone = z
                break
            }
            i += 1
        }
        if digits > 0 { parts.append(value) }
        guard parts.count == 2 || parts.count == 3 else { return nil }
        return (parts[0], parts[1], parts.count == 3 ? parts[2] : 0, zone)
    }

    /// A word of up to 12 letters (and '.') packed case-insensitively, for table lookups without Strings.
    private static func lowercaseWord(_ t: ArraySlice<UInt8>) -> UInt64 {
        guard t.count <= 12 else { return 0 }
        var key: UInt64 = 0
        for c in t {
            let l = c | 0x20
            let v: UInt64
            if l >= 0x61 && l <= 0x7A { v = UInt64(l - 0x60) } else if c == 0x2E { v = 27 } else { return 0 }
            key = key << 5 | v
        }
        return key
    }

    private static func packWord(_ s: String) -> UInt64 { lowercaseWord(ArraySlice(s.utf8)) }

    private static let monthNumbers: [UInt64: Int64] = {
        var m: [UInt64: Int64] = [:]
        for (k, v) in months { m[packWord(k)] = v }
        return m
    }()

    private static let dayWords: Set<UInt64> = Set(dayNames.map(packWord))

    private static func ordinalDay(_ t: ArraySlice<UInt8>) -> Int64? {
        guard t.count >= 3, t.count <= 4 else { return nil }
        let suffix = lowercaseWord(t.suffix(2))
        guard [packWord("st"), packWord("nd"), packWord("rd"), packWord("th")].contains(suffix) else { return nil }
        let digits = t.dropLast(2)
        guard digits.allSatisfy(isDigit) else { return nil }
        return digits.reduce(0) { $0 * 10 + Int64($1 - 48) }
    }

    /// `10-jun-2003` style dates.
    private static func dashedDate(_ t: ArraySlice<UInt8>) -> (Int64, Int64, Int64)? {
        let p = t.split(separator: 0x2D)
        guard p.count == 3, p[0].allSatisfy(isDigit), p[2].allSatisfy(isDigit), !p[0].isEmpty, !p[2].isEmpty,
            let m = monthNumbers[lowercaseWord(p[1])]
        else { return nil }
        let d = p[0].reduce(Int64(0)) { $0 * 10 + Int64($1 - 48) }
        var y = p[2].reduce(Int64(0)) { $0 * 10 + Int64($1 - 48) }
        if p[2].count == 2 { y += y < 50 ? 2000 : 1900 }
        return (d, m, y)
    }

    enum Zone {
        /// Seconds east of UTC.
        case fixed(Int64)
        /// A region whose offset depends on the date (daylight saving).
        case region(TimeZone)
    }

    /// Named zones by packed lowercase name, offset in seconds.
    private static let zoneSeconds: [UInt64: Int64] = {
        var m: [UInt64: Int64] = [:]
        for (k, v) in zones { m[packWord(k)] = v * 60 }
        return m
    }()

    /// The zone of `Z`, `+0700`, `-07:00`, `+7`, `GMT+7`, `UTC-05:00`, a named
    /// zone (`EST`), or an IANA name (`America/Los_Angeles`).
    static func zoneOffset(_ token: ArraySlice<UInt8>) -> Zone? {
        var t = token
        while let f = t.first, TextBytes.isSpace(f) { t = t.dropFirst() }
        while let l = t.last, TextBytes.isSpace(l) { t = t.dropLast() }
        guard let first = t.first else { return nil }
        if t.count == 1, first | 0x20 == 0x7A { return .fixed(0) }  // "Z", the usual zone: no table lookup
        if first != 0x2B && first != 0x2D {  // not '+' or '-'
            if let seconds = zoneSeconds[lowercaseWord(t)] { return .fixed(seconds) }
            if t.contains(0x2F) {
                return TimeZone(identifier: String(decoding: t, as: UTF8.self)).map { .region($0) }
            }
            // GMT+7, UTC-05:00, UT+1
            var letters = 0
            while letters < t.count, (t[t.startIndex + letters] | 0x20) >= 0x61, (t[t.startIndex + letters] | 0x20) <= 0x7A { letters += 1 }
            guard letters > 0, letters < t.count, [packWord("gmt"), packWord("utc"), packWord("ut")].contains(lowercaseWord(t.prefix(letters))) else {
                return nil
            }
            t = t.dropFirst(letters)
        }
        guard let sign = t.first, sign == 0x2B || sign == 0x2D else { return nil }
        // Up to four digits, colons aside (read in place: a filtered copy allocated per date).
        var v: Int64 = 0
        var digits = 0
        for c in t.dropFirst() where c != 0x3A {
            guard isDigit(c), digits < 4 else { return nil }
            v = v * 10 + Int64(c - 48)
            digits += 1
        }
        guard digits > 0 else { return nil }
        let (h, m) = digits <= 2 ? (v, Int64(0)) : (v / 100, v % 100)
        guard h <= 14, m < 60 else { return nil }
        let minutes = h * 60 + m
        return .fixed((sign == 0x2D ? -minutes : minutes) * 60)
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
