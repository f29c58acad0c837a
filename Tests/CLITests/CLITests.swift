import Foundation
import TestSupport
import Testing

private let fixtures = Binary.repository.appendingPathComponent("Tests/ParseTests/Fixtures")

@Suite struct ParseCommandTests {
    @Test func printsOneJSONLinePerDocument() throws {
        let r = try Binary.run(["parse", fixtures.appendingPathComponent("rss10.rdf").path,
                                fixtures.appendingPathComponent("jsonfeed.json").path])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        let feed = try #require(first["feed"] as? [String: Any])
        #expect(feed["format"] as? String == "rss1.0")
        #expect(Set(feed.keys) == ["format", "title", "link", "feed_url", "description", "language", "updated", "authors", "image", "generator"])
        let item = try #require((first["items"] as? [[String: Any]])?.first)
        #expect(item["feed"] == nil && item["dedup"] == nil && item["fetched"] == nil)
        #expect((item["id"] as? String)?.count == 32)
    }

    @Test func readsStandardInputAndUsesTheBaseURL() throws {
        let doc = #"<rss version="2.0"><channel><title>s</title><item><title>t</title><link>p/1</link></item></channel></rss>"#
        let r = try Binary.run(["parse", "--base-url", "https://b.example/feed/", "-"], stdin: Data(doc.utf8))
        #expect(r.status == 0)
        #expect(r.stdout.contains(#""url":"https://b.example/feed/p/1""#))
    }

    @Test func saysWhenItemsWereDropped() throws {
        let items = (0..<10_002).map { "<item><guid>g\($0)</guid></item>" }.joined()
        let doc = #"<rss version="2.0"><channel><title>s</title>"# + items + "</channel></rss>"
        let r = try Binary.run(["parse", "--stats", "-"], stdin: Data(doc.utf8))
        #expect(r.status == 0)
        #expect(r.stdout.contains(#""items":10000"#))
        #expect(r.stderr == "feedspool: -: only the first 10000 items were read; 2 more dropped\n")
    }

    @Test func notAFeedExits65WithOneLine() throws {
        let r = try Binary.run(["parse", fixtures.appendingPathComponent("not-a-feed.html").path])
        #expect(r.status == 65)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains("not-a-feed.html: not a feed: the document element is <html>"))
    }

    @Test func otherInputsStillParseWhenOneIsNotAFeed() throws {
        let r = try Binary.run(["parse", fixtures.appendingPathComponent("not-a-feed.html").path,
                                fixtures.appendingPathComponent("rss10.rdf").path])
        #expect(r.status == 65)
        #expect(r.stdout.split(separator: "\n").count == 1)
    }

    @Test func aMissingFileIsAnIOError() throws {
        let r = try Binary.run(["parse", "/nonexistent/feed.xml"])
        #expect(r.status == 74)
        #expect(r.stderr.contains("cannot read /nonexistent/feed.xml"))
    }

    @Test func statsCountDocumentsItemsAndBytes() throws {
        let files = ["rss10.rdf", "rss-repeated-guid.xml"].map { fixtures.appendingPathComponent($0).path }
        let r = try Binary.run(["parse", "--stats"] + files)
        #expect(r.status == 0)
        let stats = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(Set(stats.keys) == ["documents", "items", "bytes", "seconds"])
        #expect(stats["documents"] as? Int == 2)
        #expect(stats["items"] as? Int == 5)
        let size = try files.reduce(0) { $0 + (try FileManager.default.attributesOfItem(atPath: $1)[.size] as! Int) }
        #expect(stats["bytes"] as? Int == size)
    }

    @Test func usageErrorsExit64() throws {
        #expect(try Binary.run(["parse"]).status == 64)
        #expect(try Binary.run(["no-such-command"]).status == 64)
        #expect(try Binary.run(["parse", "--base-url", "relative/", "x.xml"]).status == 64)
    }
}

@Suite struct ConfigCommandTests {
    @Test func aBadConfigExits78NamingPathAndValue() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("feedspool-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("config.json")
        try Data(#"{"feeds": [{"url": "https://a.example/", "interval": "5"}]}"#.utf8).write(to: file)
        let r = try Binary.run(["config", "check"], cwd: dir, environment: ["PATH": "/usr/bin:/bin"])
        #expect(r.status == 78)
        #expect(r.stderr == "feedspool: config.json: feeds[0].interval: must be a duration >= 5m and <= 30d, got \"5\"\n")
    }

    @Test func theDemoConfigChecksAndPrintsTheEffectiveConfig() throws {
        let r = try Binary.run(["config", "check", "--json", "--config", Binary.repository.appendingPathComponent("config.json").path])
        #expect(r.status == 0)
        let c = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect((c["feeds"] as? [[String: Any]])?.map { $0["id"] as? String } == ["racurs", "bunatimes", "northwind"])
        #expect((c["schedule"] as? [String: Any])?["max_attempts"] as? Int == 5)
        #expect((c["spool"] as? String)?.hasPrefix("/") == true)
    }

    @Test func theEnvironmentVariableIsUsedWhenNoFlagIsGiven() throws {
        let r = try Binary.run(["config", "check"], cwd: URL(fileURLWithPath: "/"),
                               environment: ["FEEDSPOOL_CONFIG": Binary.repository.appendingPathComponent("config.json").path])
        #expect(r.status == 0)
        #expect(r.stdout.contains("config.json: OK"))
    }
}

/// feedparser's own conformance corpus (../shared/corpus/feedparser), scored by
/// its `tools/conformance.py` against the answers feedparser 6.0.14 gives.
@Suite struct ConformanceTests {
    @Test(.enabled(if: Binary.shared != nil, "../shared/corpus is not beside this checkout; conformance not measured"),
          .timeLimit(.minutes(10)))
    func feedparserCorpus() throws {
        let corpus = Binary.shared!.appendingPathComponent("corpus/feedparser")
        let summary = FileManager.default.temporaryDirectory.appendingPathComponent("conformance-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: summary) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", corpus.appendingPathComponent("tools/conformance.py").path,
                       "--corpus", corpus.path, "--expected", corpus.appendingPathComponent("expected.jsonl").path,
                       "--content-from", "html", "--json-out", summary.path,
                       "--report", FileManager.default.temporaryDirectory.appendingPathComponent("feedspool-conformance.txt").path,
                       "--cmd", "\(Binary.url.path) parse --json"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        print(text)
        #expect(p.terminationStatus == 0)
        let s = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: summary)) as? [String: Any])
        let fields = try #require(s["fields_pct"] as? Double)
        let items = try #require(s["items_pct"] as? Double)
        // Floors set from what this parser reaches (99.4% of fields, 93.1% of items on 2026-11-29).
        #expect(fields >= 99.2, "fields agree \(fields)%")
        #expect(items >= 92.5, "items agree \(items)%")
        #expect(s["crashes"] as? Int == 0)
        #expect(s["timeouts"] as? Int == 0)
        #expect(s["docs"] as? Int == 2106)
    }
}

