import FeedspoolModel
import Foundation
@testable import Parse
import Testing

@Suite struct FormatTests {
    @Test func atomTextConstructsBaseAndSource() throws {
        let p = try Fixture.parse("atom-text-constructs.xml")
        #expect(p.feed.format == .atom10)
        #expect(p.feed.title == "Less <than> text")
        #expect(p.feed.link == "http://a.example/blog/")
        let item = try #require(p.items.first)
        #expect(item.title == "Bold & escaped")
        #expect(item.url == "http://a.example/blog/posts/one.html")
        #expect(item.guid == "tag:a.example,2023:1")
        #expect(item.authors == ["Ann"])
        #expect(item.categories == ["news"])
        #expect(item.enclosures == [Enclosure(url: "http://a.example/media/one.mp3", type: "audio/mpeg", length: 1234)])
        #expect(item.updated.map(Timestamp.rfc3339) == "2023-08-09T08:00:00Z")
        #expect(item.source == ItemSource(name: "Original Outlet", url: "https://orig.example/", evidence: .element))
        let html = try #require(item.contentHTML)
        #expect(html.contains(#"<a href="http://a.example/blog/posts/two.html">two</a>"#))
        #expect(!html.contains("onclick") && !html.contains("javascript") && !html.contains("script"))
        #expect(item.contentText == "See two & more")
    }

    @Test func rss10WithModules() throws {
        let p = try Fixture.parse("rss10.rdf")
        #expect(p.feed.format == .rss10)
        #expect(p.feed.language == "de")
        #expect(p.feed.suggestedInterval == 1800)  // hourly, twice
        let item = try #require(p.items.first)
        #expect(item.guid == "http://r.example/a")
        #expect(item.authors == ["Dora"])
        #expect(item.categories == ["Politik"])
        #expect(item.language == "de")
        #expect(item.published.map(Timestamp.rfc3339) == "2023-08-09T08:00:00Z")
    }

    @Test func rss20ChannelAndItemFields() throws {
        let p = try Fixture.parse("../../../Examples/feeds/racurs.xml", feedID: "racurs")
        #expect(p.feed.format == .rss20)
        #expect(p.feed.feedURL == "https://racurs.example/feed.rss")
        #expect(p.feed.suggestedInterval == 1800)
        #expect(p.feed.updated.map(Timestamp.rfc3339) == "2023-08-09T07:30:00Z")
        let item = try #require(p.items.first)
        #expect(item.guid == "racurs-2023-08-09-0412")
        #expect(item.authors == ["Olena Kravets"])
        #expect(item.summary == "The river terminal in Kyiv's Podil district loaded its first barge since June on Tuesday.")
        #expect(item.contentHTML?.hasPrefix("<p>The river terminal in Kyiv’s Podil district") == true)
        #expect(item.contentText?.components(separatedBy: "\n\n").count == 5)
        #expect(item.id == ItemKey.itemID(feedID: "racurs", key: "guid:racurs-2023-08-09-0412"))
    }

    @Test func jsonFeed() throws {
        let p = try Fixture.parse("jsonfeed.json")
        #expect(p.feed.format == .jsonFeed1)
        #expect(p.feed.title == "JSON Example" && p.feed.authors == ["Jay"])
        #expect(p.items.count == 2)
        #expect(p.items[0].guid == "42")
        #expect(p.items[0].contentHTML == "<p>Hi there</p>")
        #expect(p.items[0].published.map(Timestamp.rfc3339) == "2023-08-09T08:00:00Z")
        #expect(p.items[0].enclosures.first?.length == 123)
        #expect(p.items[1].contentText == "Plain text\n\nsecond para")
        #expect(p.items[1].summary == "short")
    }

