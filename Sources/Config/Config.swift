import Foundation

/// The effective configuration: config.json with every default filled in and
/// every relative path made absolute (SPEC section 3).
public struct Config: Sendable, Equatable {
    /// The config file as it was named (used in messages).
    public var file: String
    /// The folder relative paths are resolved against.
    public var directory: String
    /// Absolute path of the spool directory.
    public var spool: String
    public var store: StoreSettings
    public var fetch: FetchSettings
    public var schedule: ScheduleSettings
    public var dedup: DedupSettings
    public var metrics: MetricsSettings
    public var feeds: [FeedSettings]

    public enum StoreSettings: Sendable, Equatable {
        /// Embedded SQLite at this absolute path.
        case sqlite(path: String)
        /// PostgreSQL at this `postgres://` URL.
        case postgres(url: String)
    }

    public struct FetchSettings: Sendable, Equatable {
        /// Transfers at once, over all hosts. Default 64.
        public var concurrency: Int = 64
        /// Transfers at once to one host. Default 2.
        public var perHost: Int = 2
        /// Whole-transfer limit. Default 30s.
        public var timeout: Interval = Interval(seconds: 30)
        /// Largest body accepted, after decompression. Default 16 MiB.
        public var maxBytes: Int = 16 << 20
        public var userAgent: String = "feedspool/1.0 (+https://example.org/feedspool)"
        /// Seconds between two transfers starting on one host (politeness). Default 0.2.
        public var perHostSpacing: Double = 0.2
        /// Whether loopback, link-local and private addresses may be fetched. Default false.
        public var allowPrivateNetworks = false
        /// Whether `file://` feeds and bare paths are allowed. Default false.
        public var allowFileURLs = false

        public init() {}
    }

    public struct ScheduleSettings: Sendable, Equatable {
        /// How often a feed is polled unless it says otherwise. Default 15m.
        public var interval: Interval = .minutes(15)
        /// Never poll more often than this, whatever a feed asks. Default 5m.
        public var minInterval: Interval = .minutes(5)
        /// The longest wait after errors. Default 24h.
        public var maxBackoff: Interval = .hours(24)
        /// Attempts before a job is dead. Default 5.
        public var maxAttempts: Int = 5

        public init() {}
    }

    public struct DedupSettings: Sendable, Equatable {
        public enum Duplicates: String, Sendable, Equatable {
            /// A copy is recorded in the store; no file is written.
            case drop
            /// A copy is written with `dedup.status = "duplicate"`.
            case mark
        }
        public var duplicates: Duplicates = .drop
        /// How long an item stays in the dedup index after feedspool first saw it. Default 14d.
        public var window: Interval = .days(14)
        /// Containment (0–1] above which two texts are copies. Default 0.8.
        public var threshold: Double = 0.8

        public init() {}
    }

    public struct MetricsSettings: Sendable, Equatable {
        /// `host:port` of the metrics and health endpoint; `nil` for none (the default).
        public var listen: String?

        public init(listen: String? = nil) { self.listen = listen }
    }

    public init(
        file: String, directory: String, spool: String, store: StoreSettings, fetch: FetchSettings = FetchSettings(),
        schedule: ScheduleSettings = ScheduleSettings(), dedup: DedupSettings = DedupSettings(),
        metrics: MetricsSettings = MetricsSettings(), feeds: [FeedSettings] = []
    ) {
        self.file = file
        self.directory = directory
        self.spool = spool
        self.store = store
        self.fetch = fetch
        self.schedule = schedule
        self.dedup = dedup
        self.metrics = metrics
        self.feeds = feeds
    }
}

/// One feed of config.json.
public struct FeedSettings: Sendable, Equatable {
    /// Unique; defaults to a stable slug of the URL.
    public var id: String
    /// `http(s)://…`, or `file://…` (absolute) when file URLs are allowed.
    public var url: String
    /// Overrides `schedule.interval` for this feed.
    public var interval: Interval?
    public var tags: [String]

    public init(id: String, url: String, interval: Interval? = nil, tags: [String] = []) {
        self.id = id
        self.url = url
        self.interval = interval
        self.tags = tags
    }
}
