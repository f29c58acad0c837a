import Config
import Foundation
import Testing

/// Parses `json` as if it were /etc/feedspool/config.json.
private func load(_ json: String) throws(ConfigError) -> Config {
    try Config.parse(Data(json.utf8), file: "config.json", directory: "/etc/feedspool")
}

private func error(_ json: String) -> String? {
    do {
        _ = try load(json)
        return nil
    } catch {
        return error.message
    }
}

@Suite struct ConfigDefaultsTests {
    @Test func emptyObjectGivesEveryDefault() throws {
        let c = try load("{}")
        #expect(c.spool == "/etc/feedspool/spool")
        #expect(c.store == .sqlite(path: "/etc/feedspool/feedspool.db"))
        #expect(c.fetch.concurrency == 64 && c.fetch.perHost == 2 && c.fetch.timeout.seconds == 30)
        #expect(c.fetch.maxBytes == 16_777_216 && !c.fetch.allowPrivateNetworks && !c.fetch.allowFileURLs)
        #expect(c.schedule.interval == .minutes(15) && c.schedule.minInterval == .minutes(5))
        #expect(c.schedule.maxBackoff == .hours(24) && c.schedule.maxAttempts == 5)
        #expect(c.dedup.duplicates == .drop && c.dedup.window == .days(14) && c.dedup.threshold == 0.8)
        #expect(c.metrics.listen == nil)
        #expect(c.feeds.isEmpty)
    }

    @Test func theSpecExampleLoads() throws {
        let c = try load("""
            {
              "spool": "spool",
              "store": { "kind": "sqlite", "path": "feedspool.db" },
              "fetch": { "concurrency": 64, "per_host": 2, "timeout": "30s", "max_bytes": 16777216,
                         "user_agent": "feedspool/1.0 (+https://example.org/feedspool)",
                         "allow_private_networks": false, "allow_file_urls": false },
              "schedule": { "interval": "15m", "min_interval": "5m", "max_backoff": "24h", "max_attempts": 5 },
              "dedup": { "duplicates": "drop", "window": "14d", "threshold": 0.8 },
              "metrics": { "listen": "127.0.0.1:9464" },
              "feeds": [
                { "id": "racurs", "url": "https://example.org/racurs.rss", "interval": "10m", "tags": ["ukraine"] },
                { "url": "https://example.org/bunatimes.rss" }
              ]
            }
            """)
        #expect(c.feeds.map(\.id) == ["racurs", "example-org-bunatimes-rss"])
        #expect(c.feeds[0].interval == .minutes(10) && c.feeds[0].tags == ["ukraine"])
        #expect(c.metrics.listen == "127.0.0.1:9464")
    }

    @Test func absolutePathsStayAndPostgresNeedsItsURL() throws {
        let c = try load(#"{"spool": "/var/spool/feedspool", "store": {"kind": "postgres", "url": "postgres://fs@db/feeds"}}"#)
        #expect(c.spool == "/var/spool/feedspool")
        #expect(c.store == .postgres(url: "postgres://fs@db/feeds"))
    }

    @Test func fileFeedsResolveAgainstTheConfigFolder() throws {
        let c = try load(#"{"fetch": {"allow_file_urls": true}, "feeds": [{"url": "feeds/a.xml"}, {"url": "file:///srv/b.xml"}]}"#)
        #expect(c.feeds[0].url == "file:///etc/feedspool/feeds/a.xml")
        #expect(c.feeds[0].id == "feeds-a-xml")
        #expect(c.feeds[1].url == "file:///srv/b.xml")
    }

    @Test func theBundledDemoConfigIsValid() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../config.json").standardizedFileURL.path
        let c = try Config.load(from: path)
        #expect(c.feeds.count >= 3)
        for f in c.feeds {
            let file = try #require(URL(string: f.url)?.path)
            #expect(FileManager.default.fileExists(atPath: file), "demo feed \(f.id) points at a missing file")
        }
    }
}

@Suite struct ConfigErrorTests {
    @Test func theSpecsExampleMessage() {
        let json = #"{"feeds": [{"url": "https://a.example/1"}, {"url": "https://a.example/2"}, {"url": "https://a.example/3"}, {"url": "https://a.example/4", "interval": "5"}], "schedule": {"min_interval": "1m", "interval": "1m"}}"#
        #expect(error(json) == #"config.json: feeds[3].interval: must be a duration >= 1m and <= 30d, got "5""#)
    }