    /// JSON can escape any character; XML carries no C0 control but tab, LF and CR,
    /// and the input step drops those. A JSON Feed's strings get the same rule.
    @Test func controlCharactersInJSONFeedStringsAreDroppedAsInXML() throws {
        let json = #"""
            {"version": "https://jsonfeed.org/version/1.1", "title": "F\u0001x", "authors": [{"name": "J\u0000y"}],
             "items": [{"id": "1\u0002", "title": "a\u0001b\u0007c", "content_text": "t\u0002u\n\nv\tw", "summary": "s\u0003v",
                        "authors": [{"name": "n\u0004m"}], "tags": ["g\u0005h"], "url": "https://e.example/\u0006a"}]}
            """#
        let p = try parse(json)
        #expect(p.feed.title == "Fx" && p.feed.authors == ["Jy"])
        let item = try #require(p.items.first)
        #expect(item.guid == "1" && item.title == "abc" && item.summary == "sv" && item.contentText == "tu\n\nv\tw")
        #expect(item.authors == ["nm"] && item.categories == ["gh"] && item.url == "https://e.example/a")
        // The same document as XML, with raw controls, reads the same.
        let xml = "<rss version=\"2.0\"><channel><title>F\u{1}x</title><item><title>a\u{1}b\u{7}c</title></item></channel></rss>"
        let q = try parse(xml)
        #expect(q.feed.title == p.feed.title && q.items.first?.title == item.title)
    }

    @Test func itunesAndMediaExtensions() throws {
        let doc = """
            <rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:media="http://search.yahoo.com/mrss/">
            <channel><title>Pod</title><itunes:image href="https://p.example/cover.jpg"/><itunes:author>Host</itunes:author>
            <item><title>Ep 1</title><itunes:summary>About it</itunes:summary>
              <media:group><media:content url="https://p.example/1.mp4" type="video/mp4" fileSize="99"/></media:group>
              <media:keywords>a, b ,c</media:keywords></item>
            </channel></rss>
            """
        let p = try parse(doc)
        #expect(p.feed.image == "https://p.example/cover.jpg")
        #expect(p.feed.authors == ["Host"])
        #expect(p.items[0].summary == "About it")
        #expect(p.items[0].enclosures == [Enclosure(url: "https://p.example/1.mp4", type: "video/mp4", length: 99)])
        #expect(p.items[0].categories == ["a", "b", "c"])
    }

    @Test func rssAuthorForms() throws {
        let p = try parse(rss("""
            <item><title>1</title><author>mark@example.org (Mark Pilgrim)</author></item>
            <item><title>2</title><author>Mark Pilgrim &lt;mark@example.org&gt;</author></item>
            <item><title>3</title><author>mark@example.org</author></item>
            """))
        #expect(p.items.map(\.authors) == [["Mark Pilgrim"], ["Mark Pilgrim"], ["mark@example.org"]])
    }

    @Test func rssSourceElementAndPermalinkGuid() throws {
        let p = try parse(rss(#"<item><title>t</title><guid>https://e.example/p/1</guid><source url="https://racurs.example/feed.rss">Racurs</source></item>"#))
        #expect(p.items[0].url == "https://e.example/p/1")
        #expect(p.items[0].source == ItemSource(name: "Racurs", url: "https://racurs.example/feed.rss", evidence: .element))
    }

    @Test func relativeLinksResolveAgainstTheBaseURL() throws {
        let p = try parse(rss(#"<item><title>t</title><link>/a/b.html</link><enclosure url="../m.mp3" type="audio/mpeg" length="x"/><description>&lt;a href="c.html"&gt;c&lt;/a&gt;</description><content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">&lt;img src="i.png"&gt;</content:encoded></item>"#),
                          base: "https://s.example/feeds/rss.xml")
        #expect(p.items[0].url == "https://s.example/a/b.html")
        #expect(p.items[0].enclosures == [Enclosure(url: "https://s.example/m.mp3", type: "audio/mpeg", length: nil)])
        #expect(p.items[0].contentHTML == #"<img src="https://s.example/feeds/i.png">"#)
    }

    @Test func repeatedGuidsDoNotLoseItems() throws {
        let p = try Fixture.parse("rss-repeated-guid.xml")
        #expect(p.items.map(\.title) == ["One", "Two", "Three", "Four"])
        #expect(Set(p.items.map(\.id)).count == 4)
        #expect(p.items[0].key == "link:http://e.example/1")
        #expect(p.items[2].key.hasPrefix("hash:"))
        // The same document parsed again gives the same ids.
        #expect(try Fixture.parse("rss-repeated-guid.xml").items.map(\.id) == p.items.map(\.id))
        // Two items, the repeat in the last one (the census counts each guid late).
        let two = try parse(rss("<item><title>A</title><guid>g</guid></item><item><title>B</title><guid>g</guid></item>"))
        #expect(two.items.map(\.key).allSatisfy { $0.hasPrefix("hash:") })
        #expect(Set(two.items.map(\.id)).count == 2)
    }

    /// `xml:base` and `xml:lang` hold for the element that sets them and what it
    /// contains, and end with it: the next sibling has its parent's again.
    @Test func xmlBaseAndLangEndWithTheirElement() throws {
        let p = try parse(#"""
            <feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://a.example/x/" xml:lang="en"><title>T</title>
            <entry xml:base="y/" xml:lang="de"><id>1</id><title>A</title><link href="z"/>
              <content type="html" xml:base="/c/">&lt;a href="d"&gt;d&lt;/a&gt;</content></entry>
            <entry><id>2</id><title>B</title><link href="z"/><content type="html">&lt;a href="d"&gt;d&lt;/a&gt;</content></entry>
            </feed>
            """#)
        #expect(p.items.map(\.url) == ["http://a.example/x/y/z", "http://a.example/x/z"])
        #expect(p.items.map(\.language) == ["de", "en"])
        #expect(p.items.map(\.contentHTML) == [#"<a href="http://a.example/c/d">d</a>"#, #"<a href="http://a.example/x/d">d</a>"#])
    }

    @Test func identicalItemsAreKeptWithDistinctIDs() throws {
        let p = try parse(rss("<item><title>same</title></item><item><title>same</title></item>"))
        #expect(p.items.count == 2)
        #expect(p.items[0].id != p.items[1].id)
        // Many of them (suffixes were counted from 2 for each, quadratic: 20,000 took 95 s),
        // and a real key that looks like a suffix still stays apart.
        let many = try parse(rss(String(repeating: "<item><title>same</title></item>", count: 3000)
            + "<item><guid>tag:x,2024:1</guid></item><item><guid>tag:x,2024:1</guid></item>"))
        #expect(many.items.count == 3002)
        #expect(Set(many.items.map(\.id)).count == 3002)
        #expect(many.items[2].key == many.items[0].key + "#3")
    }

    /// Repeats in lists leave in one pass (a search per value was quadratic: an item
    /// of 40,000 categories, 20,000 enclosures and authors took 8 s).
    @Test func longListsKeepFirstOfEachInOrder() throws {
        let categories = (0..<20_000).map { "<category>c\($0 % 15_000)</category>" }.joined()
        let enclosures = (0..<5_000).map { #"<enclosure url="http://e.example/\#($0 % 4_000).mp3" type="audio/mpeg"/>"# }.joined()
        let authors = (0..<5_000).map { "<managingEditor>m\($0 % 10)@e.example</managingEditor>" }.joined()
        let p = try parse(rss(authors + "<item><title>x</title>\(categories)\(enclosures)<author>a@e.example</author><author>a@e.example</author></item>"))
        let item = try #require(p.items.first)
        #expect(item.categories.count == 15_000 && item.categories.first == "c0" && item.categories.last == "c14999")
        #expect(item.enclosures.count == 4_000 && item.enclosures[1].url == "http://e.example/1.mp3")
        #expect(item.authors == ["a@e.example"])
        #expect(p.feed.authors.count == 10)
    }

    /// XHTML content of many child elements is read in one pass. Each child element
    /// copied all the markup before it, quadratic: 80,000 `<b>` took 13.5 s in a release
    /// build, and the size limit allows a hundred times that. In a debug build these
    /// 200,000 took 141 s (over the limit); now about 2 s.
    @Test(.timeLimit(.minutes(1))) func xhtmlContentOfManyElementsIsLinear() throws {
        let count = 200_000
        let p = try parse("""
            <feed xmlns="http://www.w3.org/2005/Atom"><title>x</title><entry><id>e</id><title>t</title>
            <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">\(String(repeating: "<b>x</b>", count: count))</div></content>
            </entry></feed>
            """)
        let item = try #require(p.items.first)
        #expect(item.contentText == String(repeating: "x", count: count))
        #expect(item.contentHTML?.components(separatedBy: "<b>").count == count + 1)
    }

    @Test func contentInPlainTextIsEscapedAsHTML() throws {
        let p = try parse("""
            <feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>
            <entry><title>t</title><content type="text">a &lt;b&gt; c

            second</content></entry></feed>
            """)
        #expect(p.items[0].contentHTML == "<p>a &lt;b&gt; c</p><p>second</p>")
        #expect(p.items[0].contentText == "a <b> c\n\nsecond")
    }

    @Test func atom03AndBase64() throws {
        let p = try parse("""
            <feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>Old</title>
            <entry><title>t</title><issued>2004-04-20T00:23:47Z</issued><modified>2004-04-20T11:56:34Z</modified>
            <content type="text/html" mode="base64">RXhhbXBsZSA8Yj5BdG9tPC9iPg==</content></entry></feed>
            """)
        #expect(p.feed.format == .atom03)
        #expect(p.items[0].contentHTML == "Example <b>Atom</b>")
        #expect(p.items[0].published.map(Timestamp.rfc3339) == "2004-04-20T00:23:47Z")
        #expect(p.items[0].updated.map(Timestamp.rfc3339) == "2004-04-20T11:56:34Z")
    }

    /// Text construct types and modes in any ASCII case, as feeds write them:
    /// the value as the element holds it, and the summary it gives.
    @Test(arguments: [
        (#"type="HTML""#, "&lt;b&gt;x&lt;/b&gt; &amp;amp;", "x &"),
        (#"type="Text/Plain""#, "&lt;b&gt;", "<b>"),
        (#"type="TEXT""#, "a  &lt;b&gt;", "a  <b>"),
        (#"type="application/XHTML+xml""#, #"<div xmlns="http://www.w3.org/1999/xhtml"><i>y</i> &amp;</div>"#, "y &"),
        (#"type="text/X-Custom""#, "&lt;i&gt;", "<i>"),
        (#"mode="ESCAPED""#, "&lt;i&gt;z&lt;/i&gt;", "z"),
        (#"type="Image/PNG""#, "eHl6", "xyz"),  // base64 of a non-text type
        (#"mode="Base64" type="TEXT/HTML""#, "PGk+dzwvaT4=", "w"),
    ])
    func atomTextConstructsIgnoreCase(attributes: String, value: String, summary: String) throws {
        let p = try parse(#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>e</id><summary "# + attributes + ">" + value + "</summary></entry></feed>")
        #expect(p.items[0].summary == summary)
    }
}

@Suite struct DateTests {
    @Test(arguments: [
        ("Wed, 09 Aug 2023 10:00:00 +0300", "2023-08-09T07:00:00Z"),
        ("Wed, 09 Aug 2023 10:00:00 GMT", "2023-08-09T10:00:00Z"),
        ("09 Aug 2023 10:00:00 EST", "2023-08-09T15:00:00Z"),
        ("Wed, 9 Aug 2023 10:00 PDT", "2023-08-09T17:00:00Z"),
        ("wed, 09 aug 23 10:00:00 GMT", "2023-08-09T10:00:00Z"),
        ("Sat, 01 Jan 99 00:00:00 GMT", "1999-01-01T00:00:00Z"),
        ("Wed, 09 Aug 2023 10:00:00 GMT+7", "2023-08-09T03:00:00Z"),
        ("Wed, 09 Aug 2023 10:00:00 UTC-05:00", "2023-08-09T15:00:00Z"),
        ("Wed, 09 Aug 2023 10:00:00 America/Los_Angeles", "2023-08-09T17:00:00Z"),
        ("Thu, 09 Jan 2023 10:00:00 America/Los_Angeles", "2023-01-09T18:00:00Z"),
        ("Wed, 09 Aug 2023 10:00:00", "2023-08-09T10:00:00Z"),
        ("Wednesday, August 9, 2023 10:00 PM", "2023-08-09T22:00:00Z"),
        ("Wed Aug  9 10:00:00 2023", "2023-08-09T10:00:00Z"),
        ("9 August 2023", "2023-08-09T00:00:00Z"),
        ("09-Aug-2023 10:00:00 +0000", "2023-08-09T10:00:00Z"),
        ("2023-08-09T10:00:00Z", "2023-08-09T10:00:00Z"),
        ("2023-08-09T10:00:00z", "2023-08-09T10:00:00Z"),
        ("2023-08-09T10:00:00-0:30", "2023-08-09T10:30:00Z"),
        ("2023-08-09T10:00:00.123456+02:00", "2023-08-09T08:00:00Z"),
        ("2023-08-09T10:00+0200", "2023-08-09T08:00:00Z"),
        ("2023-08-09 10:00:00", "2023-08-09T10:00:00Z"),
        ("2023-08-09", "2023-08-09T00:00:00Z"),
        ("2023-08", "2023-08-01T00:00:00Z"),
        ("2023", "2023-01-01T00:00:00Z"),
        ("20230809T100000Z", "2023-08-09T10:00:00Z"),
        ("2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"),
    ])
    func reads(text: String, expected: String) {
        #expect(DateParser.parse(text).map(Timestamp.rfc3339) == expected)
    }

    @Test(arguments: ["", "soon", "Wed, 32 Aug 2023 10:00:00 GMT", "2023-02-30", "2023-13-01T00:00:00Z",
                      "25:00", "Wed, 09 Foo 2023 10:00:00 GMT", "2023-08-09T10:00:00 Mars/Olympus",
                      "2023-08-09T10:00:00+12345", "2023-08-09T10:00:00+", "2023-08-09T10:00:00+1a", "2023-08-09T10:00:00+1500"])
    func refuses(text: String) {
        #expect(DateParser.parse(text) == nil)
    }

    @Test func anUnreadableDateIsNullNotAnError() throws {
        let p = try parse(rss("<item><title>t</title><pubDate>the other day</pubDate></item>"))
        #expect(p.items[0].published == nil)
    }
}

@Suite struct StoryTextInFeedsTests {
    @Test func theDemoReprintNamesItsSourceAndLosesItsJunk() throws {
        let p = try Fixture.parse("../../../Examples/feeds/bunatimes.xml", feedID: "bunatimes")
        let reprint = p.items[0]
        #expect(reprint.source == ItemSource(name: "Racurs", url: nil, evidence: .text))
        let text = try #require(reprint.contentText)
        #expect(!text.contains("in_text_content_22"))
        #expect(!text.contains("I am David Wyatt"))  // the bio recurs in every item of the feed
        #expect(!text.contains("Source: Racurs"))
        #expect(text.hasPrefix("The river terminal in Kyiv's Podil district"))
        #expect(reprint.contentHTML?.contains("Source: Racurs") == true)  // the HTML keeps what the outlet published
        // The original outlet's story keeps all five paragraphs and has no source.
        let original = try Fixture.parse("../../../Examples/feeds/racurs.xml").items[0]
        #expect(original.source == nil)
        #expect(original.contentText?.components(separatedBy: "\n\n").count == 5)
    }

    @Test func anElementSourceWinsOverAnAttributionLine() throws {
        let p = try parse(rss(#"<item><title>t</title><source url="https://a.example/rss">Element Outlet</source><description>&lt;p&gt;Story.&lt;/p&gt;&lt;p&gt;Source: Text Outlet&lt;/p&gt;</description></item>"#))
        #expect(p.items[0].source?.name == "Element Outlet" && p.items[0].source?.evidence == .element)
        #expect(p.items[0].contentText == "Story.")
    }
}
