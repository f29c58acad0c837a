import Foundation
import Store
import Testing

/// The store implementations the conformance suite runs on: SQLite always,
/// PostgreSQL when a server is given in `FEEDSPOOL_TEST_POSTGRES` (Scripts/test
/// and .ci/run start one through Scripts/with-postgres).
public enum StoreBackend: String, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    public var testDescription: String { rawValue }

    public static let postgresURL = ProcessInfo.processInfo.environment["FEEDSPOOL_TEST_POSTGRES"]
    public static var available: [StoreBackend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// A URL to an empty schema of its own on the test server (the store creates it).
    public static func scratchPostgres() throws -> String {
        let base = try #require(postgresURL)
        let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        return base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
    }
}


