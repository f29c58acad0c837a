import Content
import FeedspoolModel
import Foundation

/// How the characters of a captured element are to be read.
enum TextMode {
    /// Plain text.
    case text
    /// Text that is HTML source (RSS descriptions, `content:encoded`, Atom `type="html"`).
    case html
    /// Child elements are the markup (Atom `type="xhtml"`, `xhtml:body`).
    case xhtml
}

/// A value captured from an element, kept with its own bytes (the feed's
/// title and description; an item's values are `TextSpan`s).
struct CapturedText {
    var bytes: [UInt8]
    var mode: TextMode
    var base: URL?
}

/// A list that keeps its first element inline: most items name one author and
/// one category, and an array for each was an allocation per item on the
/// parsing thread.
struct ShortList<Element>: Sequence {
    private var first: Element?
    private var rest: [Element] = []

    init() {}

    init(_ elements: [Element]) {
        for e in elements { append(e) }
    }

    var count: Int { first == nil ? 0 : 1 + rest.count }
    var isEmpty: Bool { first == nil }

    mutating func append(_ element: Element) {
        if first == nil { first = element } else { rest.append(element) }
    }

    struct Iterator: IteratorProtocol {
        fileprivate let list: ShortList
        fileprivate var index = -1

        mutating func next() -> Element? {
            defer { index += 1 }
            if index == -1 { return list.first }
            return index < list.rest.count ? list.rest[index] : nil
        }
    }

    func makeIterator() -> Iterator { Iterator(list: self) }
}

/// An item's captured value: where its bytes are among the captured bytes of
/// the item's batch (`DraftFinisher.captured`), and how to read them. Every
/// value of a batch of drafts shares one buffer: a buffer per value was three
/// allocations an item, and three waits for the other core's cache on reuse.
struct TextSpan {
    var start: Int
    var end: Int
    var mode: TextMode

    var count: Int { end - start }

    /// The span's bytes within `bytes` (the batch's captured bytes).
    func bytes(in bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[start..<end])
    }
}

/// Builds the feed and its items from SAX events (RSS 0.9x/1.0/2.0, Atom 0.3/1.0
/// and the extension modules of `Tag`). A value, so that a SAX callback is one
/// access to it (see `FeedBuilderDelegate`). One parse owns it.
struct FeedBuilder {
    enum Context {
        case document, feedRoot, feed, item, image, ignored, atomSource, person
    }

    /// What a captured element's value is for.
    enum Target {
        case title(priority: Int), link(rel: String?), description(priority: Int), content, guid(permalink: Bool), atomID
        case published(priority: Int), updated(priority: Int), author(priority: Int), category
        case language, generator, imageURL, ttl, syPeriod, syFrequency
        case personName, personEmail, mediaKeywords, sourceName(url: String?)
    }

    /// An open element. Plain data: copied at every element, a frame that held the
    /// `xml:base` URL and `xml:lang` (retained and released each time) cost about
    /// half of `start`'s own time.
    private struct Frame {
        var context: Context
        /// Where in `scopes` the element's `xml:base` and `xml:lang` are.
        var scope: Int
    }

    /// The `xml:base` and `xml:lang` in force: the document's first, then one entry
    /// for each open element that changed either (it goes when the element ends).
    private var scopes: [(base: URL?, language: String?)]

    private func base(_ f: Frame) -> URL? { scopes[f.scope].base }
    private func language(_ f: Frame) -> String? { scopes[f.scope].language }

    /// A value being captured: its bytes go to `finisher.captured` from `start` on.
    private struct Capture {
        var target: Target
        var depth: Int
        var start: Int
        var mode: TextMode
        /// Where in `scopes` its element's base URL is (an index, not the URL: a
        /// URL is a reference, retained and released with every copy of a capture).
        var scope: Int
        var owner: Context
        var base64 = false
    }

    /// An item while its elements arrive.
    struct Draft {
        var guid: String?
        var guidIsPermalink = false
        var atomID: String?
        var rdfAbout: String?
        var link: String?
        var linkPriority = 99
        var title: (TextSpan, Int)?
        var summary: (TextSpan, Int)?
        var content: TextSpan?
        var published: (Date, Int)?
        var updated: (Date, Int)?
        var authors = ShortList<(String, Int)>()
        var categories = ShortList<String>()
        var enclosures: [Enclosure] = []
        var mediaEnclosures: [Enclosure] = []
        var language: String?
        var source: ItemSource?
        /// The base URL of the content's element, for the relative URLs in its markup.
        var contentBase: URL?
    }

