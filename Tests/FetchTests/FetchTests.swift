import Synchronization
@testable import Fetch
import TestSupport
import Foundation
import Testing

/// Settings for the loopback server: private addresses allowed, short limits.
private func settings(_ change: (inout FetchSettings) -> Void = { _ in }) -> FetchSettings {
    var s = FetchSettings()
    s.addresses = AddressPolicy(allowPrivateNetworks: true)
    s.timeout = 10
    s.perHostSpacing = 0
    s.perHost = 8
    change(&s)
    return s
}

private func fetch(_ path: String, _ s: FetchSettings = settings(), etag: String? = nil, lastModified: String? = nil) -> Result<FetchResponse, FetchError> {
    let f = Fetcher(settings: s)
    defer { f.shutdown() }
    return f.fetchAll([FetchRequest(url: TestServer.shared.url(path), etag: etag, lastModified: lastModified)])[0]
}

private let server = TestServer.shared

@Suite(.serialized) struct FetchTests {
    @Test func okWithValidatorsAndCacheControl() throws {
        let r = try fetch("/feed").get()
        #expect(r.status == 200)
        #expect(String(decoding: r.body, as: UTF8.self).contains("<title>One</title>"))
        #expect(r.etag == "\"v1\"")
        #expect(r.lastModified == "Wed, 09 Aug 2023 10:00:00 GMT")
        #expect(r.charset == "utf-8")
        #expect(r.maxAge == 1800)
        #expect(r.permanentRedirect == nil && r.redirects == 0)
    }

    @Test func conditionalGetRoundTrip() throws {
        let first = try fetch("/feed").get()
        let byETag = try fetch("/feed", etag: first.etag).get()
        #expect(byETag.status == 304 && byETag.isNotModified && byETag.body.isEmpty)
        let byDate = try fetch("/feed", lastModified: first.lastModified).get()
        #expect(byDate.status == 304)
        let stale = try fetch("/feed", etag: "\"old\"").get()
        #expect(stale.status == 200)
    }

    @Test func sendsUserAgentAcceptAndValidators() throws {
        _ = try fetch("/feed", settings { $0.userAgent = "feedspool-test/9" }, etag: "\"x\"", lastModified: "Mon, 01 Jan 2024 00:00:00 GMT").get()
        let seen = try server.json("/last-request")
        let headers = try #require(seen["headers"] as? [String: String])
        #expect(headers["User-Agent"] == "feedspool-test/9")
        #expect(headers["If-None-Match"] == "\"x\"")
        #expect(headers["If-Modified-Since"] == "Mon, 01 Jan 2024 00:00:00 GMT")
        #expect(headers["Accept"]?.contains("application/rss+xml") == true)
        #expect(headers["Accept-Encoding"]?.contains("gzip") == true)
    }

    @Test(arguments: ["/gzip", "/deflate", "/br"])
    func decodesCompressedBodies(path: String) throws {
        let r = try fetch(path).get()
        #expect(String(decoding: r.body, as: UTF8.self).contains("<title>One</title>"), "\(path)")
    }

    @Test func followsRedirectChainsAndReportsPermanentOnes() throws {
        let temporary = try fetch("/redirect/3").get()
        #expect(temporary.redirects == 4 && temporary.url.hasSuffix("/feed") && temporary.permanentRedirect == nil)
        let permanent = try fetch("/perm/2").get()
        #expect(permanent.redirects == 3 && permanent.permanentRedirect == server.url("/feed"))
        #expect(try fetch("/perm308").get().permanentRedirect == server.url("/feed"))
        #expect(try fetch("/mixed").get().permanentRedirect == nil)  // 301 then 302: not for good
    }

    @Test func redirectLoopsAndLongChainsStop() {
        guard case .failure(.tooManyRedirects(_, 10)) = fetch("/loop") else { Issue.record("loop not stopped"); return }
        guard case .failure(.tooManyRedirects) = fetch("/redirect/12") else { Issue.record("12 redirects followed"); return }
    }

    @Test func redirectToFileIsRefused() {
        guard case .failure(.refusedScheme) = fetch("/to-file", settings { $0.allowFileURLs = true }) else {
            Issue.record("a redirect to file:// was followed")
            return
        }
    }

    @Test func privateAddressesAreRefusedAtConnectTime() {
        var s = settings()
        s.addresses = AddressPolicy(allowPrivateNetworks: false)
        guard case .failure(.refusedPrivateAddress(_, "127.0.0.1")) = fetch("/feed", s) else {
            Issue.record("loopback was not refused")
            return
        }
        // The first hop is allowed by an exception, the redirect to 127.0.0.2 is not.
        s.addresses = AddressPolicy(allowPrivateNetworks: false, exceptions: ["127.0.0.1"])
        #expect((try? fetch("/feed", s).get())?.status == 200)
        guard case .failure(.refusedPrivateAddress(_, "127.0.0.2")) = fetch("/to-private", s) else {
            Issue.record("a redirect to a private address was followed")
            return
        }
    }

