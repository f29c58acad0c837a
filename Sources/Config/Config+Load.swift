import FeedspoolModel
import Foundation

extension Config {
    /// Where the config is when `--config` is not given: `$FEEDSPOOL_CONFIG`,
    /// then `./config.json`, then `/etc/feedspool/config.json`.
    public static func locate(
        explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> String {
        if let explicit { return explicit }
        if let env = environment["FEEDSPOOL_CONFIG"], !env.isEmpty { return env }
        for candidate in ["config.json", "/etc/feedspool/config.json"]
        where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        throw ConfigError(
            file: "config.json", path: "",
            reason: "no config file found (tried $FEEDSPOOL_CONFIG, ./config.json, /etc/feedspool/config.json); pass --config PATH")
    }

    /// Reads and checks the config file at `path`.
    public static func load(from path: String) throws(ConfigError) -> Config {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw ConfigError(file: path, path: "", reason: exists ? "cannot read the file (permissions?)" : "no such file")
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL
        return try parse(data, file: path, directory: absolute.deletingLastPathComponent().path)
    }

    /// Checks config.json's bytes; relative paths resolve against `directory`.
    public static func parse(_ data: Data, file: String, directory: String) throws(ConfigError) -> Config {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw ConfigError(file: file, path: "", reason: "not valid JSON: " + syntaxProblem(in: data, fallback: error))
        }
        var top = try ObjectReader(root, path: "", file: file, required: true)
        let dir = directory
        func absolute(_ p: String) -> String {
            p.hasPrefix("/") ? p : URL(fileURLWithPath: dir).appendingPathComponent(p).standardizedFileURL.path
        }

        let spool = absolute(try top.string("spool", default: "spool", nonEmpty: true))

        var storeReader = try top.object("store")
        let kind = try storeReader.string("kind", default: "sqlite", oneOf: ["sqlite", "postgres"])
        let store: StoreSettings
        if kind == "sqlite" {
            store = .sqlite(path: absolute(try storeReader.string("path", default: "feedspool.db", nonEmpty: true)))
            try storeReader.forbid("url", because: "is only for \"kind\": \"postgres\"")
        } else {
            guard let url = try storeReader.optionalString("url") else {
                throw ConfigError(file: file, path: storeReader.childPath("url"), reason: "is required with \"kind\": \"postgres\" (postgres://user@host/db)")
            }
            guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
                throw ConfigError(file: file, path: storeReader.childPath("url"), reason: "must be a postgres:// URL", got: JSONValue.string(url).rendered)
            }
            store = .postgres(url: url)
            try storeReader.forbid("path", because: "is only for \"kind\": \"sqlite\"")
        }
        try storeReader.finish()

