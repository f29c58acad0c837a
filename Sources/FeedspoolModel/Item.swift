import Foundation

/// One story from a feed, as the pipeline hands it from stage to stage.
///
/// Fields follow SPEC section 4. Text fields are plain text unless their name
/// says HTML; `contentHTML` is already sanitized. Dates are absolute instants;
/// a date the feed did not give (or gave unreadably) is `nil`.
///
/// The texts live in one heap block per item, or in a block shared with the items
/// parsed before and after it (`ItemTexts`): reading one makes a
/// `String` of it, and setting one makes a new block. Code that only passes a
/// text on reads it in place with `withUTF8(_:_:)`.
public struct Item: Sendable, Hashable {
    /// The single texts, by name, for `withUTF8(_:_:)` (in the order they are stored).
    public enum TextField: Int, CaseIterable, Sendable {
        case id, key, guid, url, title, summary, contentHTML, contentText
    }
    /// The lists of names, for `forEachUTF8(_:_:)`.
    public enum TextList: Sendable {
        case authors, categories
    }

    private var texts: ItemTexts
    public var published: Date?
    public var updated: Date?
    public var language: String?
    public var enclosures: [Enclosure]
    public var source: ItemSource?

    /// 32 lowercase hex digits: a stable hash of the feed id and `key`.
    public var id: String {
        get { texts.string(.id) ?? "" }
        set { texts = texts.replacing([.id: newValue]) }
    }
    /// What identifies the item within its feed across fetches: `guid:…`,
    /// `link:…` or `hash:…` (see `ItemKey`).
    public var key: String {
        get { texts.string(.key) ?? "" }
        set { texts = texts.replacing([.key: newValue]) }
    }
    public var guid: String? {
        get { texts.string(.guid) }
        set { texts = texts.replacing([.guid: newValue]) }
    }
    public var url: String? {
        get { texts.string(.url) }
        set { texts = texts.replacing([.url: newValue]) }
    }
    public var title: String? {
        get { texts.string(.title) }
        set { texts = texts.replacing([.title: newValue]) }
    }
    public var authors: [String] {
        get { texts.strings(.authors) }
        set { texts = texts.replacing(authors: newValue) }
    }
    /// The feed's description or summary as plain text.
    public var summary: String? {
        get { texts.string(.summary) }
        set { texts = texts.replacing([.summary: newValue]) }
    }
    /// Full content (`content:encoded`, Atom `<content>`, JSON Feed `content_html`), sanitized.
    public var contentHTML: String? {
        get { texts.string(.contentHTML) }
        set { texts = texts.replacing([.contentHTML: newValue]) }
    }
    /// Plain text of `contentHTML` when present, else of the summary.
    public var contentText: String? {
        get { texts.string(.contentText) }
        set { texts = texts.replacing([.contentText: newValue]) }
    }
    public var categories: [String] {
        get { texts.strings(.categories) }
        set { texts = texts.replacing(categories: newValue) }
    }

    public init(
        id: String = "", key: String = "", guid: String? = nil, url: String? = nil,
        title: String? = nil, authors: [String] = [], published: Date? = nil,
        updated: Date? = nil, summary: String? = nil, contentHTML: String? = nil,
        contentText: String? = nil, language: String? = nil, categories: [String] = [],
        enclosures: [Enclosure] = [], source: ItemSource? = nil
    ) {
        self.texts = ItemTexts(
            id, key, guid, url, title, summary, contentHTML, contentText, authors: authors, categories: categories)
        self.published = published
        self.updated = updated
        self.language = language
        self.enclosures = enclosures
        self.source = source
    }

    /// A text for the item's fields given either way: a String, or UTF-8 bytes the
    /// item copies (the parser's renderer writes into buffers it reuses, and made a
    /// String of each only for the item to copy it again).
    public enum Text {
        case string(String)
        /// Must be well-formed UTF-8 (see `UTF8String.isValid` in Content); the item
        /// does not check it again. Read only while the item is made.
        case utf8(UnsafeBufferPointer<UInt8>)

