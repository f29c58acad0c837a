import ArgumentParser
import Config
import Daemon
import Dedup
import FeedspoolModel
import Foundation
import Store

struct DedupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dedup", abstract: "Syndicated-copy detection: why two items are (not) copies, and what it caught.",
        subcommands: [Explain.self, Stats.self])

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare two items as copy detection does: sizes, estimated and exact containment/resemblance, exact keys, decision.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "A spool file, or an item id (32 hex digits) whose file is in the spool.") var first: String
        @Argument(help: "The other spool file or item id.") var second: String

        func run() throws {
            try reportingFailures {
                let config = try global.loadConfig()
                let a = try ItemFile.load(first, config: config)
                let b = try ItemFile.load(second, config: config)
                let policy = DedupPolicy(config.dedup)
                let cmp = PairComparison(
                    a.candidate, text: a.text, guid: a.guid, url: a.url, b.candidate, text: b.text, guid: b.guid, url: b.url, policy: policy)
                if global.json {
                    Console.out(json(a, b, cmp, threshold: policy.threshold))
                    return
                }
                var lines: [String] = []
                for (label, f, s) in [("A", a, cmp.a), ("B", b, cmp.b)] {
                    lines.append("\(label): \(f.path)")
                    lines.append("   feed \(f.feedID), item \(f.itemID), title \(f.title.map { "\"\($0)\"" } ?? "-")")
                    lines.append("   cleaned text: \(f.text.count) characters, \(s.words) words, \(s.shingles) shingles")
                    lines.append("   guid: \(f.guid ?? "-")\(s.guidIsGlobal.map { $0 ? " (global)" : " (local to its feed)" } ?? "")")
                    lines.append("   canonical url: \(s.canonicalURL ?? "-")")
                    if let d = f.recorded {
                        lines.append("   recorded: \(d.status.rawValue), cluster \(d.cluster)"
                            + (d.duplicateOf.map { ", duplicate of \($0) by \(d.method?.rawValue ?? "?") (\(d.similarity ?? 0))" } ?? ""))
                    }
                }
                lines.append("exact keys shared: \(cmp.sharedKeys.isEmpty ? "none" : cmp.sharedKeys.map(\.rawValue).joined(separator: ", "))")
                func pair(_ p: (containment: Double, resemblance: Double)?) -> String {
                    p.map { String(format: "containment %.3f, resemblance %.3f", $0.containment, $0.resemblance) } ?? "no text to compare"
                }
                lines.append("estimated (index samples): \(pair(cmp.estimated))")
                lines.append("exact (all shingles):      \(pair(cmp.exact))")
                lines.append("index candidates: \(cmp.candidates ? "yes" : "no")")
                lines.append("decision: \(cmp.isCopy ? "copies (\(cmp.method!.rawValue))" : "not copies"): \(cmp.reason)")
                Console.out(lines.joined(separator: "\n"))
            }
        }

        private func json(_ a: ItemFile, _ b: ItemFile, _ c: PairComparison, threshold: Double) -> String {
            var w = JSONWriter()
            w.beginObject()
            for (label, f, s) in [("a", a, c.a), ("b", b, c.b)] {
                w.key(label)
                w.beginObject()
                w.key("path"); w.value(f.path)
                w.key("feed"); w.value(f.feedID)
                w.key("id"); w.value(f.itemID)
                w.key("characters"); w.value(f.text.count)
                w.key("words"); w.value(s.words)
                w.key("shingles"); w.value(s.shingles)
                w.key("guid"); w.value(f.guid)
                w.key("guid_global")
                if let g = s.guidIsGlobal { w.value(g) } else { w.value(nil as String?) }
                w.key("canonical_url"); w.value(s.canonicalURL)
                w.endObject()
            }
            w.key("shared_keys")
            w.beginArray()
            for k in c.sharedKeys { w.value(k.rawValue) }
            w.endArray()
            for (name, p) in [("estimated", c.estimated), ("exact", c.exact)] {
                w.key(name)
                if let p {
                    w.beginObject()
                    w.key("containment"); w.value(p.containment)
                    w.key("resemblance"); w.value(p.resemblance)
                    w.endObject()
                } else {
                    w.value(nil as String?)
                }
            }
            w.key("candidates"); w.value(c.candidates)
            w.key("threshold"); w.value(threshold)
            w.key("copies"); w.value(c.isCopy)
            w.key("method"); w.value(c.method?.rawValue)
            w.key("reason"); w.value(c.reason)
            w.endObject()
            return w.string
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Index size, copies caught by method, per-feed copy rates.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try reportingFailures {
                let config = try global.loadConfig()
                let store = try Pipeline.openStore(config)
                let s = try store.dedupStats()
                if global.json {
                    var w = JSONWriter()
                    w.beginObject()
                    w.key("entries"); w.value(s.entries)
                    w.key("oldest"); w.value(s.oldest)
                    w.key("index_bytes"); w.value(s.indexBytes)
                    w.key("window"); w.value(config.dedup.window.description)
                    w.key("copies_by_method")
                    w.beginObject()
                    for (k, v) in s.copiesByMethod.sorted(by: { $0.key < $1.key }) { w.key(k); w.value(v) }
                    w.endObject()
                    w.key("sources")
                    w.beginObject()
                    for (k, v) in s.sources.sorted(by: { $0.key < $1.key }) { w.key(k); w.value(v) }
                    w.endObject()
                    w.key("feeds")
                    w.beginArray()
                    for f in s.feeds {
                        w.beginObject()
                        w.key("id"); w.value(f.feedID)
                        w.key("items"); w.value(f.items)
                        w.key("copies"); w.value(f.copies)
                        w.endObject()
                    }
                    w.endArray()
                    w.endObject()
                    Console.out(w.string)
                    return
                }
                let copies = s.copiesByMethod.values.reduce(0, +)
                let bySource: [(String, Int)] = s.sources.sorted { a, b in a.value != b.value ? a.value > b.value : a.key < b.key }
                let sources = bySource.isEmpty ? "none" : bySource.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
                var out = [
                    "index: \(s.entries) items within the \(config.dedup.window) window (oldest first seen \(Render.time(s.oldest))), "
                        + "\(s.indexBytes / 1024) KiB in the store, \(s.entries == 0 ? 0 : s.indexBytes / s.entries) bytes per item",
                    "copies caught: \(copies)"
                        + (copies == 0 ? "" : " (" + s.copiesByMethod.sorted(by: { $0.key < $1.key }).map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"),
                    "sources named by items: " + sources,
                    "",
                ]
                out.append(Render.table(["FEED", "ITEMS", "COPIES", "RATE"], s.feeds.map { f in
                    [f.feedID, String(f.items), String(f.copies), f.items == 0 ? "-" : "\(Int((Double(f.copies) * 100 / Double(f.items)).rounded()))%"]
                }))
                Console.out(out.joined(separator: "\n"))
            }
        }
    }
}