        var f = try top.object("fetch")
        var fetch = FetchSettings()
        fetch.concurrency = try f.int("concurrency", default: fetch.concurrency, range: 1...10_000)
        fetch.perHost = try f.int("per_host", default: fetch.perHost, range: 1...fetch.concurrency)
        fetch.perHostSpacing = try f.number("per_host_spacing", default: fetch.perHostSpacing, atLeast: 0, atMost: 60)
        fetch.timeout = try f.interval("timeout", default: fetch.timeout, range: Interval(seconds: 1)...Interval.hours(1))
        fetch.maxBytes = try f.int("max_bytes", default: fetch.maxBytes, range: 1024...(1 << 31))
        fetch.userAgent = try f.string("user_agent", default: fetch.userAgent, nonEmpty: true)
        if fetch.userAgent.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw ConfigError(file: file, path: "fetch.user_agent", reason: "must not contain control characters", got: JSONValue.string(fetch.userAgent).rendered)
        }
        fetch.allowPrivateNetworks = try f.bool("allow_private_networks", default: false)
        fetch.allowFileURLs = try f.bool("allow_file_urls", default: false)
        try f.finish()

        var s = try top.object("schedule")
        var schedule = ScheduleSettings()
        let minute = Interval.minutes(1)
        schedule.minInterval = try s.interval("min_interval", default: schedule.minInterval, range: minute...Interval.days(7))
        schedule.interval = try s.interval("interval", default: schedule.interval, range: minute...Interval.days(30))
        schedule.maxBackoff = try s.interval("max_backoff", default: schedule.maxBackoff, range: minute...Interval.days(30))
        schedule.maxAttempts = try s.int("max_attempts", default: schedule.maxAttempts, range: 1...100)
        if schedule.interval < schedule.minInterval {
            throw ConfigError(file: file, path: "schedule.interval", reason: "must be >= schedule.min_interval (\(schedule.minInterval))", got: "\"\(schedule.interval)\"")
        }
        if schedule.maxBackoff < schedule.interval {
            throw ConfigError(file: file, path: "schedule.max_backoff", reason: "must be >= schedule.interval (\(schedule.interval))", got: "\"\(schedule.maxBackoff)\"")
        }
        try s.finish()

        var d = try top.object("dedup")
        var dedup = DedupSettings()
        dedup.duplicates = DedupSettings.Duplicates(rawValue: try d.string("duplicates", default: "drop", oneOf: ["drop", "mark"]))!
        dedup.window = try d.interval("window", default: dedup.window, range: Interval.hours(1)...Interval.days(3650))
        dedup.threshold = try d.number("threshold", default: dedup.threshold, above: 0, atMost: 1)
        try d.finish()

        var m = try top.object("metrics")
        var metrics = MetricsSettings()
        if let listen = try m.optionalString("listen") {
            guard Self.isListenAddress(listen) else {
                throw ConfigError(file: file, path: "metrics.listen", reason: "must be host:port (e.g. 127.0.0.1:9464) or null", got: JSONValue.string(listen).rendered)
            }
            metrics.listen = listen
        }
        try m.finish()

        let feeds = try readFeeds(top.array("feeds"), file: file, directory: dir, fetch: fetch, minimum: schedule.minInterval)
        try top.finish()
        return Config(
            file: file, directory: dir, spool: spool, store: store, fetch: fetch, schedule: schedule, dedup: dedup,
            metrics: metrics, feeds: feeds)
    }

    private static func readFeeds(
        _ list: [JSONValue], file: String, directory: String, fetch: FetchSettings, minimum: Interval
    ) throws(ConfigError) -> [FeedSettings] {
        var feeds: [FeedSettings] = []
        var byID: [String: Int] = [:]
        var byURL: [String: Int] = [:]
        for (i, value) in list.enumerated() {
            let path = "feeds[\(i)]"
            var r = try ObjectReader(value, path: path, file: file, required: true)
            let raw = try r.string("url", default: nil, nonEmpty: true)
            let url = try feedURL(raw, path: path + ".url", file: file, directory: directory, fetch: fetch)
            let explicitID = try r.optionalString("id")
            let id = explicitID ?? FeedSlug.make(from: url, directory: directory)
            if explicitID != nil, !FeedSlug.isValid(id) {
                throw ConfigError(file: file, path: path + ".id", reason: "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", got: JSONValue.string(id).rendered)
            }
            var interval: Interval?
            if r.has("interval") {
                interval = try r.interval("interval", default: nil, range: max(minimum, Interval.minutes(1))...Interval.days(30))
            }
            let tags = try r.stringArray("tags")
            try r.finish()
            if let first = byID[id] {
                throw ConfigError(
                    file: file, path: path + ".id",
                    reason: explicitID == nil
                        ? "the default id of this URL is already used by feeds[\(first)]; give one of them an \"id\""
                        : "duplicate of feeds[\(first)].id", got: JSONValue.string(id).rendered)
            }
            if let first = byURL[url] {
                throw ConfigError(file: file, path: path + ".url", reason: "same feed as feeds[\(first)]", got: JSONValue.string(raw).rendered)
            }
            byID[id] = i
            byURL[url] = i
            feeds.append(FeedSettings(id: id, url: url, interval: interval, tags: tags))
        }
        return feeds
    }

    /// The URL a feed entry names: http(s) as written; `file://` and bare paths
    /// (relative to the config's folder) only with `allow_file_urls`.
    private static func feedURL(
        _ raw: String, path: String, file: String, directory: String, fetch: FetchSettings
    ) throws(ConfigError) -> String {
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        let got = JSONValue.string(raw).rendered
        let lower = trimmed.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            guard let url = URL(string: trimmed), let host = url.host, !host.isEmpty else {
                throw ConfigError(file: file, path: path, reason: "is not a valid URL", got: got)
            }
            return trimmed
        }
        let isFileURL = lower.hasPrefix("file://")
        let hasScheme = trimmed.range(of: "^[A-Za-z][A-Za-z0-9+.-]*:", options: .regularExpression) != nil
        if hasScheme && !isFileURL {
            throw ConfigError(file: file, path: path, reason: "must be an http:// or https:// URL", got: got)
        }
        guard fetch.allowFileURLs else {
            throw ConfigError(file: file, path: path, reason: "file feeds need \"fetch\": {\"allow_file_urls\": true}", got: got)
        }
        if isFileURL {
            guard let url = URL(string: trimmed), url.isFileURL, url.path.hasPrefix("/") else {
                throw ConfigError(file: file, path: path, reason: "must be an absolute file:// URL", got: got)
            }
            return url.absoluteString
        }
        let full = trimmed.hasPrefix("/") ? trimmed : URL(fileURLWithPath: directory).appendingPathComponent(trimmed).path
        return URL(fileURLWithPath: full).standardizedFileURL.absoluteString
    }

    static func isListenAddress(_ s: String) -> Bool {
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (0...65535).contains(port) else {
            return false
        }
        let host = s[..<colon]
        return !host.isEmpty && !host.contains(" ")
    }

    /// Where the JSON syntax breaks, as JSONSerialization words it (it names line and column).
    private static func syntaxProblem(in data: Data, fallback: any Error) -> String {
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch let error as NSError {
            if let detail = error.userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
        }
        if case DecodingError.dataCorrupted(let ctx) = fallback { return ctx.debugDescription }
        return String(describing: fallback)
    }
}

