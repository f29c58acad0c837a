import Dedup
import FeedspoolModel
import Foundation
import Store
import TestSupport
import Testing

@Suite struct FingerprintTests {
    @Test func quoteDashCaseAndSpellingDoNotMatter() {
        let a = Fingerprint(text: "The organisation’s “centre” — said: Colour is LABOUR's favour, analysed.")
        let b = Fingerprint(text: "the organization's \"center\" - said color is labor's favor, analyzed")
        #expect(a.sample == b.sample)
        #expect(a.words == b.words)
    }

    @Test func aReprintContainsTheOriginal() throws {
        let c = try #require(ShingleSample.compare(Fingerprint(text: Stories.original).sample, Fingerprint(text: Stories.reprint).sample))
        #expect(c.containment > 0.9)
    }

    @Test func anExcerptIsContainedInItsFullText() throws {
        let c = try #require(ShingleSample.compare(Fingerprint(text: Stories.excerpt).sample, Fingerprint(text: Stories.original).sample))
        #expect(c.containment == 1)
        #expect(c.resemblance < 0.5)
    }

    @Test func anotherReportOfTheEventIsNot() throws {
        let c = try #require(ShingleSample.compare(Fingerprint(text: Stories.otherReport).sample, Fingerprint(text: Stories.original).sample))
        #expect(c.containment < 0.2)
    }

    @Test func nearKeysAreBandsAndParagraphOpenings() {
        // (That keys are the same in every process is pinnedKeys' job.)
        let f = Fingerprint(text: Stories.original)
        // 16 bands, and one opening per paragraph of 8 words or more, for the first 5 (the original has 6).
        #expect(f.nearKeys.count == Fingerprint.bands + 5)
    }

    @Test func pinnedKeys() {
        // Pinned values: if this fails, the hashing changed and every stored index would be stale.
        let f = Fingerprint(text: "one two three four five")
        #expect(f.words == 5)
        #expect(f.shingles == 2)
        #expect(f.sample.hashes == Fingerprint(text: "ONE two, three; four -- five").sample.hashes)
        #expect(f.sample.hashes == [1_807_974_234, 3_080_216_830])
        #expect(Fingerprint(text: Stories.original).textKey == 11_368_224_355_783_959_855)
    }

    @Test func samplesAreSortedAndDistinct() {
        // Long texts keep a sampled quarter, short ones every shingle; repeats collapse.
        let repeated = String(repeating: "the same sentence comes back again and again. ", count: 80)
        let long = (0..<400).map { "word\($0 % 97)x\($0 % 13)" }.joined(separator: " ")
        let veryLong = (0..<4000).map { "w\($0)" }.joined(separator: " ")  // a sample of about a thousand
        for text in [Stories.original, Stories.short, repeated, long, veryLong] {
            let sample = Fingerprint(text: text).sample
            #expect(zip(sample.hashes, sample.hashes.dropFirst()).allSatisfy { $0 < $1 }, "sample of \(text.prefix(30))")
            if !sample.isWhole { #expect(sample.hashes.allSatisfy { $0 < 1 << 30 }) }
        }
        // Pinned, like the keys above: the sample's sort must not change what is stored.
        #expect(Fingerprint(text: veryLong).sample.hashes.count > 512)
        let sample = Fingerprint(text: long).sample
        #expect(sample.isWhole == false)
        #expect(sample.hashes.count == 93)
        #expect(sample.hashes.reduce(UInt64(0)) { $0 &* 31 &+ UInt64($1) } == 9_280_395_752_868_030_547)
    }

    @Test func shortTextsGetNoTextKey() {
        #expect(Fingerprint(text: Stories.short).textKey == nil)
        #expect(Fingerprint(text: Stories.original).textKey != nil)
    }
}

/// The deduplicator against a real SQLite store in a temp folder.
final class DedupStoreFixture {
    let folder: URL
    let store: any Store
    /// Another connection to the same store, as another process would open.
    let reopen: () throws -> any Store

