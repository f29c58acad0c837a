import ArgumentParser
import Config
import FeedspoolModel
import Foundation
import Parse

struct OPMLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "opml", abstract: "Subscription lists in OPML 2.0.", subcommands: [Import.self, Export.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an OPML file's feeds to config.json (its formatting kept; feeds already there are skipped).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The OPML file.") var file: String

        func run() throws {
            try reportingFailures {
                let path = try Config.locate(explicit: global.config)
                let config = try Config.load(from: path)
                guard let bytes = FileManager.default.contents(atPath: file) else {
                    throw Failure(.ioError, "cannot read \(file)")
                }
                let subscriptions = try OPML.subscriptions(in: [UInt8](bytes))
                // Sets, not list searches: a 40,000-feed file took 11 s.
                var known = Set(config.feeds.map(\.url))
                var ids = UniqueNames(separator: "-", taken: Set(config.feeds.map(\.id)))
                var added: [ConfigEditor.NewFeed] = []
                var skipped: [String] = []
                for s in subscriptions {
                    guard known.insert(s.url).inserted else { skipped.append(s.url); continue }
                    let id = ids.claim(FeedSlug.make(from: s.url, directory: config.directory))
                    added.append(ConfigEditor.NewFeed(id: id, url: s.url, tags: s.categories))
                }
                let text = String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
                guard let edited = ConfigEditor.appending(added, to: text) else {
                    throw Failure(.configError, "\(path): not a JSON object; cannot add feeds")
                }
                // Only a config that still checks is written.
                _ = try Config.parse(Data(edited.utf8), file: path, directory: config.directory)
                if !added.isEmpty { try Data(edited.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) }
                if global.json {
                    var w = JSONWriter()
                    w.beginObject()
                    w.key("added"); w.value(added.map(\.id))
                    w.key("skipped"); w.value(skipped)
                    w.endObject()
                    Console.out(w.string)
                } else {
                    for f in added { Console.out("added \(f.id)  \(f.url)") }
                    for u in skipped { Console.out("skipped (already in the config) \(u)") }
                    Console.out("\(added.count) added, \(skipped.count) skipped; " + (added.isEmpty ? "\(path) unchanged" : "\(path) updated"))
                }
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the configured feeds as OPML 2.0.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try reportingFailures {
                let config = try global.loadConfig()
                let titles = Dictionary((try? Pipeline.openStore(config).feedStates())?.map { ($0.id, $0.title) } ?? [], uniquingKeysWith: { a, _ in a })
                let subscriptions = config.feeds.map { f in
                    Subscription(url: f.url, title: (titles[f.id] ?? nil) ?? f.id, categories: f.tags)
                }
                Console.out(OPML.document(subscriptions, title: "feedspool subscriptions", created: Date()))
            }
        }
    }
}
