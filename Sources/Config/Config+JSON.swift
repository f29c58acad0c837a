import FeedspoolModel

extension Config {
    /// The effective config as config.json would write it, defaults filled in,
    /// paths absolute (what `feedspool config check --json` prints).
    public var effectiveJSON: String {
        var w = JSONWriter()
        w.beginObject()
        w.key("spool"); w.value(spool)
        w.key("store")
        w.beginObject()
        switch store {
        case .sqlite(let path):
            w.key("kind"); w.value("sqlite")
            w.key("path"); w.value(path)
        case .postgres(let url):
            w.key("kind"); w.value("postgres")
            w.key("url"); w.value(url)
        }
        w.endObject()
        w.key("fetch")
        w.beginObject()
        w.key("concurrency"); w.value(fetch.concurrency)
        w.key("per_host"); w.value(fetch.perHost)
        w.key("per_host_spacing"); w.value(fetch.perHostSpacing)
        w.key("timeout"); w.value(fetch.timeout.description)
        w.key("max_bytes"); w.value(fetch.maxBytes)
        w.key("user_agent"); w.value(fetch.userAgent)
        w.key("allow_private_networks"); w.value(fetch.allowPrivateNetworks)
        w.key("allow_file_urls"); w.value(fetch.allowFileURLs)
        w.endObject()
        w.key("schedule")
        w.beginObject()
        w.key("interval"); w.value(schedule.interval.description)
        w.key("min_interval"); w.value(schedule.minInterval.description)
        w.key("max_backoff"); w.value(schedule.maxBackoff.description)
        w.key("max_attempts"); w.value(schedule.maxAttempts)
        w.endObject()
        w.key("dedup")
        w.beginObject()
        w.key("duplicates"); w.value(dedup.duplicates.rawValue)
        w.key("window"); w.value(dedup.window.description)
        w.key("threshold"); w.value(dedup.threshold)
        w.endObject()
        w.key("metrics")
        w.beginObject()
        w.key("listen"); w.value(metrics.listen)
        w.endObject()
        w.key("feeds")
        w.beginArray()
        for f in feeds {
            w.beginObject()
            w.key("id"); w.value(f.id)
            w.key("url"); w.value(f.url)
            w.key("interval"); w.value((f.interval ?? schedule.interval).description)
            w.key("tags"); w.value(f.tags)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.string
    }
}
