@testable import FeedspoolModel
import Foundation
import Testing

/// `Item` keeps its texts in one block (`ItemTexts`): every field must read back
/// as it was given, nil apart from empty, and a change of one field must leave
/// the others as they were.
@Suite struct ItemTests {
    static let full = Item(
        id: "0123456789abcdef0123456789abcdef", key: "guid:urn:x", guid: "urn:x", url: "https://example.org/a?b=1",
        title: "Grain «exports» resume 🗞", authors: ["Ann", "", "Böb Ç"], published: Date(timeIntervalSince1970: 1e9),
        updated: nil, summary: "", contentHTML: "<p>x &amp; y</p>", contentText: "x & y\n\nsecond",
        language: "uk", categories: ["a", "b"], enclosures: [Enclosure(url: "https://e/1.mp3", type: "audio/mpeg", length: 3)],
        source: ItemSource(name: "Racurs", url: nil, evidence: .text))

    static var texts: [(String, WritableKeyPath<Item, String?>)] { [
        ("guid", \.guid), ("url", \.url), ("title", \.title), ("summary", \.summary),
        ("contentHTML", \.contentHTML), ("contentText", \.contentText),
    ] }

    @Test func everyFieldReadsBackAsGiven() {
        let i = Self.full
        #expect(i.id == "0123456789abcdef0123456789abcdef")
        #expect(i.key == "guid:urn:x")
        #expect(i.guid == "urn:x")
        #expect(i.url == "https://example.org/a?b=1")
        #expect(i.title == "Grain «exports» resume 🗞")
        #expect(i.authors == ["Ann", "", "Böb Ç"])
        #expect(i.summary == "")  // empty, not nil
        #expect(i.contentHTML == "<p>x &amp; y</p>")
        #expect(i.contentText == "x & y\n\nsecond")
        #expect(i.categories == ["a", "b"])
        #expect(i.language == "uk")
        let empty = Item()
        #expect(empty.id == "" && empty.key == "")
        #expect(empty.guid == nil && empty.url == nil && empty.title == nil && empty.summary == nil)
        #expect(empty.contentHTML == nil && empty.contentText == nil)
        #expect(empty.authors.isEmpty && empty.categories.isEmpty)
    }