    @Test(arguments: [
        (#"{"fetch": {"concurency": 3}}"#, #"config.json: fetch.concurency: unknown key (did you mean "concurrency"?)"#),
        (#"{"spol": "x"}"#, #"config.json: spol: unknown key (did you mean "spool"?)"#),
        (#"{"fetch": {"concurrency": "64"}}"#, #"config.json: fetch.concurrency: must be an integer from 1 to 10000, got "64""#),
        (#"{"fetch": {"concurrency": 1.5}}"#, "config.json: fetch.concurrency: must be an integer from 1 to 10000, got 1.5"),
        (#"{"fetch": {"per_host": 9, "concurrency": 4}}"#, "config.json: fetch.per_host: must be an integer from 1 to 4, got 9"),
        (#"{"fetch": {"timeout": 30}}"#, "config.json: fetch.timeout: must be a duration >= 1s and <= 1h, got 30"),
        (#"{"fetch": {"allow_file_urls": "yes"}}"#, #"config.json: fetch.allow_file_urls: must be true or false, got "yes""#),
        (#"{"schedule": {"interval": "2m"}}"#, #"config.json: schedule.interval: must be >= schedule.min_interval (5m), got "2m""#),
        (#"{"schedule": {"max_attempts": 0}}"#, "config.json: schedule.max_attempts: must be an integer from 1 to 100, got 0"),
        (#"{"dedup": {"duplicates": "keep"}}"#, #"config.json: dedup.duplicates: must be one of "drop", "mark", got "keep""#),
        (#"{"dedup": {"threshold": 0}}"#, "config.json: dedup.threshold: must be a number above 0.0 and at most 1.0, got 0"),
        (#"{"metrics": {"listen": "9464"}}"#, #"config.json: metrics.listen: must be host:port (e.g. 127.0.0.1:9464) or null, got "9464""#),
        (#"{"store": {"kind": "mysql"}}"#, #"config.json: store.kind: must be one of "sqlite", "postgres", got "mysql""#),
        (#"{"store": {"kind": "postgres"}}"#, #"config.json: store.url: is required with "kind": "postgres" (postgres://user@host/db)"#),
        (#"{"store": {"kind": "sqlite", "url": "postgres://x"}}"#, #"config.json: store.url: is only for "kind": "postgres", got "postgres://x""#),
        (#"{"feeds": {}}"#, "config.json: feeds: must be a JSON array, got {}"),
        (#"{"feeds": [{}]}"#, "config.json: feeds[0].url: is required"),
        (#"{"feeds": ["https://a.example/"]}"#, #"config.json: feeds[0]: must be a JSON object, got "https://a.example/""#),
        (#"{"feeds": [{"url": "ftp://a.example/x"}]}"#, #"config.json: feeds[0].url: must be an http:// or https:// URL, got "ftp://a.example/x""#),
        (#"{"feeds": [{"url": "feeds/a.xml"}]}"#, #"config.json: feeds[0].url: file feeds need "fetch": {"allow_file_urls": true}, got "feeds/a.xml""#),
        (#"{"feeds": [{"url": "https://a.example/x", "id": "a b"}]}"#, #"config.json: feeds[0].id: must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, got "a b""#),
        (#"{"feeds": [{"url": "https://a.example/x", "id": "a"}, {"url": "https://b.example/x", "id": "a"}]}"#, #"config.json: feeds[1].id: duplicate of feeds[0].id, got "a""#),
        (#"{"feeds": [{"url": "https://a.example/x"}, {"url": "https://a.example/x", "id": "b"}]}"#, #"config.json: feeds[1].url: same feed as feeds[0], got "https://a.example/x""#),
        (#"{"feeds": [{"url": "https://a.example/x", "tags": ["a", 1]}]}"#, "config.json: feeds[0].tags[1]: must be a string, got 1"),
        ("[]", "config.json: must be a JSON object, got []"),
    ])
    func namesThePathAndTheValue(json: String, expected: String) {
        #expect(error(json) == expected)
    }

    @Test func invalidJSONSaysWhere() throws {
        let message = try #require(error("{\"a\": 1,\n \"b\": x}"))
        #expect(message.hasPrefix("config.json: not valid JSON: "))
        #expect(message.contains("character") || message.contains("line"))
    }

    @Test func missingFileIsNamed() {
        #expect(throws: ConfigError.self) { try Config.load(from: "/nonexistent/feedspool.json") }
        do { _ = try Config.load(from: "/nonexistent/feedspool.json") } catch {
            #expect(error.message == "/nonexistent/feedspool.json: no such file")
        }
    }

    @Test func lookupOrder() throws {
        #expect(try Config.locate(explicit: "/x.json", environment: ["FEEDSPOOL_CONFIG": "/y.json"]) == "/x.json")
        #expect(try Config.locate(explicit: nil, environment: ["FEEDSPOOL_CONFIG": "/y.json"]) == "/y.json")
    }
}

@Suite struct IntervalTests {
    @Test(arguments: [("90s", 90), ("15m", 900), ("2h", 7200), ("14d", 1_209_600), ("1w", 604_800), ("1h30m", 5400)])
    func parses(text: String, seconds: Int64) {
        #expect(Interval(parsing: text)?.seconds == seconds)
    }

    @Test(arguments: ["5", "", "m", "10x", "-5m", "1.5h", "0s", "15 m"])
    func refuses(text: String) {
        #expect(Interval(parsing: text) == nil)
    }

    @Test func printsShortest() {
        #expect(Interval(seconds: 5400).description == "1h30m")
        #expect(Interval.days(14).description == "14d")
        #expect(Interval(seconds: 90).description == "1m30s")
    }

    @Test func slugsAreStableAndValid() {
        #expect(FeedSlug.make(from: "https://www.Example.org/news/rss.xml", directory: "/") == "example-org-news-rss-xml")
        let long = "https://a.example/" + String(repeating: "segment/", count: 20)
        let slug = FeedSlug.make(from: long, directory: "/")
        #expect(slug.count <= 48 && FeedSlug.isValid(slug))
        #expect(slug == FeedSlug.make(from: long, directory: "/"))
        #expect(slug != FeedSlug.make(from: long + "x", directory: "/"))
    }
}

@Suite struct ConfigEditorTests {
    private let new = [ConfigEditor.NewFeed(id: "a", url: "https://a.example/feed", tags: ["News"]),
                       ConfigEditor.NewFeed(id: "b", url: "https://b.example/\"q\"")]

    private func feeds(_ text: String) throws -> [FeedSettings] {
        try Config.parse(Data(text.utf8), file: "config.json", directory: "/etc/feedspool").feeds
    }

    @Test func appendsToAnArrayKeepingEveryOtherLine() throws {
        let text = """
            {
              "spool": "spool",
              "feeds": [
                { "id": "x", "url": "https://x.example/" }
              ],
              "dedup": { "duplicates": "mark" }
            }
            """
        let edited = try #require(ConfigEditor.appending(new, to: text))
        #expect(try feeds(edited).map(\.id) == ["x", "a", "b"])
        #expect(try feeds(edited)[2].url == "https://b.example/\"q\"")
        for line in text.split(separator: "\n") where !line.contains("https://x.example") {
            #expect(edited.contains(line), "lost: \(line)")
        }
        #expect(edited.contains("    { \"id\": \"a\", \"url\": \"https://a.example/feed\", \"tags\": [\"News\"] }"))
    }

    @Test(arguments: ["{}", "{ \"spool\": \"s\" }", "{\"feeds\": []}", "{\"feeds\":[],\"spool\":\"s\"}", "  {\n  \"feeds\": [\n  ]\n}\n"])
    func worksOnAnyShape(text: String) throws {
        let edited = try #require(ConfigEditor.appending(new, to: text))
        #expect(try feeds(edited).map(\.id) == ["a", "b"])
    }

    @Test func refusesWhatIsNotAnObject() {
        #expect(ConfigEditor.appending(new, to: "[1, 2]") == nil)
    }
}