    init(_ backend: StoreBackend) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("feedspool-dedup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        switch backend {
        case .sqlite:
            let path = folder.appendingPathComponent("store.db").path
            store = try SQLiteStore(path: path)
            reopen = { try SQLiteStore(path: path) }
        case .postgres:
            let url = try StoreBackend.scratchPostgres()
            store = try PostgresStore(url: url)
            reopen = { try PostgresStore(url: url) }
        }
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    /// Decides one item in its own round, as a job with one new item would.
    func decide(
        _ dedup: Deduplicator, feed: String, id: String, guid: String? = nil, url: String? = nil, text: String,
        at now: Date = Date(timeIntervalSince1970: 1_700_000_000)
    ) throws -> DedupDecision {
        var decision: DedupDecision?
        try store.recordIntents(feedID: feed, now: now) { session in
            decision = try dedup.decide(
                [DedupCandidate(itemID: id, feedID: feed, guid: guid, url: url, text: text)], session: session, now: now
            ).first
            return DeliveryIntents(items: [])
        }
        return decision!
    }
}

func itemID(_ n: Int) -> String { String(repeating: "0", count: 31 - String(n, radix: 16).count) + "a" + String(n, radix: 16) }

@Suite struct DeduplicatorTests {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    @Test(arguments: StoreBackend.available) func reprintIsADuplicateOfTheFirstCopySeen(_ backend: StoreBackend) throws {
        let f = try DedupStoreFixture(backend)
        let d = Deduplicator(policy: DedupPolicy())
        let first = try f.decide(d, feed: "racurs", id: itemID(1), guid: "https://racurs.example/a/1", text: Stories.original)
        #expect(first.record == .original(itemID(1)))
        #expect(first.reason == "no earlier item shares a key")
        let copy = try f.decide(d, feed: "bunatimes", id: itemID(2), guid: "https://bunatimes.example/?p=9", text: Stories.reprint)
        #expect(copy.record.status == .duplicate)
        #expect(copy.record.method == .nearDuplicate)
        #expect(copy.record.cluster == itemID(1))
        #expect(copy.record.duplicateOf == itemID(1))
        #expect((copy.record.similarity ?? 0) >= 0.8)
        #expect(copy.reason == "contains \(Int(((copy.record.similarity ?? 0) * 100).rounded()))% of the shorter text (threshold 80%)")
        #expect(!copy.writesFile)  // drop is the default
        // A dropped copy's entry is found by its id (`dedup explain` says so), and an unknown id is not.
        let (entry, details) = try #require(try f.store.dedupEntry(itemID: itemID(2)))
        #expect(entry.record == copy.record)
        #expect(!details.sample.isEmpty)
        #expect(try f.store.dedupEntry(itemID: itemID(99)) == nil)
    }

    /// A bio that opens every story of an outlet is a key 60 entries share; candidates
    /// come from its 32 most recent ones, and an old story's copy is still found
    /// through its own paragraphs.
    @Test(arguments: StoreBackend.available) func aKeyManyEntriesShareStillFindsOldCopies(_ backend: StoreBackend) throws {
        let f = try DedupStoreFixture(backend)
        let d = Deduplicator(policy: DedupPolicy())
        let bio = "Kestrel Bay Courier staff writers cover the harbour, the council and the ferries every day of the week for our readers."
        var seed: UInt64 = 7
        func paragraph() -> String {
            let words = ["grain", "ferry", "council", "harbour", "vote", "tonnes", "route", "night", "bridge", "fees", "crew", "dock",
                         "season", "budget", "mayor", "storm", "cargo", "pier", "tide", "permit", "survey", "repair", "fleet", "lease"]
            return (0..<30).map { _ in
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return words[Int(seed >> 33) % words.count]
            }.joined(separator: " ") + "."
        }
        let stories = (0..<60).map { _ in [bio, paragraph(), paragraph()] }
        for (n, s) in stories.enumerated() {
            let decision = try f.decide(d, feed: "courier", id: itemID(n), text: s.joined(separator: "\n\n"))
            #expect(decision.record.status == .original, "story \(n) is no copy")
        }
        let reprint = try f.decide(d, feed: "other", id: itemID(100), text: stories[0].joined(separator: "\n\n") + "\n\nSource: Courier")
        #expect(reprint.record.duplicateOf == itemID(0))
        let excerpt = try f.decide(d, feed: "digest", id: itemID(101), text: stories[1][0...1].joined(separator: "\n\n"))
        #expect(excerpt.record.duplicateOf == itemID(1))
    }

