import ArgumentParser
import Config

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Inspect the configuration.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate the config; with --json print the effective config (defaults filled in).")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            try reportingFailures {
                let config = try global.loadConfig()
                if global.json {
                    Console.out(config.effectiveJSON)
                    return
                }
                let store: String
                switch config.store {
                case .sqlite(let path): store = "sqlite \(path)"
                case .postgres(let url): store = "postgres \(url)"
                }
                Console.out("""
                    \(config.file): OK
                      spool     \(config.spool)
                      store     \(store)
                      fetch     concurrency \(config.fetch.concurrency), per host \(config.fetch.perHost), timeout \(config.fetch.timeout), max \(config.fetch.maxBytes) bytes
                      schedule  every \(config.schedule.interval) (min \(config.schedule.minInterval), backoff up to \(config.schedule.maxBackoff), \(config.schedule.maxAttempts) attempts)
                      dedup     \(config.dedup.duplicates.rawValue) copies, window \(config.dedup.window), threshold \(config.dedup.threshold)
                      metrics   \(config.metrics.listen ?? "off")
                      feeds     \(config.feeds.count)
                    """)
            }
        }
    }
}

extension GlobalOptions {
    /// The config this command should use (SPEC section 2 lookup order), checked.
    func loadConfig() throws -> Config {
        try Config.load(from: Config.locate(explicit: config))
    }
}
