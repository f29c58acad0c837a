import Foundation

/// What feedspool knows about one feed between fetches.
public struct FeedState: Sendable, Hashable {
    public var id: String
    /// The configured URL.
    public var url: String
    /// Where to fetch now: the configured URL, or the target of permanent redirects.
    public var effectiveURL: String
    public var title: String?
    public var etag: String?
    public var lastModified: String?
    public var lastFetchAt: Date?
    /// `ok`, `not modified`, or the last error's message.
    public var lastStatus: String?
    public var lastHTTPStatus: Int?
    /// Failures in a row; 0 after a success.
    public var errorStreak: Int
    public var nextDueAt: Date
    /// The server answered 410: the feed is no longer polled.
    public var gone: Bool
    public var itemsDelivered: Int
    /// Still in the config (false once removed from it).
    public var configured: Bool

    public init(
        id: String, url: String, effectiveURL: String? = nil, title: String? = nil, etag: String? = nil,
        lastModified: String? = nil, lastFetchAt: Date? = nil, lastStatus: String? = nil, lastHTTPStatus: Int? = nil,
        errorStreak: Int = 0, nextDueAt: Date, gone: Bool = false, itemsDelivered: Int = 0, configured: Bool = true
    ) {
        self.id = id
        self.url = url
        self.effectiveURL = effectiveURL ?? url
        self.title = title
        self.etag = etag
        self.lastModified = lastModified
        self.lastFetchAt = lastFetchAt
        self.lastStatus = lastStatus
        self.lastHTTPStatus = lastHTTPStatus
        self.errorStreak = errorStreak
        self.nextDueAt = nextDueAt
        self.gone = gone
        self.itemsDelivered = itemsDelivered
        self.configured = configured
    }
}

/// An item the store has seen for a feed.
public struct KnownItem: Sendable, Hashable {
    public var key: String
    public var itemID: String
    /// A hash of what a reader sees; a different one means the story changed.
    public var contentHash: String
    /// The last file planned or written for it.
    public var fileName: String
    /// False while only the intent to deliver is recorded (a crash may have come between).
    public var delivered: Bool
    /// The dedup decision made when it was first seen (nil for items from before dedup existed).
    public var dedup: DedupRecord?

    public init(key: String, itemID: String, contentHash: String, fileName: String, delivered: Bool, dedup: DedupRecord? = nil) {
        self.dedup = dedup
        self.key = key
        self.itemID = itemID
        self.contentHash = contentHash
        self.fileName = fileName
        self.delivered = delivered
    }
}
