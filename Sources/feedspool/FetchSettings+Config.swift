import Config
import Fetch

extension FetchSettings {
    /// The fetcher's settings from config.json's `fetch` section.
    init(_ fetch: Config.FetchSettings) {
        self.init()
        concurrency = fetch.concurrency
        perHost = fetch.perHost
        perHostSpacing = fetch.perHostSpacing
        timeout = Double(fetch.timeout.seconds)
        connectTimeout = min(10, timeout)
        maxBytes = fetch.maxBytes
        userAgent = fetch.userAgent
        addresses = AddressPolicy(allowPrivateNetworks: fetch.allowPrivateNetworks)
        allowFileURLs = fetch.allowFileURLs
    }
}
