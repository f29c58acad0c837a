import Content
import FeedspoolModel
import Foundation

/// Turns item drafts into finished `Item`s: text rendered, content sanitized,
/// fallbacks applied, and stable keys and ids assigned.
enum ItemAssembler {
    /// Completes items once the whole document is read: feed-level fallbacks, keys and ids.
    static func complete(_ items: consuming [Item], feed: FeedInfo, feedID: String) -> (items: [Item], boilerplate: [String]) {
        // Consumed, not copied: a copy would keep every original text alive while the cleaned ones are made.
        if let language = feed.language {
            for i in items.indices where items[i].language == nil { items[i].language = language }
        }
        let boilerplate = cleanStoryText(&items)
        assignKeys(&items, feedID: feedID)
        return (items, boilerplate)
    }

    /// An item from its draft, as soon as the item's element ends, so that its raw
    /// markup can be freed while the rest of the document is parsed.
    static func finish(_ d: FeedBuilder.Draft) -> Item {
        var item = Item()
        item.guid = d.guid ?? d.atomID ?? d.rdfAbout
        item.url = d.link
        if item.url == nil, d.guid != nil, d.guidIsPermalink, let g = d.guid,
            let scheme = URLText.scheme(of: g), scheme == "http" || scheme == "https"
        {
            item.url = g
        }
        item.title = d.title.map { FeedBuilder.plainText($0.0) }?.nilIfEmpty
        let summaryText = d.summary.map { FeedBuilder.paragraphs($0.0) }?.nilIfEmpty
        item.summary = summaryText
        if let content = d.content {
            switch content.mode {
            case .html, .xhtml:
                var bytes = content.bytes
                if !PlainTextMarkup.hasMarkup(bytes) { bytes = PlainTextMarkup.paragraphed(bytes) }
                let r = HTMLRenderer.render(bytes: &bytes, baseURL: content.base, sanitize: true, text: true, trimmingHTML: true)
                item.contentHTML = r.html.nilIfEmpty
                item.contentText = r.text.nilIfEmpty
            case .text:
                let text = content.trimmed
                item.contentHTML = textAsHTML(text).nilIfEmpty
                item.contentText = text.nilIfEmpty
            }
        }
        if item.contentText == nil { item.contentText = summaryText }
        item.published = d.published?.0 ?? d.updated?.0
        item.updated = d.updated?.0
        // Repeats dropped in one pass with a set: `contains` on the list was quadratic,
        // and an item of 40,000 categories took seconds.
        item.authors = d.authors.count < 2 ? d.authors.map(\.0) : firstOfEach(
            d.authors.enumerated().sorted(by: { ($0.element.1, $0.offset) < ($1.element.1, $1.offset) }).map(\.element.0), by: { $0 })
        item.categories = firstOfEach(d.categories, by: { $0 })
        item.enclosures = firstOfEach(d.enclosures.isEmpty ? d.mediaEnclosures : d.enclosures, by: \.url)
        item.language = d.language
        item.source = d.source
        return item
    }

    /// `content_text` without page junk and without paragraphs that recur across
    /// the document's items (boilerplate); an attribution line becomes the
    /// item's `source` (evidence `text`) unless a `<source>` element named one.
    /// Returns the recurring paragraphs it removed.
    @discardableResult
    static func cleanStoryText(_ items: inout [Item]) -> [String] {
        // Attribution first: "Originally published by X" recurs across a reprinter's
        // items, and must become their source before recurring lines go.
        for i in items.indices {
            guard let text = items[i].contentText else { continue }
            let cleaned = StoryText.clean(text)
            items[i].contentText = cleaned.text.isEmpty ? nil : cleaned.text
            if items[i].source == nil, let name = cleaned.sourceName {
                items[i].source = ItemSource(name: name, url: nil, evidence: .text)
            }
        }
        let recurring = StoryText.recurringParagraphs(items.compactMap(\.contentText))
        guard !recurring.isEmpty else { return [] }
        for i in items.indices {
            // Never empties a story entirely (`removing` is nil then).
            guard let text = items[i].contentText, let kept = recurring.removing(from: text) else { continue }
            items[i].contentText = kept
        }
        return recurring.paragraphs.sorted()
    }

    /// The values in order, without later ones whose `key` was seen already.
    static func firstOfEach<T, K: Hashable>(_ values: [T], by key: (T) -> K) -> [T] {
        guard values.count > 1 else { return values }  // most items: no set to build
        var seen = Set<K>()
        return values.filter { seen.insert(key($0)).inserted }
    }

    /// Plain text as HTML: escaped, one `<p>` per paragraph.
    static func textAsHTML(_ text: String) -> String {
        let escaped = text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
        return escaped.components(separatedBy: "\n\n").map { "<p>" + $0.replacingOccurrences(of: "\n", with: "<br>") + "</p>" }
            .joined()
    }

    /// Keys: the guid where it is unique in the document, else the link where
    /// that is unique, else a hash of title, date and the feed's text (not the
    /// cleaned text, which depends on the document's other items) (feeds that repeat one
    /// guid for every item must not lose items). Items identical in all of these
    /// get `#2`, `#3`… by position, so nothing is lost and ids stay unique.
    private static func assignKeys(_ items: inout [Item], feedID: String) {
        // Sized up front: grown on the way, each table rehashed its keys some ten times.
        var guidCount: [String: Int] = [:]
        var linkCount: [String: Int] = [:]
        guidCount.reserveCapacity(items.count)
        linkCount.reserveCapacity(items.count)
        for it in items {
            if let g = it.guid { guidCount[g, default: 0] += 1 }
            if let l = it.url { linkCount[l, default: 0] += 1 }
        }
        var keys = UniqueNames(separator: "#")
        keys.reserveCapacity(items.count)
        for index in items.indices {
            assignKey(&items[index], guidCount: guidCount, linkCount: linkCount, keys: &keys, feedID: feedID)
        }
    }

    private static func assignKey(
        _ it: inout Item, guidCount: [String: Int], linkCount: [String: Int], keys: inout UniqueNames, feedID: String
    ) {
        if let g = it.guid, guidCount[g] == 1 {
            it.key = "guid:" + g
        } else if let l = it.url, linkCount[l] == 1 {
            it.key = "link:" + l
        } else {
            var h = SHA256()
            for part in [it.guid, it.url, it.title, it.published.map(Timestamp.rfc3339), it.summary, it.contentHTML] {
                h.update(part ?? "")
                h.update(byte: 0)
            }
            it.key = "hash:" + h.finalizeHex(bytes: 16)
        }
        it.key = keys.claim(it.key)
        it.id = ItemKey.itemID(feedID: feedID, key: it.key)
    }
}