    /// One text in 400 items (a podcast's description in every episode): each key
    /// keeps its most recent entries only, and every later item is still a copy in
    /// the first one's cluster.
    @Test(arguments: StoreBackend.available) func oneTextInManyItemsStaysOneCluster(_ backend: StoreBackend) throws {
        let f = try DedupStoreFixture(backend)
        let d = Deduplicator(policy: DedupPolicy())
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        var decisions: [DedupDecision] = []
        for round in 0..<8 {
            try f.store.recordIntents(feedID: "podcast", now: now) { session in
                let items = (0..<50).map { k in
                    DedupCandidate(itemID: itemID(round * 50 + k), feedID: "podcast", guid: nil, url: nil, text: Stories.original)
                }
                decisions += try d.decide(items, session: session, now: now)
                return DeliveryIntents(items: [])
            }
        }
        #expect(decisions.first?.record == .original(itemID(0)))
        #expect(decisions.dropFirst().allSatisfy { $0.record.status == .duplicate && $0.record.cluster == itemID(0) })
        #expect(decisions.last?.record.method == .contentHash)
        #expect(decisions.last?.reason == "same normalized text")
    }

    @Test(arguments: StoreBackend.available) func differentReportsAndShortItemsStayApart(_ backend: StoreBackend) throws {
        let f = try DedupStoreFixture(backend)
        let d = Deduplicator(policy: DedupPolicy())
        _ = try f.decide(d, feed: "a", id: itemID(1), text: Stories.original)
        let other = try f.decide(d, feed: "b", id: itemID(2), text: Stories.otherReport)
        #expect(other.record.status == .original)
        #expect(other.reason == "no earlier item shares a key" || other.reason.contains("below the threshold 80%"), "\(other.reason)")
        _ = try f.decide(d, feed: "c", id: itemID(3), text: Stories.short)
        #expect(try f.decide(d, feed: "c", id: itemID(4), text: Stories.shortOther).record.status == .original)
        // Identical short text is not a copy either: one template, two stories.
        #expect(try f.decide(d, feed: "d", id: itemID(5), text: Stories.short).record.status == .original)
    }

    @Test(arguments: StoreBackend.available) func excerptMatchesFullTextInEitherOrder(_ backend: StoreBackend) throws {
        let f = try DedupStoreFixture(backend)
        let d = Deduplicator(policy: DedupPolicy(dropCopies: false))
        _ = try f.decide(d, feed: "digest", id: itemID(1), text: Stories.excerpt)
        let full = try f.decide(d, feed: "outlet", id: itemID(2), text: Stories.original)
        #expect(full.record.status == .duplicate)
        #expect(full.record.cluster == itemID(1))
        #expect(full.writesFile)  // mark
    }

    @Test(arguments: StoreBackend.available) func exactKeys(_ backend: StoreBackend) throws {
        let f = try DedupStoreFixture(backend)
        let d = Deduplicator(policy: DedupPolicy())
        _ = try f.decide(d, feed: "a", id: itemID(1), guid: "tag:racurs.example,2023:1", url: "https://racurs.example/story?id=1", text: "one")
        // A global guid in another feed: a copy whatever the text.
        let g = try f.decide(d, feed: "b", id: itemID(2), guid: "tag:racurs.example,2023:1", text: "two")
        #expect(g.record.method == .guid)
        // A local guid (a number) is not compared across feeds.
        _ = try f.decide(d, feed: "a", id: itemID(3), guid: "12345", text: "three")
        #expect(try f.decide(d, feed: "b", id: itemID(4), guid: "12345", text: "four").record.status == .original)
        // The same page with tracking parameters, another case and a fragment.
        let u = try f.decide(d, feed: "c", id: itemID(5), url: "HTTPS://Racurs.example:443/story/?id=1&utm_source=rss&fbclid=x#top", text: "five")
        #expect(u.record.method == .url)
        #expect(u.record.cluster == itemID(1))
        // The same long text under another URL and guid.
        _ = try f.decide(d, feed: "d", id: itemID(6), url: "https://x.example/1", text: Stories.otherReport)
        let t = try f.decide(d, feed: "e", id: itemID(7), url: "https://y.example/2", text: Stories.otherReport)
        #expect(t.record.method == .contentHash)
        #expect(t.record.similarity == 1)
    }

    @Test(arguments: StoreBackend.available) func windowCountsFromFirstSeen(_ backend: StoreBackend) throws {
        let f = try DedupStoreFixture(backend)
        let d = Deduplicator(policy: DedupPolicy(window: 3600))
        _ = try f.decide(d, feed: "a", id: itemID(1), text: Stories.original, at: t0)
        #expect(try f.decide(d, feed: "b", id: itemID(2), text: Stories.reprint, at: t0 + 3599).record.status == .duplicate)
        // Two hours later both have left the window.
        #expect(try f.decide(d, feed: "c", id: itemID(3), text: Stories.reprint, at: t0 + 7200).record.status == .original)
        #expect(try f.store.pruneDedup(before: t0 + 7200 - 3600) == 2)
    }

