/// Any JSON value, so that config.json can be checked key by key with the path of every problem.
enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    /// The value as JSON, for "got …" in error messages (long values cut).
    var rendered: String {
        let s: String
        switch self {
        case .null: s = "null"
        case .bool(let b): s = b ? "true" : "false"
        case .number(let n): s = n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .string(let v): s = "\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .array(let a): s = "[" + a.map(\.rendered).joined(separator: ",") + "]"
        case .object(let o): s = "{" + o.keys.sorted().map { "\"\($0)\":" + o[$0]!.rendered }.joined(separator: ",") + "}"
        }
        return s.count > 80 ? String(s.prefix(77)) + "..." : s
    }
}