    @Test func statusesBecomeTypedErrors() {
        guard case .failure(.gone) = fetch("/gone") else { Issue.record("410"); return }
        guard case .failure(.http(_, 404, nil)) = fetch("/status/404") else { Issue.record("404"); return }
        guard case .failure(.http(_, 500, nil)) = fetch("/status/500") else { Issue.record("500"); return }
        guard case .failure(.http(_, 429, 120)) = fetch("/429") else { Issue.record("429 Retry-After seconds"); return }
        guard case .failure(.http(_, 503, let wait?)) = fetch("/503") else { Issue.record("503 Retry-After date"); return }
        #expect((85...91).contains(wait))
    }

    @Test func slowServersAreCutOff() {
        let started = Date()
        let r = fetch("/slow", settings { $0.lowSpeedBytes = 10; $0.lowSpeedSeconds = 2 })
        guard case .failure(.tooSlow) = r else { Issue.record("trickle not cut: \(r)"); return }
        #expect(Date().timeIntervalSince(started) < 8)
        guard case .failure(.timedOut) = fetch("/slow", settings { $0.timeout = 2; $0.lowSpeedBytes = 0 }) else {
            Issue.record("timeout not enforced")
            return
        }
    }

    @Test func bodiesOverTheLimitAreRefused() {
        let small = settings { $0.maxBytes = 1 << 20 }
        guard case .failure(.tooLarge(_, 1_048_576)) = fetch("/big", small) else { Issue.record("Content-Length over limit"); return }
        guard case .failure(.tooLarge) = fetch("/big-unknown-length", small) else { Issue.record("unknown length over limit"); return }
    }