    private(set) var format: FeedFormat?
    private(set) var feed = FeedInfo(format: .rss20)
    /// Items are finished as their elements end, on a second thread for long documents.
    private let finisher: DraftFinisher

    /// The feed's authors so far, to drop repeats in constant time (a list search made
    /// a document of many authors quadratic).
    private var feedAuthorsSeen = Set<String>()

    private mutating func addFeedAuthor(_ name: String) {
        if feedAuthorsSeen.insert(name).inserted { feed.authors.append(name) }
    }

    /// The items read so far, handed over: the builder lets go of them, so that
    /// replacing an item's text frees the old one (a 50 MB feed would hold both).
    mutating func takeItems() -> (items: [Item], tally: StoryText.ParagraphTally, guids: GuidCensus) {
        finisher.takeItems()
    }
    private var feedTitle: (CapturedText, Int)?
    private var feedDescription: CapturedText?
    private var feedLinkPriority = 99
    private var feedID: String?
    private var feedUpdated: (Date, Int)?
    private var syPeriod: String?
    private var syFrequency: Int?

    private var stack: [Frame] = []
    private var capture: Capture?
    private var draft: Draft?
    /// Where the draft's first captured byte went (its bytes are dropped with it).
    private var draftStart = 0
    private var person: (name: String?, email: String?, uri: String?)?
    private var sourceDraft: ItemSource?
    /// The most bytes one element's value may hold; the rest is dropped.
    private let maxFieldBytes: Int

    /// Items kept (the first ones), and how many after them were dropped.
    private let maxItems: Int
    private(set) var itemsDropped = 0

    init(
        baseURL: URL?, feedID: String, maxFieldBytes: Int = 8 << 20, maxItems: Int = 10_000,
        batchesInFlight: Int = DraftFinisher.maxBatchesInFlight
    ) {
        self.finisher = DraftFinisher(feedID: feedID, batchesInFlight: batchesInFlight)
        scopes = [(baseURL, nil)]  // the document's: the caller's base URL, no language
        self.maxFieldBytes = maxFieldBytes
        self.maxItems = maxItems
    }

    var isFeed: Bool { format != nil }

    // MARK: SAX events

    mutating func start(_ name: XMLElementName, attributes: XMLAttributes) {
        let parent = stack.last ?? Frame(context: .document, scope: 0)
        var frame = parent
        let xmlBase = attributes.xml("base"), xmlLang = attributes.xml("lang").flatMap { $0.isEmpty ? nil : $0 }
        if xmlBase != nil || xmlLang != nil {
            var scope = scopes[parent.scope]
            if let b = xmlBase { scope.base = URL(string: URLText.resolve(b, against: scope.base)) ?? scope.base }
            if let xmlLang { scope.language = xmlLang }
            scopes.append(scope)
            frame.scope = scopes.count - 1
        }

        if capture != nil {
            // Inside a captured value: child elements are markup. Appended in place:
            // a copy of the capture (`if var c = capture`) made every child element
            // copy all the markup so far, quadratic in the element's size.
            if finisher.captured.count - capture!.start + name.localBytes.count + 2 <= maxFieldBytes {
                finisher.captured.append(0x3C)
                finisher.captured.append(contentsOf: name.localBytes)
                attributes.serialize(into: &finisher.captured)
                finisher.captured.append(0x3E)
            }
            if capture!.mode == .text { capture!.mode = .html }
            stack.append(frame)
            return
        }

        switch parent.context {
        case .document:
            frame.context = root(name, attributes: attributes)
        case .feedRoot:
            switch name.tag {
            case .channel, .atomFeed: frame.context = .feed
            case .item, .entry: beginItem(frame, attributes: attributes); frame.context = .item
            case .image: frame.context = .image
            case .ignoredContainer: frame.context = .ignored
            default: frame.context = .feedRoot
            }
        case .feed:
            frame.context = .feed
            switch name.tag {
            case .item, .entry: beginItem(frame, attributes: attributes); frame.context = .item
            case .image: frame.context = .image
            case .ignoredContainer, .atomSource: frame.context = .ignored
            case .person: person = (nil, nil, nil); frame.context = .person
            default: feedField(name, attributes: attributes, frame: frame)
            }
        case .item:
            frame.context = .item
            switch name.tag {
            case .person: person = (nil, nil, nil); frame.context = .person
            case .source where name.namespace == .atom10 || name.namespace == .atom03 || format == .atom10 || format == .atom03:
                sourceDraft = ItemSource(name: nil, url: nil, evidence: .element)
                frame.context = .atomSource
            case .ignoredContainer: frame.context = .ignored
            default: itemField(name, attributes: attributes, frame: frame)
            }
        case .image:
            if name.tag == .url, feed.image == nil { begin(.imageURL, mode: .text, frame: frame, owner: .image) }
        case .person:
            switch name.tag {
            case .name: begin(.personName, mode: .text, frame: frame, owner: .person)
            case .email: begin(.personEmail, mode: .text, frame: frame, owner: .person)
            default: break
            }
        case .atomSource:
            if name.tag == .title {
                begin(.sourceName(url: nil), mode: Self.textMode(attributes, default: .text), frame: frame, owner: .atomSource)
            } else if name.tag == .link, let href = attributes.value("href") {
                let rel = attributes.value("rel") ?? "alternate"
                let b = base(frame)
                if rel == "alternate" && sourceDraft?.url == nil { sourceDraft?.url = URLText.resolve(href, against: b) }
            }
        case .ignored:
            break
        }
        if capture != nil, capture!.depth == stack.count, Self.isBase64(attributes, isAtom: isAtom) { capture!.base64 = true }
        if frame.context == .feed || frame.context == .feedRoot, firstFrameLanguage == nil {
            firstFrameLanguage = language(frame)
        }
        stack.append(frame)
    }

