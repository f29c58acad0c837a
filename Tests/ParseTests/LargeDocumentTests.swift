import FeedspoolModel
import Foundation
@testable import Parse
import Testing

/// Long documents have their items finished on a second thread (`DraftFinisher`),
/// a batch at a time, while libxml2 reads on.
@Suite struct LargeDocumentTests {
    /// Item `i` of the document below: every 97th one large enough to make a batch
    /// of its own, and item 500 repeating item 3's guid, so that those two are keyed
    /// by their links once the whole document is seen.
    static func item(_ i: Int) -> String {
        let words = i % 97 == 0 ? 40_000 : 25
        let body = String(repeating: "word\(i) ", count: words)
        let guid = i == 500 ? "g3" : "g\(i)"
        return "<item><title>Item \(i)</title><link>https://e.example/\(i)</link><guid>\(guid)</guid>"
            + "<description>&lt;p&gt;\(body)&lt;/p&gt;&lt;p&gt;Source: Outlet \(i % 5)&lt;/p&gt;</description></item>"
    }

    /// More items than the batches the finishing queue may hold, so the parser also
    /// waits for it; each item comes out in document order and as it does when its
    /// document holds it alone, whole or pushed in small chunks.
    @Test func itemsFinishedOnTheSecondThreadKeepOrderAndContent() throws {
        let count = DraftFinisher.batchDrafts * (DraftFinisher.maxBatchesInFlight + 7) + 3
        let doc = Array(rss((0..<count).map(Self.item).joined()).utf8)
        let whole = try FeedParser.parse(doc, options: ParseOptions(feedID: "test"))
        let chunked = try parseInChunks(doc, size: 4096)
        #expect(whole.items.count == count)
        #expect(chunked.items == whole.items)
        var mismatches: [Int] = []
        for i in 0..<count {
            var alone = try parse(rss(Self.item(i))).items[0]
            if i == 3 || i == 500 {
                alone.key = "link:https://e.example/\(i)"
                alone.id = ItemKey.itemID(feedID: "test", key: alone.key)
            }
            if whole.items[i] != alone { mismatches.append(i) }
        }
        #expect(mismatches.isEmpty, "items that differ from the same item parsed alone: \(mismatches.prefix(20))")
        #expect(whole.items[7].source == ItemSource(name: "Outlet 2", url: nil, evidence: .text))
        #expect(whole.items[7].contentText?.contains("Source:") == false)
    }

    /// With no room on the finishing queue, the parsing thread finishes every batch
    /// itself and the queue only adds the items in their turn (`DraftFinisher`):
    /// the same items in the same order, and the same recurring paragraphs found
    /// (the parsing thread's tally joins the queue's), whole or pushed in chunks.
    @Test func batchesFinishedOnTheParsingThreadKeepOrderAndContent() throws {
        let bio = "<p>Jane Roe writes about the port, the river and the grain trade for this paper.</p>"
        let count = DraftFinisher.batchDrafts * 5 + 7
        let items = (0..<count).map { i in
            // The bio in the first item and the last, which are in different batches.
            let item = Self.item(i)
            guard i == 1 || i == count - 1 else { return item }
            return item.replacingOccurrences(of: "</description>", with: bio.replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;") + "</description>")
        }
        let doc = Array(rss(items.joined()).utf8)
        let usual = try FeedParser.parse(doc, options: ParseOptions(feedID: "test"))
        for size in [doc.count, 4096] {
            let p = FeedParser(options: ParseOptions(feedID: "test"), batchesInFlight: 0)
            var i = 0
            while i < doc.count {
                let end = min(doc.count, i + size)
                try doc[i..<end].withUnsafeBytes { try p.push($0) }
                i = end
            }
            let here = try p.finish()
            #expect(here.items.count == count)
            #expect(here.items == usual.items, "chunks of \(size)")
            #expect(here.boilerplate == usual.boilerplate, "chunks of \(size)")
        }
        #expect(usual.boilerplate == ["Jane Roe writes about the port, the river and the grain trade for this paper."])
        #expect(usual.items[1].contentText?.contains("Jane Roe") == false)
    }

    /// Guids are compared by their bytes, as ids hash them, whichever way the keys
    /// are settled: "café" written precomposed and decomposed are two guids (Swift's
    /// `String ==` takes them for one), with or without an item that has no guid
    /// (which sends the keys to the exact count).
    @Test func guidsThatDifferOnlyInNormalizationStayTwo() throws {
        let two = "<item><guid>caf\u{E9}</guid><link>https://e.example/1</link><title>a</title></item>"
            + "<item><guid>cafe\u{301}</guid><link>https://e.example/2</link><title>b</title></item>"
        let plain = try parse(rss(two))
        let withOneMissing = try parse(rss(two + "<item><link>https://e.example/3</link><title>c</title></item>"))
        for p in [plain, withOneMissing] {
            #expect(Array(p.items[0].key.utf8) == Array("guid:caf\u{E9}".utf8))
            #expect(Array(p.items[1].key.utf8) == Array("guid:cafe\u{301}".utf8))
            #expect(p.items[0].id != p.items[1].id)
        }
        #expect(withOneMissing.items[2].key == "link:https://e.example/3")
    }

    /// A document of items that all repeat one guid and one link, spread over many
    /// batches: each gets a hash key, the identical ones numbered in document order.
    @Test func keysSettledAfterTheWholeDocumentAcrossBatches() throws {
        let count = DraftFinisher.batchDrafts * 3
        let items = (0..<count).map { i in
            "<item><guid>same</guid><link>https://e.example/same</link><title>t\(i % 2)</title></item>"
        }
        let p = try parse(rss(items.joined()))
        #expect(p.items.count == count)
        #expect(Set(p.items.map(\.id)).count == count)
        #expect(p.items.allSatisfy { $0.key.hasPrefix("hash:") })
        #expect(p.items[2].key == p.items[0].key + "#2" && p.items[3].key == p.items[1].key + "#2")
        #expect(p.items[count - 1].key == p.items[1].key + "#\(count / 2)")
        #expect(p.items.allSatisfy { $0.id == ItemKey.itemID(feedID: "test", key: $0.key) })
    }
}