    /// Items made with an arena share its blocks; each reads back, compares and
    /// hashes as the same item made alone, outlives the arena, and changes alone.
    /// One larger than a quarter of a block gets a block of its own.
    @Test func itemsInSharedBlocksAreTheItemsMadeAlone() {
        let f = Self.full
        func make(_ n: Int, _ arena: UnsafeMutablePointer<ItemTextArena>?) -> Item {
            let body = n == 7 ? String(repeating: "long story ", count: 3_000) : "story \(n) ü"
            return Item(
                id: .string("id\(n)"), key: "guid:\(n)", guid: "\(n)", url: f.url, title: n % 3 == 0 ? nil : .string("title \(n)"), authors: n % 2 == 0 ? [] : ["A \(n)"],
                published: f.published, updated: nil, summary: .string("s\(n)"), contentHTML: .string("<p>\(body)</p>"),
                contentText: .string(body), language: nil, categories: ["c\(n)"], enclosures: [], source: nil, arena: arena)
        }
        var shared: [Item] = []
        do {
            var arena = ItemTextArena()
            // Enough items to fill several blocks.
            for n in 0..<400 { shared.append(withUnsafeMutablePointer(to: &arena) { make(n, $0) }) }
        }
        for n in 0..<400 {
            let alone = make(n, nil)
            #expect(shared[n] == alone, "item \(n)")
            #expect(shared[n].hashValue == alone.hashValue, "item \(n)")
            #expect(shared[n].title == alone.title && shared[n].contentText == alone.contentText && shared[n].authors == alone.authors)
            if n > 0 { #expect(shared[n] != shared[n - 1]) }
        }
        var changed = shared[5]
        changed.title = "new"
        #expect(changed.title == "new" && shared[5].title == "title 5" && shared[4].title == "title 4")
        #expect(shared[7].contentText?.utf8.count == 33_000)
    }

    /// Texts given as bytes make the same item as the same texts given as Strings.
    @Test func textsGivenAsBytesMakeTheSameItem() {
        let f = Self.full
        for (summary, html, text) in [("", "<p>x &amp; y</p>", "x & y\n\nsecond"), ("s ü", "", "🗞"), (nil, nil, nil)] as [(String?, String?, String?)] {
            let strings = Item(
                id: f.id, key: f.key, guid: f.guid, url: f.url, title: f.title, authors: f.authors, published: f.published,
                updated: f.updated, summary: summary, contentHTML: html, contentText: text, language: f.language,
                categories: f.categories, enclosures: f.enclosures, source: f.source)
            var s = summary ?? "", h = html ?? "", t = text ?? "", title = f.title!
            let bytes = s.withUTF8 { sb in
                h.withUTF8 { hb in
                    t.withUTF8 { tb in title.withUTF8 { titleBytes in
                        Item(
                            id: .string(f.id), key: f.key, guid: f.guid, url: f.url, title: .utf8(titleBytes), authors: f.authors,
                            published: f.published, updated: f.updated, summary: summary == nil ? nil : .utf8(sb),
                            contentHTML: html == nil ? nil : .utf8(hb), contentText: text == nil ? nil : .string(String(decoding: tb, as: UTF8.self)),
                            language: f.language, categories: f.categories, enclosures: f.enclosures, source: f.source)
                    } }
                }
            }
            #expect(bytes == strings)
            #expect(bytes.summary == summary && bytes.contentHTML == html && bytes.contentText == text)
        }
    }

    @Test func changingOneTextLeavesTheOthers() {
        for (name, path) in Self.texts {
            for value in [nil, "", "new ü value"] as [String?] {
                var i = Self.full
                i[keyPath: path] = value
                #expect(i[keyPath: path] == value, "\(name) = \(String(describing: value))")
                for (other, otherPath) in Self.texts where other != name {
                    #expect(i[keyPath: otherPath] == Self.full[keyPath: otherPath], "\(other) after setting \(name)")
                }
                #expect(i.id == Self.full.id && i.key == Self.full.key)
                #expect(i.authors == Self.full.authors && i.categories == Self.full.categories)
                #expect(Self.full.contentText == "x & y\n\nsecond")  // the original is not changed
            }
        }
        var i = Self.full
        i.authors = []
        i.categories.append("c")
        #expect(i.authors == [] && i.categories == ["a", "b", "c"] && i.title == Self.full.title)
        i.setKey("link:https://x", id: "ffffffffffffffffffffffffffffffff")
        #expect(i.key == "link:https://x" && i.id == "ffffffffffffffffffffffffffffffff" && i.guid == "urn:x")
    }

    @Test func equalityAndHashFollowTheFields() {
        // The same bytes split differently between fields are different items.
        let a = Item(title: "ab", summary: "c"), b = Item(title: "a", summary: "bc")
        #expect(a != b)
        #expect(Item(title: "") != Item(title: nil))
        #expect(Item(authors: ["a", "b"]) != Item(authors: ["ab"]))
        #expect(Item(authors: ["a"]) != Item(categories: ["a"]))
        var c = Self.full
        c.title = "other"
        c.title = Self.full.title  // a new block with the same texts
        #expect(c == Self.full)
        #expect(c.hashValue == Self.full.hashValue)
        #expect(Set([a, b, Item(title: "ab", summary: "c")]).count == 2)
        c.language = "en"
        #expect(c != Self.full)
    }

    @Test func textsReadInPlaceMatchTheStrings() {
        let i = Self.full
        for field in Item.TextField.allCases {
            let bytes = i.withUTF8(field) { Array($0) }
            let string: String? = switch field {
            case .id: i.id
            case .key: i.key
            case .guid: i.guid
            case .url: i.url
            case .title: i.title
            case .summary: i.summary
            case .contentHTML: i.contentHTML
            case .contentText: i.contentText
            }
            #expect(bytes == string.map { Array($0.utf8) }, "\(field)")
        }
        var called = false
        #expect(Item().withUTF8(.title) { _ in called = true } == nil)
        #expect(!called)
        var authors: [String] = []
        i.forEachUTF8(.authors) { authors.append(String(decoding: $0, as: UTF8.self)) }
        #expect(authors == i.authors)
        var categories: [String] = []
        i.forEachUTF8(.categories) { categories.append(String(decoding: $0, as: UTF8.self)) }
        #expect(categories == ["a", "b"])
    }

    @Test func jsonWrittenInPlaceHoldsTheSameValues() throws {
        var w = JSONWriter()
        w.beginObject()
        w.writeFields(of: Self.full)
        w.endObject()
        let o = try #require(try JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any])
        #expect(o["id"] as? String == Self.full.id)
        #expect(o["title"] as? String == Self.full.title)
        #expect(o["summary"] as? String == "")
        #expect(o["content_text"] as? String == Self.full.contentText)
        #expect(o["authors"] as? [String] == Self.full.authors)
        #expect(o["categories"] as? [String] == ["a", "b"])
        #expect(o["updated"] is NSNull)
        var empty = JSONWriter()
        empty.beginObject()
        empty.writeFields(of: Item())
        empty.endObject()
        #expect(empty.string.contains("\"guid\":null,\"url\":null,\"title\":null,\"authors\":[]"))
    }

    @Test func codableRoundTrip() throws {
        let data = try JSONEncoder().encode(Self.full)
        #expect(try JSONDecoder().decode(Item.self, from: data) == Self.full)
    }
}