    mutating func end(_ name: XMLElementName) {
        guard let frame = stack.popLast() else { return }
        let frameLanguage = language(frame)
        // The element's own xml:base or xml:lang goes once the element is done with:
        // its capture, finished below, reads its base from there.
        let ownScope = frame.scope != (stack.last?.scope ?? 0)
        defer { if ownScope { scopes.removeLast() } }
        if capture != nil {
            if stack.count > capture!.depth {
                if finisher.captured.count - capture!.start + name.localBytes.count + 3 <= maxFieldBytes {
                    finisher.captured.append(literal: "</")
                    finisher.captured.append(contentsOf: name.localBytes)
                    finisher.captured.append(0x3E)
                }
                return
            }
            finishCapture(capture.take()!)
        }
        switch frame.context {
        case .item where stack.last?.context != .item:
            // Changed in place and moved out: binding it to a local copied every field.
            if draft != nil {
                if finisher.count >= maxItems {
                    itemsDropped += 1
                    draft = nil
                    finisher.captured.truncate(to: draftStart)  // nothing after it is kept
                } else {
                    if draft!.language == nil { draft!.language = frameLanguage }
                    finisher.add(draft.take()!)
                }
            }
        case .person where stack.last?.context != .person:
            if let p = person {
                let display = p.name ?? p.email
                if let display, !display.isEmpty {
                    if stack.last?.context == .item {
                        draft?.authors.append((display, 0))
                    } else if stack.last?.context == .feed {
                        addFeedAuthor(display)
                    }
                }
            }
            person = nil
        case .atomSource where stack.last?.context != .atomSource:
            if let s = sourceDraft, s.name != nil || s.url != nil { draft?.source = s }
            sourceDraft = nil
        default:
            break
        }
    }

    mutating func text(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard capture != nil else { return }
        guard finisher.captured.count - capture!.start + bytes.count <= maxFieldBytes else { return }
        if capture!.mode == .xhtml {
            for b in bytes {
                switch b {
                case 0x26: finisher.captured.append(literal: "&amp;")
                case 0x3C: finisher.captured.append(literal: "&lt;")
                case 0x3E: finisher.captured.append(literal: "&gt;")
                default: finisher.captured.append(b)
                }
            }
        } else {
            finisher.captured.append(contentsOf: bytes)
        }
    }

    // MARK: roots and containers

    /// The document element's local name, once seen.
    private(set) var rootName: String?

    private mutating func root(_ name: XMLElementName, attributes: XMLAttributes) -> Context {
        rootName = name.localName
        switch Tag.root(local: name.localName) {
        case .rssRoot:
            let version = attributes.value("version") ?? ""
            format = version.hasPrefix("0.9") ? .rss09x : .rss20
            return .feedRoot
        case .rdfRoot:
            format = .rss10
            return .feedRoot
        case .atomFeed:
            if name.namespace == .atom03 || attributes.value("version") == "0.3" { format = .atom03 } else { format = .atom10 }
            return .feed
        case .channel:
            format = .rss20
            return .feed
        default:
            return .ignored
        }
    }

    private mutating func beginItem(_ frame: Frame, attributes: XMLAttributes) {
        var about = attributes.value("about")
        if format == .rss10, about?.isEmpty == true { about = nil }
        draft = Draft()
        draftStart = finisher.captured.count
        draft!.rdfAbout = about
    }

