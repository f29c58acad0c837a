import ArgumentParser
import Config
import Fetch
import FeedspoolModel
import Foundation
import Parse

struct ParseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parse feed documents without touching store or spool.",
        discussion: """
            Prints one JSON object per document, one per line: {"feed":{...},"items":[...]}.
            Exit 65 when an input is not a feed at all (the other inputs are still parsed).
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Files or http(s) URLs to parse, or - for standard input. URLs are fetched with the config's fetch settings (defaults when there is no config).")
    var inputs: [String]

    @Option(name: .customLong("base-url"), help: "Base URL for relative links.")
    var baseURL: String?

    @Option(help: "The charset an HTTP server would have named (used when the document does not say).")
    var charset: String?

    @Flag(help: "Print only {\"documents\":n,\"items\":n,\"bytes\":n,\"seconds\":x}.")
    var stats = false

    func validate() throws {
        if let baseURL, URL(string: baseURL)?.scheme == nil {
            throw ValidationError("--base-url must be an absolute URL, got \"\(baseURL)\".")
        }
    }

    func run() throws {
        let fetcher = try inputs.contains(where: Self.isURL) ? Fetcher(settings: fetchSettings()) : nil
        defer { fetcher?.shutdown() }
        let started = Date()
        var documents = 0, items = 0, bytes = 0
        var worst: Failure?
        for input in inputs {
            do {
                let (parsed, size) = try Self.isURL(input) ? parse(url: input, with: fetcher!) : parse(input)
                documents += 1
                items += parsed.items.count
                bytes += size
                if let dropped = parsed.droppedItemsSummary { Console.error("\(input): \(dropped)") }
                if !stats { Self.writeJSON(parsed, to: Console.out) }
            } catch {
                let failure = Failure(error)
                Console.error(failure.message.hasPrefix(input) ? failure.message : "\(input): \(failure.message)")
                if worst == nil || failure.status != .notAFeed { worst = failure }
            }
        }
        if stats {
            var w = JSONWriter()
            w.beginObject()
            w.key("documents"); w.value(documents)
            w.key("items"); w.value(items)
            w.key("bytes"); w.value(bytes)
            w.key("seconds"); w.value((Date().timeIntervalSince(started) * 1000).rounded() / 1000)
            w.endObject()
            Console.out(w.string)
        }
        if let worst { throw ExitCode(worst.status.rawValue) }
    }

    static func isURL(_ input: String) -> Bool {
        guard let scheme = URL(string: input)?.scheme?.lowercased() else { return false }
        return scheme == "http" || scheme == "https"
    }

    /// The config's fetch settings when a config is named or found; the defaults otherwise.
    private func fetchSettings() throws -> Fetch.FetchSettings {
        let explicit = global.config ?? ProcessInfo.processInfo.environment["FEEDSPOOL_CONFIG"]
        if explicit != nil || FileManager.default.fileExists(atPath: "config.json") {
            return Fetch.FetchSettings(try global.loadConfig().fetch)
        }
        return Fetch.FetchSettings()
    }

    /// Fetches a URL, then parses the body with the HTTP charset and the final URL as base.
    private func parse(url: String, with fetcher: Fetcher) throws -> (ParsedFeed, Int) {
        let response = try fetcher.fetchAll([FetchRequest(url: url)])[0].get()
        let base = baseURL.flatMap(URL.init(string:)) ?? URL(string: response.url)
        let options = ParseOptions(baseURL: base, charset: response.charset, feedID: Self.feedID(for: url))
        return (try FeedParser.parse(response.body, options: options), response.body.count)
    }

    private func parse(_ input: String) throws -> (ParsedFeed, Int) {
        // A local file gives no base: file:// links would point into this machine, not the site.
        let base = baseURL.flatMap(URL.init(string:))
        let parser = FeedParser(options: ParseOptions(baseURL: base, charset: charset, feedID: Self.feedID(for: input)))
        let handle: FileHandle
        if input == "-" {
            handle = .standardInput
        } else {
            guard let h = FileHandle(forReadingAtPath: input) else {
                throw Failure(.ioError, "cannot read \(input): no such file or not readable")
            }
            handle = h
        }
        defer { if input != "-" { try? handle.close() } }
        var size = 0
        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            size += chunk.count
            try chunk.withUnsafeBytes { (b: UnsafeRawBufferPointer) in try parser.push(b) }
        }
        return (try parser.finish(), size)
    }

    /// The feed id item ids are derived from: the input as written.
    static func feedID(for input: String) -> String { input }

    /// The document's JSON line, handed to `write` a megabyte or so at a time as it
    /// is made (made whole first, a 10,000-item document held 14 MB of it at once).
    static func writeJSON(_ parsed: ParsedFeed, to write: ([UInt8]) -> Void) {
        var w = JSONWriter()
        w.beginObject()
        w.key("feed"); w.write(parsed.feed)
        w.key("items")
        w.beginArray()
        for item in parsed.items {
            w.beginObject()
            w.writeFields(of: item)
            w.endObject()
            if w.bytes.count >= 1 << 20 { write(w.takeBytes()) }
        }
        w.endArray()
        w.endObject()
        var out = w.takeBytes()
        out.append(0x0A)
        write(out)
    }
}
