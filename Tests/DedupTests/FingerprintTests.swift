import Dedup
import FeedspoolModel
import Testing

@Suite struct CanonicalURLTests {
    @Test func trackingCaseDefaultPortFragmentAndSlashGo() {
        #expect(
            CanonicalURL.canonical("HTTPS://News.Example.COM:443/world/story-1/?utm_source=rss&id=7&fbclid=abc#comments")
                == "https://news.example.com/world/story-1?id=7")
        #expect(CanonicalURL.canonical("http://example.com:80/a?gclid=1&mc_cid=2&mc_eid=3&_hsenc=4&ref=5") == "http://example.com/a")
        #expect(CanonicalURL.canonical("http://example.com:8080/a/") == "http://example.com:8080/a")
        #expect(CanonicalURL.canonical("ftp://example.com/a") == nil)
        #expect(CanonicalURL.canonical("not a url") == nil)
    }

    @Test func frontPagesAreNoKeys() {
        #expect(!CanonicalURL.namesAPage(CanonicalURL.canonical("https://example.com/?utm_source=x")!))
        #expect(CanonicalURL.namesAPage(CanonicalURL.canonical("https://example.com/?p=123")!))
    }

    @Test func globalGuids() {
        #expect(ExactKeys.isGlobal(guid: "https://example.com/news/2023/story"))
        #expect(ExactKeys.isGlobal(guid: "tag:example.com,2023:story-9"))
        #expect(ExactKeys.isGlobal(guid: "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427"))
        #expect(ExactKeys.isGlobal(guid: "1B4E28BA-2FA1-11D2-883F-0016D3CCA427"))
        #expect(!ExactKeys.isGlobal(guid: "12345"))
        #expect(!ExactKeys.isGlobal(guid: "story-9"))
        #expect(!ExactKeys.isGlobal(guid: "https://example.com/"))
    }
}
