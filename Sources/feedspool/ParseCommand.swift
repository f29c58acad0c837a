import ArgumentParser
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

    @Argument(help: "Files to parse, or - for standard input.")
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
        let started = Date()
        var documents = 0, items = 0, bytes = 0
        var worst: Failure?
        for input in inputs {
            do {
                let (parsed, size) = try parse(input)
                documents += 1
                items += parsed.items.count
                bytes += size
                if !stats { Console.out(Self.json(parsed)) }
            } catch {
                let failure = Failure(error)
                Console.error("\(input): \(failure.message)")
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

    private func parse(_ input: String) throws -> (ParsedFeed, Int) {
        if let scheme = URL(string: input)?.scheme?.lowercased(), scheme == "http" || scheme == "https" {
            throw Failure(.usage, "URL inputs need the fetcher, which this build does not have yet; save the document and pass its path")
        }
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

    static func json(_ parsed: ParsedFeed) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("feed"); w.write(parsed.feed)
        w.key("items")
        w.beginArray()
        for item in parsed.items {
            w.beginObject()
            w.writeFields(of: item)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        var out = w.bytes
        out.append(0x0A)
        return out
    }
}