    /// An Atom text construct's kind from its `type` (and Atom 0.3's `mode`).
    /// Read on the attribute bytes, ignoring ASCII case: a String per attribute,
    /// lowercased and searched, cost more than the rest of the element.
    private static func textMode(_ attributes: XMLAttributes, default fallback: TextMode) -> TextMode {
        guard attributes.count > 0 else { return fallback }
        let type = attributes.valueBytes("type")
        if let mode = attributes.valueBytes("mode") {
            if Caseless.equals(mode, "xml") { return .xhtml }
            if Caseless.equals(mode, "escaped") && (type.map { Caseless.contains($0, "html") } ?? true) { return .html }
        }
        guard let type, !type.isEmpty else { return fallback }
        if Caseless.equals(type, "text") || Caseless.equals(type, "text/plain") { return .text }
        if Caseless.equals(type, "html") || Caseless.equals(type, "text/html") { return .html }
        if Caseless.equals(type, "xhtml") || Caseless.equals(type, "application/xhtml+xml") { return .xhtml }
        return Caseless.hasPrefix(type, "text/") ? .text : fallback
    }

    private var isAtom: Bool { format == .atom10 || format == .atom03 }

    private mutating func begin(_ target: Target, mode: TextMode, frame: Frame, owner: Context) {
        capture = Capture(target: target, depth: stack.count, start: finisher.captured.count, mode: mode, scope: frame.scope, owner: owner)
    }

    /// Atom 0.3 `mode="base64"`, and Atom 1.0 content of a non-text media type, are base64.
    private static func isBase64(_ attributes: XMLAttributes, isAtom: Bool) -> Bool {
        guard attributes.count > 0 else { return false }
        if let mode = attributes.valueBytes("mode"), Caseless.equals(mode, "base64") { return true }
        guard isAtom, let type = attributes.valueBytes("type"), !type.isEmpty else { return false }
        return !Caseless.hasPrefix(type, "text") && !Caseless.contains(type, "html") && !Caseless.contains(type, "xml")
            && !Caseless.equals(type, "xhtml")
    }

    // MARK: feed-level elements

    private mutating func feedField(_ name: XMLElementName, attributes: XMLAttributes, frame: Frame) {
        let atomText = Self.textMode(attributes, default: .text)
        switch name.tag {
        case .title: begin(.title(priority: 0), mode: isAtom ? atomText : .html, frame: frame, owner: .feed)
        case .dcTitle: begin(.title(priority: 1), mode: .html, frame: frame, owner: .feed)
        case .link:
            if let href = attributes.value("href") {
                atomLink(href: href, attributes: attributes, frame: frame, inItem: false)
            } else {
                begin(.link(rel: attributes.value("rel")), mode: .text, frame: frame, owner: .feed)
            }
        case .description, .subtitle: begin(.description(priority: 0), mode: isAtom ? atomText : .html, frame: frame, owner: .feed)
        case .dcDescription, .itunesSummary: begin(.description(priority: 1), mode: .html, frame: frame, owner: .feed)
        case .language, .dcLanguage: begin(.language, mode: .text, frame: frame, owner: .feed)
        case .lastBuildDate, .updated: begin(.updated(priority: 0), mode: .text, frame: frame, owner: .feed)
        case .pubDate, .dcDate, .dctermsModified: begin(.updated(priority: 1), mode: .text, frame: frame, owner: .feed)
        case .generator:
            begin(.generator, mode: .text, frame: frame, owner: .feed)
        case .logo: if feed.image == nil { begin(.imageURL, mode: .text, frame: frame, owner: .feed) }
        case .icon: if feed.image == nil { begin(.imageURL, mode: .text, frame: frame, owner: .feed) }
        case .itunesImage:
            if feed.image == nil, let href = attributes.value("href") { feed.image = URLText.resolve(href, against: base(frame)) }
        case .managingEditor, .dcCreator, .itunesAuthor, .author:
            begin(.author(priority: 0), mode: .text, frame: frame, owner: .feed)
        case .ttl: begin(.ttl, mode: .text, frame: frame, owner: .feed)
        case .id: begin(.atomID, mode: .text, frame: frame, owner: .feed)
        case .syUpdatePeriod: begin(.syPeriod, mode: .text, frame: frame, owner: .feed)
        case .syUpdateFrequency: begin(.syFrequency, mode: .text, frame: frame, owner: .feed)
        default: break
        }
    }

    // MARK: item-level elements