    @Test(arguments: StoreBackend.available) func anOriginalArrivingLastJoinsCopiesThatDidNotMatchEachOther(_ backend: StoreBackend) throws {
        let f = try DedupStoreFixture(backend)
        let d = Deduplicator(policy: DedupPolicy(dropCopies: false))
        let paragraphs = Stories.original.components(separatedBy: "\n\n")
        let front = paragraphs.prefix(2).joined(separator: "\n\n")  // an excerpt
        let back = paragraphs.suffix(3).joined(separator: "\n\n")  // the tail only
        #expect(try f.decide(d, feed: "a", id: itemID(1), text: front).record.status == .original)
        #expect(try f.decide(d, feed: "b", id: itemID(2), text: back).record.status == .original)
        let full = try f.decide(d, feed: "c", id: itemID(3), text: Stories.original)
        #expect(full.record.status == .duplicate)
        #expect(full.record.cluster == itemID(1))
        #expect(full.joins == [itemID(2)])
        #expect(full.record.duplicateOf == itemID(2))  // the file shows the join: cluster 1, copy of 2
        // A later copy of the tail now lands in the merged story.
        let later = try f.decide(d, feed: "d", id: itemID(4), text: back)
        #expect(later.record.cluster == itemID(1))
        // And a process that loads the index from the store agrees.
        let fresh = Deduplicator(policy: DedupPolicy(dropCopies: false))
        #expect(try f.decide(fresh, feed: "e", id: itemID(5), text: back).record.cluster == itemID(1))
    }

    @Test(arguments: StoreBackend.available) func twoProcessesShareOneIndex(_ backend: StoreBackend) throws {
        // Two deduplicators (as in two processes) on one store: each catches
        // up on the other's entries inside the serialized round.
        let f = try DedupStoreFixture(backend)
        let other = try f.reopen()
        let a = Deduplicator(policy: DedupPolicy())
        let b = Deduplicator(policy: DedupPolicy())
        _ = try f.decide(a, feed: "x", id: itemID(1), text: Stories.original)
        var decision: DedupDecision?
        try other.recordIntents(feedID: "y", now: t0) { session in
            decision = try b.decide([DedupCandidate(itemID: itemID(2), feedID: "y", guid: nil, url: nil, text: Stories.reprint)], session: session, now: t0)
                .first
            return DeliveryIntents(items: [])
        }
        #expect(decision?.record.cluster == itemID(1))
        // and back
        #expect(try f.decide(a, feed: "z", id: itemID(3), text: Stories.reprint).record.cluster == itemID(1))
    }

    @Test(arguments: StoreBackend.available) func aRoundThatFailsLeavesNothingBehind(_ backend: StoreBackend) throws {
        struct Boom: Error {}
        let f = try DedupStoreFixture(backend)
        let d = Deduplicator(policy: DedupPolicy())
        #expect(throws: StoreError.self) {
            try f.store.recordIntents(feedID: "a", now: t0) { session in
                _ = try d.decide([DedupCandidate(itemID: itemID(1), feedID: "a", guid: nil, url: nil, text: Stories.original)], session: session, now: t0)
                throw Boom()
            }
        }
        d.invalidate()
        // The rolled-back item is in neither the store nor memory: the reprint is an original now.
        #expect(try f.decide(d, feed: "b", id: itemID(2), text: Stories.reprint).record.status == .original)
        #expect(try f.store.dedupStats().entries == 1)
    }

    @Test(arguments: StoreBackend.available) func itemsOfOneRoundSeeEachOther(_ backend: StoreBackend) throws {
        let f = try DedupStoreFixture(backend)
        let d = Deduplicator(policy: DedupPolicy())
        var decisions: [DedupDecision] = []
        try f.store.recordIntents(feedID: "a", now: t0) { session in
            decisions = try d.decide(
                [
                    DedupCandidate(itemID: itemID(1), feedID: "a", guid: nil, url: nil, text: Stories.original),
                    DedupCandidate(itemID: itemID(2), feedID: "a", guid: nil, url: nil, text: Stories.reprint),
                ], session: session, now: t0)
            return DeliveryIntents(items: [])
        }
        #expect(decisions.map(\.record.status) == [.original, .duplicate])
        let stats = try f.store.dedupStats()
        #expect(stats.entries == 2)
        #expect(stats.copiesByMethod == ["near-duplicate": 1])
        #expect(stats.feeds == [DedupStats.FeedRate(feedID: "a", items: 2, copies: 1)])
    }
}