        var count: Int {
            switch self {
            case .string(let s): s.utf8.count
            case .utf8(let b): b.count
            }
        }
    }

    /// An item whose texts are given as `Text`: the same item as the String
    /// initializer makes from the same texts. With an `arena`, its texts go where
    /// the arena has room, in a block shared with the items made before and after
    /// it (see `ItemTextArena`).
    public init(
        id: Text, key: String, guid: String?, url: String?, title: Text?, authors: [String], published: Date?,
        updated: Date?, summary: Text?, contentHTML: Text?, contentText: Text?, language: String?, categories: [String],
        enclosures: [Enclosure], source: ItemSource?, arena: UnsafeMutablePointer<ItemTextArena>? = nil
    ) {
        self.texts = ItemTexts(
            id, .string(key), guid.map(Text.string), url.map(Text.string), title, summary,
            contentHTML, contentText, authors: authors, categories: categories, arena: arena)
        self.published = published
        self.updated = updated
        self.language = language
        self.enclosures = enclosures
        self.source = source
    }

    /// The field's UTF-8 bytes, read in place; nil (and `body` not called) when the field is nil.
    public func withUTF8<R>(_ field: TextField, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        try texts.withUTF8(field, body)
    }

    /// Calls `body` with the UTF-8 bytes of each name in the list, in order, read in place.
    public func forEachUTF8(_ list: TextList, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) rethrows {
        try texts.forEachUTF8(list, body)
    }

    /// Sets the key and the id made from it, in one change.
    public mutating func setKey(_ key: String, id: String) {
        texts = texts.replacing([.key: key, .id: id])
    }
}

extension Item: Codable {
    private enum CodingKeys: String, CodingKey {
        case id, key, guid, url, title, authors, published, updated, summary, contentHTML, contentText, language
        case categories, enclosures, source
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id), key: try c.decode(String.self, forKey: .key),
            guid: try c.decodeIfPresent(String.self, forKey: .guid), url: try c.decodeIfPresent(String.self, forKey: .url),
            title: try c.decodeIfPresent(String.self, forKey: .title),
            authors: try c.decode([String].self, forKey: .authors),
            published: try c.decodeIfPresent(Date.self, forKey: .published),
            updated: try c.decodeIfPresent(Date.self, forKey: .updated),
            summary: try c.decodeIfPresent(String.self, forKey: .summary),
            contentHTML: try c.decodeIfPresent(String.self, forKey: .contentHTML),
            contentText: try c.decodeIfPresent(String.self, forKey: .contentText),
            language: try c.decodeIfPresent(String.self, forKey: .language),
            categories: try c.decode([String].self, forKey: .categories),
            enclosures: try c.decode([Enclosure].self, forKey: .enclosures),
            source: try c.decodeIfPresent(ItemSource.self, forKey: .source))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(key, forKey: .key)
        try c.encodeIfPresent(guid, forKey: .guid)
        try c.encodeIfPresent(url, forKey: .url)
        try c.encodeIfPresent(title, forKey: .title)
        try c.encode(authors, forKey: .authors)
        try c.encodeIfPresent(published, forKey: .published)
        try c.encodeIfPresent(updated, forKey: .updated)
        try c.encodeIfPresent(summary, forKey: .summary)
        try c.encodeIfPresent(contentHTML, forKey: .contentHTML)
        try c.encodeIfPresent(contentText, forKey: .contentText)
        try c.encodeIfPresent(language, forKey: .language)
        try c.encode(categories, forKey: .categories)
        try c.encode(enclosures, forKey: .enclosures)
        try c.encodeIfPresent(source, forKey: .source)
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

extension Item: CustomReflectable {
    /// The fields by name, as a stored struct would show them (`print`, `dump`, test failures).
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "id": id, "key": key, "guid": guid as Any, "url": url as Any, "title": title as Any, "authors": authors,
                "published": published as Any, "updated": updated as Any, "summary": summary as Any,
                "contentHTML": contentHTML as Any, "contentText": contentText as Any, "language": language as Any,
                "categories": categories, "enclosures": enclosures, "source": source as Any,
            ], displayStyle: .struct)
    }
}
