/// Reads one JSON object of config.json key by key, so that every problem
/// names its JSON path, and keys nobody asked for are reported as unknown.
struct ObjectReader {
    let file: String
    let path: String
    private var fields: [String: JSONValue]
    private var used: Set<String> = []

    /// `value` must be an object; `nil` (key absent) reads as an empty object unless `required`.
    init(_ value: JSONValue?, path: String, file: String, required: Bool = false) throws(ConfigError) {
        self.file = file
        self.path = path
        switch value {
        case .object(let o): fields = o
        case nil where !required, .null where !required: fields = [:]
        default:
            throw ConfigError(file: file, path: path.isEmpty ? "" : path, reason: "must be a JSON object", got: value?.rendered ?? "nothing")
        }
    }

    func childPath(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    func has(_ key: String) -> Bool { fields[key] != nil }

    private func fail(_ key: String, _ reason: String, _ value: JSONValue) -> ConfigError {
        ConfigError(file: file, path: childPath(key), reason: reason, got: value.rendered)
    }

    private mutating func take(_ key: String) -> JSONValue? {
        used.insert(key)
        if case .null? = fields[key] { return nil }
        return fields[key]
    }

    mutating func object(_ key: String) throws(ConfigError) -> ObjectReader {
        try ObjectReader(take(key), path: childPath(key), file: file)
    }

    mutating func array(_ key: String) throws(ConfigError) -> [JSONValue] {
        switch take(key) {
        case nil: return []
        case .array(let a): return a
        case let v?: throw fail(key, "must be a JSON array", v)
        }
    }

    mutating func optionalString(_ key: String) throws(ConfigError) -> String? {
        switch take(key) {
        case nil: return nil
        case .string(let s): return s
        case let v?: throw fail(key, "must be a string", v)
        }
    }

    /// A string; with `default: nil` the key is required.
    mutating func string(_ key: String, default fallback: String?, nonEmpty: Bool = false, oneOf: [String]? = nil) throws(ConfigError) -> String {
        guard let s = try optionalString(key) else {
            if let fallback { return fallback }
            throw ConfigError(file: file, path: childPath(key), reason: "is required")
        }
        if nonEmpty && s.trimmingCharacters(in: .whitespaces).isEmpty { throw fail(key, "must not be empty", .string(s)) }
        if let oneOf, !oneOf.contains(s) {
            throw fail(key, "must be one of " + oneOf.map { "\"\($0)\"" }.joined(separator: ", "), .string(s))
        }
        return s
    }

    mutating func stringArray(_ key: String) throws(ConfigError) -> [String] {
        var out: [String] = []
        for (i, v) in try array(key).enumerated() {
            guard case .string(let s) = v else {
                throw ConfigError(file: file, path: childPath(key) + "[\(i)]", reason: "must be a string", got: v.rendered)
            }
            out.append(s)
        }
        return out
    }

    mutating func bool(_ key: String, default fallback: Bool) throws(ConfigError) -> Bool {
        switch take(key) {
        case nil: return fallback
        case .bool(let b): return b
        case let v?: throw fail(key, "must be true or false", v)
        }
    }

    mutating func int(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let reason = "must be an integer from \(range.lowerBound) to \(range.upperBound)"
        switch take(key) {
        case nil: return fallback
        case .number(let n):
            guard n == n.rounded(), n >= Double(range.lowerBound), n <= Double(range.upperBound) else { throw fail(key, reason, .number(n)) }
            return Int(n)
        case let v?: throw fail(key, reason, v)
        }
    }

    mutating func number(_ key: String, default fallback: Double, above low: Double, atMost high: Double) throws(ConfigError) -> Double {
        let reason = "must be a number above \(low) and at most \(high)"
        switch take(key) {
        case nil: return fallback
        case .number(let n):
            guard n > low, n <= high else { throw fail(key, reason, .number(n)) }
            return n
        case let v?: throw fail(key, reason, v)
        }
    }

    mutating func number(_ key: String, default fallback: Double, atLeast low: Double, atMost high: Double) throws(ConfigError) -> Double {
        let reason = "must be a number from \(low) to \(high)"
        switch take(key) {
        case nil: return fallback
        case .number(let n):
            guard n >= low, n <= high else { throw fail(key, reason, .number(n)) }
            return n
        case let v?: throw fail(key, reason, v)
        }
    }

    /// A duration string (`90s`, `15m`, `2h`, `14d`) within `range`; with `default: nil` the key is required.
    mutating func interval(_ key: String, default fallback: Interval?, range: ClosedRange<Interval>) throws(ConfigError) -> Interval {
        let reason = "must be a duration >= \(range.lowerBound)" + (range.upperBound < .days(3650) ? " and <= \(range.upperBound)" : "")
        switch take(key) {
        case nil:
            if let fallback { return fallback }
            throw ConfigError(file: file, path: childPath(key), reason: "is required")
        case .string(let s):
            guard let i = Interval(parsing: s), range.contains(i) else { throw fail(key, reason, .string(s)) }
            return i
        case let v?: throw fail(key, reason, v)
        }
    }

    mutating func forbid(_ key: String, because reason: String) throws(ConfigError) {
        if let v = fields[key] { throw fail(key, reason, v) }
    }

    /// Fails on the first key that was never read (sorted, so the message is stable).
    func finish() throws(ConfigError) {
        for key in fields.keys.sorted() where !used.contains(key) {
            let known = used.sorted()
            var reason = "unknown key"
            if let near = known.min(by: { distance($0, key) < distance($1, key) }), distance(near, key) <= 2 {
                reason += " (did you mean \"\(near)\"?)"
            }
            throw ConfigError(file: file, path: childPath(key), reason: reason)
        }
    }

    private func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var prev = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let cur = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}
