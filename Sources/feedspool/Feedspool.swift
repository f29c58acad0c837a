import ArgumentParser
import FeedspoolModel

@main
struct Feedspool: ParsableCommand {
    /// Sets the process's memory policy before any command runs (threads allocate).
    static func main() {
        ProcessMemory.keepFreedMemory()
        main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "feedspool",
        abstract: "Polls RSS and Atom feeds and spools every new story as one JSON file.",
        subcommands: [
            RunCommand.self, FetchCommand.self, QueueCommand.self, FeedsCommand.self, StatusCommand.self, ParseCommand.self,
            ConfigCommand.self, OPMLCommand.self, DedupCommand.self,
        ])
}

/// Options every subcommand takes (SPEC section 2).
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The config file. Default: $FEEDSPOOL_CONFIG, ./config.json, /etc/feedspool/config.json.")
    var config: String?

    @Flag(name: .long, help: "Machine output: one JSON document on stdout.")
    var json = false
}