/// Default feed ids: a readable, stable slug of the URL.
public enum FeedSlug {
    /// `https://www.example.org/news/rss.xml` → `example-org-news-rss-xml`; a file
    /// inside the config's folder by its relative path. Long slugs are cut and
    /// get 8 hex digits of the URL's SHA-256 so they stay unique.
    public static func make(from url: String, directory: String) -> String {
        var text = url
        if let u = URL(string: url) {
            if u.isFileURL {
                let dir = directory.hasSuffix("/") ? directory : directory + "/"
                text = u.path.hasPrefix(dir) ? String(u.path.dropFirst(dir.count)) : u.path
            } else {
                var host = (u.host ?? "").lowercased()
                if host.hasPrefix("www.") { host.removeFirst(4) }
                text = host + u.path + (u.query.map { "?" + $0 } ?? "")
            }
        }
        var slug = ""
        var dash = false
        for c in text.lowercased().unicodeScalars {
            if (c >= "a" && c <= "z") || (c >= "0" && c <= "9") {
                if dash && !slug.isEmpty { slug.append("-") }
                dash = false
                slug.unicodeScalars.append(c)
            } else {
                dash = true
            }
        }
        if slug.isEmpty || slug.count > 48 {
            slug = String(slug.prefix(39)) + (slug.isEmpty ? "feed-" : "-") + String(SHA256.hex(url).prefix(8))
        }
        return slug
    }

    public static func isValid(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first, id.unicodeScalars.count <= 64 else { return false }
        let alnum: (Unicode.Scalar) -> Bool = { ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") }
        return alnum(first) && id.unicodeScalars.allSatisfy { alnum($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }
}
