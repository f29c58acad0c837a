import Foundation

/// One feed to fetch, with the validators of its last successful fetch.
public struct FetchRequest: Sendable, Hashable {
    /// `http(s)://…`, or `file://…` when the fetcher allows file URLs.
    public var url: String
    /// The `ETag` last seen, sent back as `If-None-Match` (opaque, as received).
    public var etag: String?
    /// The `Last-Modified` last seen, sent back as `If-Modified-Since` (opaque, as received).
    public var lastModified: String?

    public init(url: String, etag: String? = nil, lastModified: String? = nil) {
        self.url = url
        self.etag = etag
        self.lastModified = lastModified
    }
}

/// What a successful fetch returns: a 2xx with its body, or a 304 without one.
public struct FetchResponse: Sendable, Hashable {
    public var requestedURL: String
    /// The URL the body came from, after redirects.
    public var url: String
    /// 200 (also for `file://`), another 2xx, or 304.
    public var status: Int
    /// The body after decompression; empty for 304.
    public var body: [UInt8]
    public var contentType: String?
    /// The `charset` parameter of `Content-Type`, for the parser.
    public var charset: String?
    public var etag: String?
    public var lastModified: String?
    /// `Cache-Control: max-age` in seconds.
    public var maxAge: Int?
    /// The new address when every redirect on the way was permanent (301/308).
    public var permanentRedirect: String?
    public var redirects: Int
    /// Seconds: connection established, first byte, whole transfer.
    public var connectSeconds: Double
    public var firstByteSeconds: Double
    public var totalSeconds: Double

    /// The server said the feed has not changed since the validators were sent.
    public var isNotModified: Bool { status == 304 }
}

/// How the fetcher behaves; every default is stated.
public struct FetchSettings: Sendable {
    /// Transfers at once over all hosts. Default 64.
    public var concurrency = 64
    /// Transfers at once to one host (feedspool queues the rest itself; curl's own
    /// queue would let them time out while waiting). Default 2.
    public var perHost = 2
    /// The least time between two transfers starting on one host. Default 0.2 s.
    public var perHostSpacing: Double = 0.2
    /// Limit for a whole transfer, redirects included. Default 30 s.
    public var timeout: Double = 30
    /// Limit for connecting (DNS, TCP, TLS). Default 10 s, at most `timeout`.
    public var connectTimeout: Double = 10
    /// A transfer slower than `lowSpeedBytes` per second for `lowSpeedSeconds` is cut off. Default 100 B/s for 15 s.
    public var lowSpeedBytes = 100
    public var lowSpeedSeconds = 15
    /// The largest body accepted, counted after decompression. Default 16 MiB.
    public var maxBytes = 16 << 20
    /// Redirects followed. Default 10.
    public var maxRedirects = 10
    public var userAgent = "feedspool/1.0 (+https://example.org/feedspool)"
    /// Which addresses may be connected to.
    public var addresses = AddressPolicy()
    /// Whether `file://` URLs may be fetched (never through a redirect). Default false.
    public var allowFileURLs = false
    /// `host:port:address` pins, as curl's `CURLOPT_RESOLVE` (tests point names at 127.0.0.1 with it).
    public var resolve: [String] = []

    public init() {}
}