/// An item as `dedup explain` reads it: from its spool file, found by path or by id.
struct ItemFile {
    var path: String
    var itemID: String
    var feedID: String
    var title: String?
    var guid: String?
    var url: String?
    var text: String
    var recorded: DedupRecord?

    var candidate: DedupCandidate { DedupCandidate(itemID: itemID, feedID: feedID, guid: guid, url: url, text: text) }

    static func load(_ argument: String, config: Config) throws -> ItemFile {
        var path = argument
        if !FileManager.default.fileExists(atPath: path) {
            let isID = argument.count == 32 && argument.allSatisfy(\.isHexDigit)
            guard isID else { throw Failure(.usage, "\(argument): no such file, and not an item id (32 hex digits)") }
            let store = try Pipeline.openStore(config)
            guard let name = try store.fileName(itemID: argument.lowercased()) else {
                let dropped = try store.dedupEntry(itemID: argument.lowercased()) != nil
                throw Failure(
                    .usage,
                    dropped
                        ? "item \(argument) was dropped as a copy (dedup.duplicates is \"drop\"): it has no spool file to compare; its entry is in the store"
                        : "item \(argument): the store knows no such item")
            }
            let spool = URL(fileURLWithPath: config.spool)
            let candidates = ["new", "cur"].map { spool.appendingPathComponent($0).appendingPathComponent(name).path }
            guard let found = candidates.first(where: FileManager.default.fileExists(atPath:)) else {
                throw Failure(.usage, "item \(argument): its file \(name) is no longer in \(config.spool)/new or /cur (a consumer took it)")
            }
            path = found
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw Failure(.ioError, "\(path): cannot be read: \(error.localizedDescription)")
        }
        guard let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let id = doc["id"] as? String else {
            throw Failure(.usage, "\(path): not a feedspool item file (no JSON object with an \"id\")")
        }
        let feed = doc["feed"] as? [String: Any]
        let recorded = (doc["dedup"] as? [String: Any]).flatMap { try? JSONSerialization.data(withJSONObject: $0) }
            .flatMap { data -> DedupRecord? in
                let decoder = JSONDecoder()
                decoder.keyDecodingStrategy = .convertFromSnakeCase
                return try? decoder.decode(DedupRecord.self, from: data)
            }
        return ItemFile(
            path: path, itemID: id, feedID: feed?["id"] as? String ?? "?", title: doc["title"] as? String, guid: doc["guid"] as? String,
            url: doc["url"] as? String, text: doc["content_text"] as? String ?? doc["summary"] as? String ?? "", recorded: recorded)
    }
}
