import Fetch
import Foundation

/// `server.py` beside this file, run by `/usr/bin/python3` (Debian's, which has
/// python3-brotli) on 127.0.0.1. One per test process; it exits when our end
/// of its standard input closes, that is when this process ends.
public final class TestServer: @unchecked Sendable {  // immutable after init
    public static let shared = TestServer()

    public let port: Int
    private let process: Process
    private let stdin: Pipe

    private init() {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("server.py")
        let p = Process()
        let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "/usr/bin/env"
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = (python == "/usr/bin/env" ? ["python3"] : []) + [script.path]
        let out = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardInput = input
        try! p.run()
        var line = Data()
        while let byte = try? out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line.append(byte)
        }
        port = Int(String(decoding: line, as: UTF8.self)) ?? 0
        precondition(port > 0, "the test HTTP server did not start")
        process = p
        stdin = input
    }

    public func url(_ path: String, host: String = "127.0.0.1") -> String { "http://\(host):\(port)\(path)" }

    /// `name:port:127.0.0.1` for CURLOPT_RESOLVE, so that a test can have many "hosts".
    public func resolve(_ names: [String]) -> [String] { names.map { "\($0):\(port):127.0.0.1" } }

    /// A route's JSON, fetched with a fetcher of its own.
    public func json(_ path: String) throws -> [String: Any] {
        var s = FetchSettings()
        s.addresses = AddressPolicy(allowPrivateNetworks: true)
        let f = Fetcher(settings: s)
        defer { f.shutdown() }
        let body = try f.fetchAll([FetchRequest(url: url(path))])[0].get().body
        return try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] ?? [:]
    }
}