    @Test func aGzipBombStopsAtTheLimit() {
        let started = Date()
        guard case .failure(.tooLarge(_, 1_048_576)) = fetch("/bomb", settings { $0.maxBytes = 1 << 20 }) else {
            Issue.record("bomb not stopped")
            return
        }
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func passesTheHTTPCharset() throws {
        #expect(try fetch("/charset").get().charset == "windows-1251")
    }

    @Test func badURLsAndSchemes() {
        let f = Fetcher(settings: settings())
        defer { f.shutdown() }
        let r = f.fetchAll([FetchRequest(url: "not a url"), FetchRequest(url: "ftp://example.org/x"), FetchRequest(url: "file:///etc/hostname")])
        guard case .failure(.invalidURL) = r[0] else { Issue.record("bad URL: \(r[0])"); return }
        guard case .failure(.refusedScheme) = r[1] else { Issue.record("ftp: \(r[1])"); return }
        guard case .failure(.refusedScheme) = r[2] else { Issue.record("file without permission: \(r[2])"); return }
    }

    @Test func fileURLsWhenAllowed() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("feedspool-fetch-\(UUID().uuidString).xml")
        try Data("<rss/>".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let f = Fetcher(settings: settings { $0.allowFileURLs = true })
        defer { f.shutdown() }
        let r = try f.fetchAll([FetchRequest(url: file.absoluteString)])[0].get()
        #expect(r.status == 200 && r.body == Array("<rss/>".utf8))
    }

    @Test func perHostConcurrencyIsBounded() throws {
        _ = try server.json("/reset")
        let s = settings { $0.perHost = 2; $0.concurrency = 16; $0.resolve = server.resolve(["a.test", "b.test"]) }
        let f = Fetcher(settings: s)
        defer { f.shutdown() }
        let requests = (0..<6).flatMap { _ in ["a.test", "b.test"].map { FetchRequest(url: server.url("/hold?ms=300", host: $0)) } }
        let started = Date()
        let results = f.fetchAll(requests)
        #expect(results.allSatisfy { (try? $0.get())?.status == 200 })
        let stats = try server.json("/stats")
        let peaks = try #require(stats["max_in_flight"] as? [String: Int])
        #expect(peaks["a.test"] == 2 && peaks["b.test"] == 2, "\(peaks)")
        // 6 per host, 2 at a time, 300 ms each: about 0.9 s; the two hosts in parallel.
        #expect(Date().timeIntervalSince(started) < 2.5)
    }

    @Test func perHostSpacingIsKept() throws {
        let f = Fetcher(settings: settings { $0.perHost = 4; $0.perHostSpacing = 0.25 })
        defer { f.shutdown() }
        let started = Date()
        let results = f.fetchAll((0..<5).map { _ in FetchRequest(url: server.url("/hold?ms=0")) })
        #expect(results.allSatisfy { (try? $0.get()) != nil })
        #expect(Date().timeIntervalSince(started) >= 0.95)  // four gaps of 0.25 s
    }

    @Test(.timeLimit(.minutes(2)))
    func aThousandFetchesComplete() throws {
        let hosts = (0..<8).map { "h\($0).test" }
        let s = settings { $0.concurrency = 64; $0.perHost = 8; $0.resolve = server.resolve(hosts) }
        let f = Fetcher(settings: s)
        defer { f.shutdown() }
        let requests = (0..<1000).map { FetchRequest(url: server.url("/hold?ms=5", host: hosts[$0 % hosts.count])) }
        let results = f.fetchAll(requests)
        let failures = results.compactMap { if case .failure(let e) = $0 { return e.message } else { return nil } }
        #expect(failures.isEmpty, "\(failures.prefix(3))")
    }

    @Test func keepAliveConnectionsAreReused() throws {
        let f = Fetcher(settings: settings())
        defer { f.shutdown() }
        let name = "reuse-\(UUID().uuidString)"
        for _ in 0..<3 {
            #expect(try f.fetchAll([FetchRequest(url: server.url("/ka/\(name)"))])[0].get().status == 200)
        }
        #expect(try server.json("/ka-stats/\(name)")["connections"] as? Int == 1)
    }

    /// A kept connection the server closes while idle makes its socket readable
    /// (end of file) while curl is not watching it: it must leave the epoll set,
    /// or the set's level-triggered source fires without end (a core at 100%).
    @Test func anIdleConnectionTheServerClosesIsDropped() throws {
        let f = Fetcher(settings: settings())
        defer { f.shutdown() }
        let url = server.url("/ka/idle-\(UUID().uuidString)?idle_ms=200")
        #expect(try f.fetchAll([FetchRequest(url: url)])[0].get().status == 200)
        let before = f.socketTurns
        Thread.sleep(forTimeInterval: 1)  // the server closes the connection after 200 ms
        let turns = f.socketTurns - before
        #expect(turns <= 2, "the sockets' source fired \(turns) times in 1 s with nothing in flight")
        // The next transfer finds the connection dead and opens another.
        #expect(try f.fetchAll([FetchRequest(url: url)])[0].get().status == 200)
        let name = url.split(separator: "/").last!.split(separator: "?").first!
        #expect(try server.json("/ka-stats/\(name)")["connections"] as? Int == 2)
    }

    @Test func shutdownCancelsWhatIsWaiting() {
        let f = Fetcher(settings: settings { $0.perHost = 1 })
        let group = DispatchGroup()
        let cancelled = Counter()
        for _ in 0..<5 {
            group.enter()
            f.fetch(FetchRequest(url: server.url("/hold?ms=2000"))) { r in
                if case .failure(.cancelled) = r { cancelled.add() }
                group.leave()
            }
        }
        Thread.sleep(forTimeInterval: 0.2)
        f.shutdown()
        #expect(group.wait(timeout: .now() + 5) == .success)
        #expect(cancelled.value == 5)
    }
}

@Suite struct AddressPolicyTests {
    @Test(arguments: [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "255.255.255.255", "198.18.0.1", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1",
        "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2001:db8::1",
    ])
    func refuses(address: String) throws {
        let ip = try #require(IPAddress(address))
        #expect(!ip.isPublic)
        #expect(!AddressPolicy().allows(ip))
        #expect(AddressPolicy(allowPrivateNetworks: true).allows(ip))
    }

    @Test(arguments: ["93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"])
    func allows(address: String) throws {
        #expect(try #require(IPAddress(address)).isPublic)
    }

    @Test func httpDates() {
        let now = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(HTTPDate.secondsToWait("120", now: now) == 120)
        #expect(HTTPDate.secondsToWait("Sun, 06 Nov 1994 08:50:37 GMT", now: now) == 60)
        #expect(HTTPDate.secondsToWait("Sunday, 06-Nov-94 08:51:37 GMT", now: now) == 120)
        #expect(HTTPDate.secondsToWait("Sun Nov  6 08:49:47 1994", now: now) == 10)
        #expect(HTTPDate.secondsToWait("Sun, 06 Nov 1994 08:00:00 GMT", now: now) == 0)
        #expect(HTTPDate.secondsToWait("soon", now: now) == nil)
    }
}

/// A counter for completions arriving on many threads.
final class Counter: Sendable {
    private let n = Mutex(0)
    func add() { n.withLock { $0 += 1 } }
    var value: Int { n.withLock { $0 } }
}
