import Foundation

/// One story from a feed, as the pipeline hands it from stage to stage.
///
/// Fields follow SPEC section 4. Text fields are plain text unless their name
/// says HTML; `contentHTML` is already sanitized. Dates are absolute instants;
/// a date the feed did not give (or gave unreadably) is `nil`.
public struct Item: Sendable, Hashable, Codable {
    /// 32 lowercase hex digits: a stable hash of the feed id and `key`.
    public var id: String
    /// What identifies the item within its feed across fetches: `guid:…`,
    /// `link:…` or `hash:…` (see `ItemKey`).
    public var key: String
    public var guid: String?
    public var url: String?
    public var title: String?
    public var authors: [String]
    public var published: Date?
    public var updated: Date?
    /// The feed's description or summary as plain text.
    public var summary: String?
    /// Full content (`content:encoded`, Atom `<content>`, JSON Feed `content_html`), sanitized.
    public var contentHTML: String?
    /// Plain text of `contentHTML` when present, else of the summary.
    public var contentText: String?
    public var language: String?
    public var categories: [String]
    public var enclosures: [Enclosure]
    public var source: ItemSource?

    public init(
        id: String = "", key: String = "", guid: String? = nil, url: String? = nil,
        title: String? = nil, authors: [String] = [], published: Date? = nil,
        updated: Date? = nil, summary: String? = nil, contentHTML: String? = nil,
        contentText: String? = nil, language: String? = nil, categories: [String] = [],
        enclosures: [Enclosure] = [], source: ItemSource? = nil
    ) {
        self.id = id
        self.key = key
        self.guid = guid
        self.url = url
        self.title = title
        self.authors = authors
        self.published = published
        self.updated = updated
        self.summary = summary
        self.contentHTML = contentHTML
        self.contentText = contentText
        self.language = language
        self.categories = categories
        self.enclosures = enclosures
        self.source = source
    }
}

/// A media file attached to an item (RSS `<enclosure>`, Atom `link rel="enclosure"`).
public struct Enclosure: Sendable, Hashable, Codable {
    public var url: String
    public var type: String?
    /// Size in bytes as the feed states it; `nil` when absent or not a number.
    public var length: Int64?

    public init(url: String, type: String? = nil, length: Int64? = nil) {
        self.url = url
        self.type = type
        self.length = length
    }
}

/// Where a syndicated story came from.
public struct ItemSource: Sendable, Hashable, Codable {
    public enum Evidence: String, Sendable, Codable {
        /// An RSS or Atom `<source>` element.
        case element
        /// An attribution line in the body ("Source: Racurs").
        case text
    }

    public var name: String?
    public var url: String?
    public var evidence: Evidence

    public init(name: String?, url: String?, evidence: Evidence) {
        self.name = name
        self.url = url
        self.evidence = evidence
    }
}
