import Foundation

/// The syndication format a document was written in (SPEC section 2, `parse`).
public enum FeedFormat: String, Sendable, Codable, CaseIterable {
    case rss20 = "rss2.0"
    case rss10 = "rss1.0"
    case rss09x = "rss0.9x"
    case atom10 = "atom1.0"
    case atom03 = "atom0.3"
    case jsonFeed1 = "jsonfeed1"
}

/// What a feed document says about itself (the `feed` object of `feedspool parse`).
public struct FeedInfo: Sendable, Hashable, Codable {
    public var format: FeedFormat
    public var title: String?
    /// The site's page.
    public var link: String?
    /// The feed's own address (`atom:link rel="self"`, JSON Feed `feed_url`).
    public var feedURL: String?
    public var description: String?
    public var language: String?
    public var updated: Date?
    public var authors: [String]
    public var image: String?
    public var generator: String?
    /// How long the feed may be cached, from RSS `<ttl>` or `sy:updatePeriod`/`sy:updateFrequency`, in seconds.
    public var suggestedInterval: Int?

    public init(
        format: FeedFormat, title: String? = nil, link: String? = nil, feedURL: String? = nil,
        description: String? = nil, language: String? = nil, updated: Date? = nil,
        authors: [String] = [], image: String? = nil, generator: String? = nil,
        suggestedInterval: Int? = nil
    ) {
        self.format = format
        self.title = title
        self.link = link
        self.feedURL = feedURL
        self.description = description
        self.language = language
        self.updated = updated
        self.authors = authors
        self.image = image
        self.generator = generator
        self.suggestedInterval = suggestedInterval
    }
}

/// A parsed document: the feed and its items, in document order.
public struct ParsedFeed: Sendable, Hashable {
    public var feed: FeedInfo
    public var items: [Item]
    /// What was wrong with the document, if anything; the items are what could be recovered.
    public var problems: [String]
    /// Paragraphs that recur across the document's items (an author bio, a
    /// newsletter line): the feed's boilerplate, already taken out of `contentText`.
    public var boilerplate: [String]
    /// Items after the first `ParseOptions.maxItems` that were dropped (also in `problems`).
    public var itemsDropped: Int

    public init(feed: FeedInfo, items: [Item], problems: [String] = [], boilerplate: [String] = [], itemsDropped: Int = 0) {
        self.feed = feed
        self.items = items
        self.problems = problems
        self.boilerplate = boilerplate
        self.itemsDropped = itemsDropped
    }

    /// What a user is told when items were dropped; nil when none were.
    public var droppedItemsSummary: String? {
        itemsDropped > 0 ? "only the first \(items.count) items were read; \(itemsDropped) more dropped" : nil
    }
}
