import CLibPQ
import Foundation

/// libpq, wrapped once: one connection, statements with text parameters and
/// text results. Not thread safe: `PostgresStore` guards it with a lock.
final class PGConnection {
    private let conn: OpaquePointer
    let url: String

    init(url: String) throws(StoreError) {
        self.url = url
        guard let c = PQconnectdb(url) else { throw .unavailable(path: Self.redacted(url), reason: "out of memory") }
        conn = c
        guard PQstatus(c) == CONNECTION_OK else {  // deinit closes it
            throw .unavailable(path: Self.redacted(url), reason: Self.message(c))
        }
        _ = try? exec("SET client_min_messages = warning")
    }

    deinit { PQfinish(conn) }

    /// The URL without its password, for messages.
    static func redacted(_ url: String) -> String {
        guard var c = URLComponents(string: url), c.password != nil else { return url }
        c.password = "***"
        return c.string ?? url
    }

    private static func message(_ c: OpaquePointer) -> String {
        String(cString: PQerrorMessage(c)).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs one statement with `$1…` parameters (nil is NULL) and returns its rows.
    @discardableResult
    func exec(_ sql: String, _ params: [PGValue?] = []) throws -> PGRows {
        let texts: [String?] = params.map { $0?.text }
        let result: OpaquePointer? = withCStrings(texts) { pointers in
            PQexecParams(conn, sql, Int32(pointers.count), nil, pointers, nil, nil, 0)
        }
        guard let r = result else { throw PGError(message: Self.message(conn), sqlState: nil) }
        defer { PQclear(r) }
        let status = PQresultStatus(r)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let state = PQresultErrorField(r, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            throw PGError(message: String(cString: PQresultErrorMessage(r)).trimmingCharacters(in: .whitespacesAndNewlines), sqlState: state)
        }
        var rows = PGRows()
        let n = Int(PQntuples(r)), fields = Int(PQnfields(r))
        for f in 0..<fields { rows.columns[String(cString: PQfname(r, Int32(f)))] = f }
        rows.values.reserveCapacity(n)
        for i in 0..<n {
            var row: [String?] = []
            row.reserveCapacity(fields)
            for f in 0..<fields {
                row.append(PQgetisnull(r, Int32(i), Int32(f)) == 1 ? nil : String(cString: PQgetvalue(r, Int32(i), Int32(f))))
            }
            rows.values.append(row)
        }
        rows.affected = Int(String(cString: PQcmdTuples(r))) ?? 0
        return rows
    }

    /// The connection's socket, to watch for notifications.
    var socket: Int32 { PQsocket(conn) }

    /// Reads what the server sent; returns the channels notified. Throws when the connection is lost.
    func notifications() throws -> [String] {
        guard PQconsumeInput(conn) == 1 else { throw PGError(message: Self.message(conn), sqlState: "08000") }
        var channels: [String] = []
        while let n = PQnotifies(conn) {
            channels.append(String(cString: n.pointee.relname))
            PQfreemem(n)
        }
        return channels
    }

    /// Runs several statements without parameters (migrations).
    func execScript(_ sql: String) throws {
        guard let r = PQexec(conn, sql) else { throw PGError(message: Self.message(conn), sqlState: nil) }
        defer { PQclear(r) }
        let status = PQresultStatus(r)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            throw PGError(message: String(cString: PQresultErrorMessage(r)).trimmingCharacters(in: .whitespacesAndNewlines), sqlState: nil)
        }
    }

    /// `body` in one transaction; rolled back if it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try exec("BEGIN")
        do {
            let value = try body()
            try exec("COMMIT")
            return value
        } catch {
            _ = try? exec("ROLLBACK")
            throw error
        }
    }

    private func withCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        let owned: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0) } ?? nil }
        defer { for p in owned { free(p) } }
        return body(owned.map { $0.map { UnsafePointer($0) } })
    }
}

struct PGError: Error, CustomStringConvertible {
    var message: String
    var sqlState: String?
    var description: String { message }
}

/// A parameter in the text form PostgreSQL parses.
enum PGValue {
    case text(String)
    case int(Int64)
    case double(Double)
    case bytes(Data)

    var text: String {
        switch self {
        case .text(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bytes(let d): return "\\x" + d.map { String(format: "%02x", $0) }.joined()
        }
    }

    /// A text array literal (`{"a","b"}`), for `= ANY($1::text[])`.
    static func textArray(_ values: [String]) -> PGValue {
        .text("{" + values.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}")
    }

    static func intArray(_ values: [Int64]) -> PGValue { .text("{" + values.map(String.init).joined(separator: ",") + "}") }
}

extension PGValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    init(stringLiteral s: String) { self = .text(s) }
    init(integerLiteral i: Int64) { self = .int(i) }
}

/// Rows of a result, as text.
struct PGRows {
    var columns: [String: Int] = [:]
    var values: [[String?]] = []
    var affected = 0

    var count: Int { values.count }
    var rows: [PGRow] { values.map { PGRow(columns: columns, values: $0) } }
    var first: PGRow? { values.first.map { PGRow(columns: columns, values: $0) } }
}

struct PGRow {
    let columns: [String: Int]
    let values: [String?]

    func string(_ c: String) -> String? { columns[c].flatMap { values[$0] } }
    func int(_ c: String) -> Int { string(c).flatMap { Int($0) } ?? 0 }
    func int64(_ c: String) -> Int64 { string(c).flatMap { Int64($0) } ?? 0 }
    func optionalInt(_ c: String) -> Int? { string(c).flatMap { Int($0) } }
    func double(_ c: String) -> Double { string(c).flatMap { Double($0) } ?? 0 }
    func date(_ c: String) -> Date { Date(timeIntervalSince1970: double(c)) }
    func optionalDate(_ c: String) -> Date? { string(c).flatMap(Double.init).map(Date.init(timeIntervalSince1970:)) }
    func bool(_ c: String) -> Bool { int(c) != 0 }
    /// A `bytea` column in hex output form (`\x0a1b…`).
    func bytes(_ c: String) -> Data {
        guard let s = string(c), s.hasPrefix("\\x") else { return Data() }
        var d = Data(capacity: (s.utf8.count - 2) / 2)
        var high: UInt8?
        for ch in s.utf8.dropFirst(2) {
            let v: UInt8 = ch <= 0x39 ? ch - 0x30 : (ch | 0x20) - 0x61 + 10
            if let h = high {
                d.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        return d
    }
}