    private mutating func itemField(_ name: XMLElementName, attributes: XMLAttributes, frame: Frame) {
        var atomText: TextMode { Self.textMode(attributes, default: .text) }  // read only where it matters
        switch name.tag {
        case .title: begin(.title(priority: 0), mode: isAtom && name.namespace != .none ? atomText : (attributes.has("type") ? atomText : .html), frame: frame, owner: .item)
        case .dcTitle: begin(.title(priority: 1), mode: .html, frame: frame, owner: .item)
        case .mediaTitle: begin(.title(priority: 2), mode: .html, frame: frame, owner: .item)
        case .link:
            if let href = attributes.value("href") {
                atomLink(href: href, attributes: attributes, frame: frame, inItem: true)
            } else {
                begin(.link(rel: attributes.value("rel")), mode: .text, frame: frame, owner: .item)
            }
        case .guid:
            let permalink = !(attributes.valueBytes("isPermaLink").map { Caseless.equals($0, "false") } ?? false)
            begin(.guid(permalink: permalink), mode: .text, frame: frame, owner: .item)
        case .id: begin(.atomID, mode: .text, frame: frame, owner: .item)
        case .description: begin(.description(priority: 0), mode: .html, frame: frame, owner: .item)
        case .summary: begin(.description(priority: 0), mode: isAtom ? atomText : .html, frame: frame, owner: .item)
        case .dcDescription: begin(.description(priority: 1), mode: .html, frame: frame, owner: .item)
        case .itunesSummary: begin(.description(priority: 2), mode: .html, frame: frame, owner: .item)
        case .mediaDescription: begin(.description(priority: 3), mode: Self.textMode(attributes, default: .text), frame: frame, owner: .item)
        case .contentEncoded: begin(.content, mode: .html, frame: frame, owner: .item)
        case .xhtmlBody: begin(.content, mode: .xhtml, frame: frame, owner: .item)
        case .content:
            if attributes.has("src") { break }  // out-of-line content: nothing to read
            begin(.content, mode: Self.textMode(attributes, default: isAtom && format == .atom03 && attributes.value("mode") == "escaped" ? .html : .text), frame: frame, owner: .item)
        case .pubDate, .published: begin(.published(priority: 0), mode: .text, frame: frame, owner: .item)
        case .dctermsIssued: begin(.published(priority: 1), mode: .text, frame: frame, owner: .item)
        case .created: begin(.published(priority: 2), mode: .text, frame: frame, owner: .item)
        case .updated: begin(.updated(priority: 0), mode: .text, frame: frame, owner: .item)
        case .dcDate, .dctermsModified: begin(.updated(priority: 1), mode: .text, frame: frame, owner: .item)
        case .author: begin(.author(priority: 0), mode: .text, frame: frame, owner: .item)
        case .dcCreator: begin(.author(priority: 1), mode: .text, frame: frame, owner: .item)
        case .itunesAuthor: begin(.author(priority: 2), mode: .text, frame: frame, owner: .item)
        case .category:
            if let term = attributes.value("term") {
                let label = term.isEmpty ? attributes.value("label") : term
                if let label, !label.isEmpty { draft?.categories.append(label) }
            } else {
                begin(.category, mode: .text, frame: frame, owner: .item)
            }
        case .dcSubject, .mediaCategory: begin(.category, mode: .text, frame: frame, owner: .item)
        case .mediaKeywords: begin(.mediaKeywords, mode: .text, frame: frame, owner: .item)
        case .enclosure:
            if let url = attributes.value("url") ?? attributes.value("href"), !url.isEmpty {
                let b = base(frame)
                draft?.enclosures.append(Enclosure(
                    url: URLText.resolve(Self.trimmed(url, .whitespaces), against: b),
                    type: attributes.value("type").flatMap { $0.isEmpty ? nil : $0 },
                    length: attributes.value("length").flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }))
            }
        case .mediaContent:
            if let url = attributes.value("url"), !url.isEmpty {
                let b = base(frame)
                draft?.mediaEnclosures.append(Enclosure(
                    url: URLText.resolve(url, against: b), type: attributes.value("type"),
                    length: attributes.value("fileSize").flatMap { Int64($0) }))
            }
        case .source:
            begin(.sourceName(url: attributes.value("url")), mode: .text, frame: frame, owner: .item)
        case .language, .dcLanguage: begin(.language, mode: .text, frame: frame, owner: .item)
        default: break
        }
    }

    private mutating func atomLink(href: String, attributes: XMLAttributes, frame: Frame, inItem: Bool) {
        let rel = (attributes.value("rel") ?? "alternate").lowercased()
        let url = URLText.resolve(Self.trimmed(href, .whitespacesAndNewlines), against: base(frame))
        let type = attributes.value("type")?.lowercased()
        let priority = type == nil || type == "text/html" || type == "application/xhtml+xml" ? 0 : 1
        switch rel {
        case "alternate", "http://www.iana.org/assignments/relation/alternate":
            if inItem {
                if priority < draft?.linkPriority ?? 99 { draft?.link = url; draft?.linkPriority = priority }
            } else if priority < feedLinkPriority {
                feed.link = url
                feedLinkPriority = priority
            }
        case "self":
            if !inItem && feed.feedURL == nil { feed.feedURL = url }
        case "enclosure":
            if inItem {
                draft?.enclosures.append(Enclosure(
                    url: url, type: type, length: attributes.value("length").flatMap { Int64($0) }))
            }
        default:
            break
        }
    }

    // MARK: captured values

    private mutating func finishCapture(_ c: consuming Capture) {
        var span = TextSpan(start: c.start, end: finisher.captured.count, mode: c.mode)
        if c.base64 {
            // Decoded base64 is read as HTML when it is text at all, else dropped.
            let encoded = UTF8String.make(span.bytes(in: finisher.captured.bytes))
            let decoded = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters).map { [UInt8]($0) } ?? []
            finisher.captured.truncate(to: c.start)
            guard String(validating: decoded, as: UTF8.self) != nil else { return }
            finisher.captured.append(contentsOf: decoded)
            span.end = finisher.captured.count
            span.mode = .html
        }
        // Only the values an item keeps stay among the captured bytes; the rest were read.
        if !read(c, span) { finisher.captured.truncate(to: c.start) }
    }

    /// Puts what a finished capture holds where it belongs. True when the draft
    /// keeps `span` (its bytes must stay).
    private mutating func read(_ c: borrowing Capture, _ span: TextSpan) -> Bool {
        let bytes = span.bytes(in: finisher.captured.bytes)
        var base: URL? { scopes[c.scope].base }
        // Content bodies can be large: only short fields become trimmed strings.
        let plain: String
        switch c.target {
        case .content, .description, .title: plain = TextBytes.hasText(bytes) ? "x" : ""
        case .published, .updated: plain = ""  // dates are read from the bytes
        default: plain = TextBytes.trimmed(bytes)
        }
        if c.owner == .person {
            if case .personName = c.target, person?.name == nil, !plain.isEmpty { person?.name = plain }
            if case .personEmail = c.target, person?.email == nil, !plain.isEmpty { person?.email = plain }
            return false
        }
        if c.owner == .atomSource {
            if sourceDraft?.name == nil { sourceDraft?.name = Self.plainText(bytes, mode: span.mode) }
            return false
        }
        let inItem = c.owner == .item
        switch c.target {
        case .title(let p):
            if inItem {
                if draft?.title == nil || p < draft!.title!.1 { draft?.title = (span, p); return true }
            } else if feedTitle == nil || p < feedTitle!.1 {
                feedTitle = (CapturedText(bytes: Array(bytes), mode: span.mode, base: base), p)
            }
        case .link(let rel):
            guard !plain.isEmpty else { return false }
            let url = URLText.resolve(plain, against: base)
            if let rel = rel?.lowercased(), rel != "alternate" {
                if rel == "enclosure", inItem { draft?.enclosures.append(Enclosure(url: url)) }
                return false
            }
            if inItem {
                if draft?.linkPriority ?? 99 > 0 { draft?.link = url; draft?.linkPriority = 0 }
            } else if c.owner == .feed, feedLinkPriority > 0 {
                feed.link = url
                feedLinkPriority = 0
            }
        case .description(let p):
            if inItem {
                if draft?.summary == nil || p < draft!.summary!.1 { draft?.summary = (span, p); return true }
            } else if feedDescription == nil {
                feedDescription = CapturedText(bytes: Array(bytes), mode: span.mode, base: base)
            }
        case .content:
            if draft?.content == nil, !plain.isEmpty {
                draft?.content = span
                draft?.contentBase = base
                return true
            }
        case .guid(let permalink):
            if !plain.isEmpty, draft?.guid == nil { draft?.guid = plain; draft?.guidIsPermalink = permalink }
        case .atomID:
            if !plain.isEmpty {
                if inItem { if draft?.atomID == nil { draft?.atomID = plain } } else if feedID == nil { feedID = plain }
            }
        case .published(let p):
            if inItem, draft?.published == nil || p < draft!.published!.1, let d = DateParser.parse(bytes: bytes) {
                draft?.published = (d, p)
            }
        case .updated(let p):
            guard let d = DateParser.parse(bytes: bytes) else { return false }
            if inItem {
                if draft?.updated == nil || p < draft!.updated!.1 { draft?.updated = (d, p) }
            } else if feedUpdated == nil || p < feedUpdated!.1 {
                feedUpdated = (d, p)
            }
        case .author(let p):
            guard let name = Self.authorName(plain) else { return false }
            if inItem { draft?.authors.append((name, p)) } else { addFeedAuthor(name) }
        case .category:
            if !plain.isEmpty { draft?.categories.append(Self.collapse(plain)) }
        case .mediaKeywords:
            for k in plain.split(separator: ",") {
                let t = k.trimmingCharacters(in: .whitespaces)
                if !t.isEmpty { draft?.categories.append(t) }
            }
        case .language:
            if !plain.isEmpty { if inItem { draft?.language = plain } else if feed.language == nil { feed.language = plain } }
        case .generator:
            if !plain.isEmpty { feed.generator = plain }
        case .imageURL:
            if !plain.isEmpty, feed.image == nil { feed.image = URLText.resolve(plain, against: base) }
        case .ttl:
            if let minutes = Int(plain), minutes > 0, minutes < 1_000_000 { feed.suggestedInterval = minutes * 60 }
        case .syPeriod: syPeriod = plain.lowercased()
        case .syFrequency: syFrequency = Int(plain)
        case .sourceName(let url):
            let name = Self.collapse(plain)
            draft?.source = ItemSource(
                name: name.isEmpty ? nil : name,
                url: url.map { URLText.resolve($0, against: base) }, evidence: .element)
        case .personName, .personEmail:
            break
        }
        return false
    }

    // MARK: results

    /// The feed object, completed once the document has ended.
    func finishedFeed() -> FeedInfo {
        var f = feed
        f.format = format ?? .rss20
        if let t = feedTitle { f.title = t.0.bytes.withUnsafeBufferPointer { Self.plainText($0, mode: t.0.mode) }.nilIfEmpty }
        if let d = feedDescription { f.description = d.bytes.withUnsafeBufferPointer { Self.plainText($0, mode: d.mode) }.nilIfEmpty }
        f.updated = feedUpdated?.0
        if f.link == nil, let id = feedID, let scheme = URLText.scheme(of: id), scheme == "http" || scheme == "https" {
            f.link = id  // an Atom feed whose id is its address
        }
        if f.language == nil, let root = firstFrameLanguage { f.language = root }
        if f.suggestedInterval == nil, let period = syPeriod {
            let seconds: Int? = ["hourly": 3600, "daily": 86_400, "weekly": 604_800, "monthly": 2_592_000, "yearly": 31_536_000][period]
            if let seconds { f.suggestedInterval = seconds / max(1, syFrequency ?? 1) }
        }
        return f
    }

    private(set) var firstFrameLanguage: String?

    // MARK: text helpers

    /// A captured value as one line of plain text (titles, names).
    static func plainText(_ bytes: UnsafeBufferPointer<UInt8>, mode: TextMode) -> String {
        // Most titles are HTML without a tag or reference: rendering would only
        // collapse their white space, which `collapse` does anyway.
        if mode == .html, !bytes.contains(where: { $0 == 0x3C || $0 == 0x26 }) {
            return collapse(UTF8String.make(bytes))
        }
        return collapse(paragraphs(bytes, mode: mode))
    }

    /// A captured value as plain text with its paragraph breaks ("\n\n") kept:
    /// HTML is rendered, plain text is trimmed.
    static func paragraphs(_ bytes: UnsafeBufferPointer<UInt8>, mode: TextMode) -> String {
        var buffers = HTMLRenderBuffers()
        return paragraphs(bytes, mode: mode, buffers: &buffers)
    }

    /// `paragraphs`, rendering in the caller's `buffers` (kept from item to item).
    static func paragraphs(_ bytes: UnsafeBufferPointer<UInt8>, mode: TextMode, buffers: inout HTMLRenderBuffers) -> String {
        switch mode {
        case .text: return TextBytes.trimmed(bytes)
        case .html, .xhtml:
            // One line of printable ASCII without a tag or reference (most summaries):
            // rendering would only collapse its spaces.
            if TextBytes.isASCIIWithoutMarkup(bytes) { return collapse(UTF8String.make(bytes)) }
            if PlainTextMarkup.hasMarkup(bytes) {
                HTMLRenderer.render(bytes, baseURL: nil, sanitize: false, text: true, into: &buffers)
            } else {
                PlainTextMarkup.paragraphed(bytes).withUnsafeBufferPointer {
                    HTMLRenderer.render($0, baseURL: nil, sanitize: false, text: true, into: &buffers)
                }
            }
            return buffers.withOutput { UTF8String.make($1) }
        }
    }

    /// `s` trimmed of `set`; without Foundation's UTF-16 round trip when it begins
    /// and ends with a printable ASCII byte (nearly every URL), as it is then.
    /// (The set is made only when the ends need trimming: getting Foundation's
    /// `.whitespacesAndNewlines` costs hundreds of instructions, once per link.)
    static func trimmed(_ s: String, _ set: @autoclosure () -> CharacterSet) -> String {
        let u = s.utf8
        if let f = u.first, let l = u.last, f > 0x20, f < 0x7F, l > 0x20, l < 0x7F { return s }
        return s.trimmingCharacters(in: set())
    }

    /// Whitespace runs to one space, trimmed.
    static func collapse(_ s: String) -> String {
        var s = s
        // Most values are ASCII with single spaces between words already: returned as they are.
        let alreadyCollapsed = s.withUTF8 { TextBytes.isCollapsedASCII($0) }
        if alreadyCollapsed { return s }
        if s.utf8.allSatisfy({ $0 < 0x80 }) {
            var out: [UInt8] = []
            out.reserveCapacity(s.utf8.count)
            var space = false
            for b in s.utf8 {
                if TextBytes.isSpace(b) || b == 0x0B {
                    space = true
                } else {
                    if space && !out.isEmpty { out.append(0x20) }
                    space = false
                    out.append(b)
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
        var out = ""
        out.reserveCapacity(s.utf8.count)
        var space = false
        for ch in s.unicodeScalars {
            if ch.properties.isWhitespace {
                space = true
            } else {
                if space && !out.isEmpty { out.unicodeScalars.append(" ") }
                space = false
                out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// The display name of an RSS author value: "Name" from "mail@x (Name)" or
    /// "Name <mail@x>", else the value itself.
    static func authorName(_ raw: String) -> String? {
        let s = collapse(raw)
        // Nearly every name is only a name: its bytes are copied out only to look inside.
        guard let last = s.utf8.last else { return nil }
        guard last == UInt8(ascii: ")") || last == UInt8(ascii: ">") else { return s }
        let b = Array(s.utf8)
        if last == UInt8(ascii: ")"), let open = b.firstIndex(of: UInt8(ascii: "(")) {
            let inner = TextBytes.trimmed(Array(b[(open + 1)..<(b.count - 1)]))
            if !inner.isEmpty { return inner }
        }
        if last == UInt8(ascii: ">"), let lt = b.firstIndex(of: UInt8(ascii: "<")), lt > 0 {
            let name = Array(b[..<lt]).filter { $0 != UInt8(ascii: "\"") }
            let trimmed = TextBytes.trimmed(name)
            if !trimmed.isEmpty { return trimmed }
        }
        return s
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

/// Hands libxml2's SAX events to a `FeedBuilder` value: one exclusive access
/// per event, where a class holding the builder's state checked every property.
final class FeedBuilderDelegate: SAXDelegate {
    /// Not checked for exclusive access at run time: libxml2 makes one callback at a
    /// time and none of them re-enters the parser, and the check was 80 instructions
    /// per SAX event (a twentieth of an element's whole cost).
    @exclusivity(unchecked) var builder: FeedBuilder

    init(_ builder: FeedBuilder) { self.builder = builder }

    func start(_ name: XMLElementName, attributes: XMLAttributes) { builder.start(name, attributes: attributes) }
    func end(_ name: XMLElementName) { builder.end(name) }
    func text(_ bytes: UnsafeBufferPointer<UInt8>) { builder.text(bytes) }
}

/// Comparisons of attribute bytes with ASCII words, ignoring ASCII case (for
/// the ASCII words here, the same answers as lowercasing a String first).
private enum Caseless {
    @inline(__always) static func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c | 0x20 : c }

    static func hasPrefix(_ b: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard b.count >= n else { return false }
        let w = word.utf8Start
        for i in 0..<n where lower(b[i]) != w[i] { return false }
        return true
    }

    static func equals(_ b: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
        b.count == word.utf8CodeUnitCount && hasPrefix(b, word)
    }

    static func contains(_ b: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard b.count >= n else { return false }
        for start in 0...(b.count - n) where hasPrefix(UnsafeBufferPointer(rebasing: b[start...]), word) { return true }
        return false
    }
}
