import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The `$NOTIFY_SOCKET` protocol of sd_notify(3), spoken directly (no libsystemd):
/// one datagram of `KEY=value` lines to a Unix socket (a path, or `@` for the abstract namespace).
public struct SystemdNotifier: Sendable {
    private let path: String

    /// `nil` when the process was not started with `NOTIFY_SOCKET` (not under systemd).
    public init?(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let p = environment["NOTIFY_SOCKET"], !p.isEmpty, p.utf8.count < 108 else { return nil }
        path = p
    }

    /// Sends `state` (e.g. `READY=1`, `STATUS=…`, `WATCHDOG=1`); false if it could not be sent.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // abstract namespace
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() where i < raw.count { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let sent = state.withCString { text in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, text, strlen(text), 0, $0, length) }
            }
        }
        return sent >= 0
    }

    /// `WATCHDOG_USEC` in seconds, when systemd asked for pings.
    public static func watchdogInterval(environment: [String: String] = ProcessInfo.processInfo.environment) -> Double? {
        guard let usec = environment["WATCHDOG_USEC"].flatMap(Double.init), usec > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"].flatMap(Int32.init), pid != getpid() { return nil }
        return usec / 1_000_000
    }
}

/// swift-log's handler for the daemon: one line per event on stderr,
/// `feedspool: message key=value …`, with a `<N>` priority prefix when stderr
/// is the journal's stream (`$JOURNAL_STREAM` names its device and inode, systemd.exec(5)).
/// Events from `info` up, or from the level `$FEEDSPOOL_LOG_LEVEL` names.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let journal: Bool

    /// The level `$FEEDSPOOL_LOG_LEVEL` names (`info` where it is unset), or an
    /// error message naming the bad value.
    public static func level(environment: [String: String] = ProcessInfo.processInfo.environment) -> Result<Logger.Level, LogLevelError> {
        guard let raw = environment["FEEDSPOOL_LOG_LEVEL"] else { return .success(.info) }
        if let level = Logger.Level(rawValue: raw.lowercased()) { return .success(level) }
        let names = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
        return .failure(LogLevelError(message: "FEEDSPOOL_LOG_LEVEL: must be one of \(names), got \"\(raw)\""))
    }

    public struct LogLevelError: Error, Sendable {
        public let message: String
    }

    public init(label: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        logLevel = (try? Self.level(environment: environment).get()) ?? .info
        var st = stat()
        if let stream = environment["JOURNAL_STREAM"], fstat(2, &st) == 0 {
            journal = stream == "\(st.st_dev):\(st.st_ino)"
        } else {
            journal = false
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let priority: Int
        switch event.level {
        case .trace, .debug: priority = 7
        case .info: priority = 6
        case .notice: priority = 5
        case .warning: priority = 4
        case .error: priority = 3
        case .critical: priority = 2
        }
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        var line = (journal ? "<\(priority)>" : "") + "feedspool: " + event.message.description
        for key in fields.keys.sorted() {
            let value = "\(fields[key]!)"
            line += " \(key)=" + (value.contains(" ") ? "\"\(value)\"" : value)
        }
        line += "\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}