@Suite struct ParseURLTests {
    @Test func fetchesWithTheConfigsSettingsAndParses() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("feedspool-url-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("config.json")
        try Data(#"{"fetch": {"allow_private_networks": true}}"#.utf8).write(to: config)
        let server = TestServer.shared
        let r = try Binary.run(["parse", "--config", config.path, server.url("/charset"), server.url("/perm/1")])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.contains(#""title":"Новости""#) == true)  // windows-1251 named by HTTP only
    }

    @Test func theDefaultPolicyRefusesLoopbackWithOneClearLine() throws {
        let r = try Binary.run(["parse", TestServer.shared.url("/feed")], cwd: URL(fileURLWithPath: "/"))
        #expect(r.status == 1)
        #expect(r.stderr.contains("refused to connect to 127.0.0.1"))
        #expect(r.stderr.split(separator: "\n").count == 1)
    }
}

@Suite struct OPMLCommandTests {
    @Test func importKeepsTheConfigReadableAndExportRoundTrips() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("feedspool-opml-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("config.json")
        let original = """
            {
              "spool": "spool",
              "feeds": [
                { "id": "racurs", "url": "https://racurs.example/feed.rss", "tags": ["ukraine"] }
              ]
            }
            """
        try Data(original.utf8).write(to: config)
        let opml = dir.appendingPathComponent("subs.opml")
        try Data("""
            <?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>
            <outline text="News"><outline type="rss" text="Buna &amp; Times" xmlUrl="https://bunatimes.example/feed.xml"/></outline>
            <outline type="rss" text="Racurs again" xmlUrl="https://racurs.example/feed.rss"/>
            </body></opml>
            """.utf8).write(to: opml)
        let r = try Binary.run(["opml", "import", opml.path, "--config", config.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("1 added, 1 skipped"))
        let edited = try String(contentsOf: config, encoding: .utf8)
        #expect(edited.hasPrefix("{\n  \"spool\": \"spool\",\n  \"feeds\": [\n    { \"id\": \"racurs\""))
        #expect(edited.contains("{ \"id\": \"bunatimes-example-feed-xml\", \"url\": \"https://bunatimes.example/feed.xml\", \"tags\": [\"News\"] }"))
        #expect(try Binary.run(["config", "check", "--config", config.path]).status == 0)
        #expect(try Binary.run(["opml", "import", opml.path, "--config", config.path]).stdout.contains("0 added, 2 skipped"))

        let exported = try Binary.run(["opml", "export", "--config", config.path])
        #expect(exported.status == 0)
        #expect(exported.stdout.contains("<opml version=\"2.0\">"))
        #expect(exported.stdout.contains("xmlUrl=\"https://bunatimes.example/feed.xml\""))
        // The export imports into an empty config as the same feeds.
        let other = dir.appendingPathComponent("other.json")
        try Data("{}".utf8).write(to: other)
        let out = dir.appendingPathComponent("export.opml")
        try Data(exported.stdout.utf8).write(to: out)
        #expect(try Binary.run(["opml", "import", out.path, "--config", other.path]).stdout.contains("2 added"))
        let roundTrip = try Binary.run(["config", "check", "--json", "--config", other.path]).stdout
        #expect(roundTrip.contains("https://racurs.example/feed.rss") && roundTrip.contains("https://bunatimes.example/feed.xml"))
        #expect(try Binary.run(["opml", "import", config.path, "--config", other.path]).status == 65)  // JSON is not OPML
    }

    @Test func repeatsInTheFileAreSkippedAndSameSlugsNumbered() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("feedspool-opml-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("config.json")
        try Data(#"{ "spool": "spool", "feeds": [] }"#.utf8).write(to: config)
        let opml = dir.appendingPathComponent("subs.opml")
        let outlines = ["https://dup.example/feed", "http://dup.example/feed", "https://dup.example/feed", "https://DUP.example/feed"]
            .map { #"<outline type="rss" text="d" xmlUrl="\#($0)"/>"# }.joined()
        try Data(#"<opml version="2.0"><body>\#(outlines)</body></opml>"#.utf8).write(to: opml)
        let r = try Binary.run(["opml", "import", opml.path, "--config", config.path, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: [String]])
        #expect(out["skipped"] == ["https://dup.example/feed"])
        #expect(out["added"] == ["dup-example-feed", "dup-example-feed-2", "dup-example-feed-3"])
    }
}
