import FeedspoolModel
import Foundation

/// Human tables and JSON for the CLI's data.
enum Render {
    static func time(_ d: Date?) -> String { d.map(Timestamp.rfc3339) ?? "-" }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    static func write(_ j: FetchJob, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.value(j.id)
        w.key("feed"); w.value(j.feedID)
        w.key("url"); w.value(j.url)
        w.key("kind"); w.value(j.kind.rawValue)
        w.key("state"); w.value(j.state.rawValue)
        w.key("run_at"); w.value(j.runAt)
        w.key("attempts"); w.value(j.attempts)
        w.key("max_attempts"); w.value(j.maxAttempts)
        w.key("created_at"); w.value(j.createdAt)
        w.key("started_at"); w.value(j.startedAt)
        w.key("finished_at"); w.value(j.finishedAt)
        w.key("lease_owner"); w.value(j.leaseOwner)
        w.key("lease_until"); w.value(j.leaseUntil)
        w.key("last_error"); w.value(j.lastError)
        w.key("result")
        if let r = j.result {
            w.beginObject()
            w.key("http_status"); w.value(r.httpStatus)
            w.key("bytes"); w.value(r.bytes)
            w.key("items_seen"); w.value(r.itemsSeen)
            w.key("items_new"); w.value(r.itemsNew)
            w.key("seconds"); w.value((r.seconds * 1000).rounded() / 1000)
            w.endObject()
        } else {
            w.null()
        }
        w.endObject()
    }

    static func jobs(_ jobs: [FetchJob], json: Bool) -> String {
        if json {
            var w = JSONWriter()
            w.beginArray()
            for j in jobs { write(j, &w) }
            w.endArray()
            return w.string
        }
        return table(
            ["ID", "FEED", "KIND", "STATE", "ATTEMPTS", "RUN AT", "FINISHED", "NEW", "ERROR"],
            jobs.map { j in
                [String(j.id), j.feedID, j.kind.rawValue, j.state.rawValue, "\(j.attempts)/\(j.maxAttempts)", time(j.runAt),
                 time(j.finishedAt), j.result.map { String($0.itemsNew) } ?? "-", j.lastError ?? ""]
            })
    }
}
