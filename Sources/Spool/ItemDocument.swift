import FeedspoolModel
import Foundation

/// The JSON of one spool file (schema `feedspool.item/1`, SPEC section 4), fields in the SPEC's order.
public enum ItemDocument {
    public static let schema = "feedspool.item/1"

    public static func json(item: Item, feed: FeedRef, fetched: Date, dedup: DedupRecord) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("schema"); w.value(schema)
        w.key("id"); w.value(.id, of: item)
        w.key("feed")
        w.beginObject()
        w.key("id"); w.value(feed.id)
        w.key("url"); w.value(feed.url)
        w.key("title"); w.value(feed.title)
        w.endObject()
        w.key("guid"); w.value(.guid, of: item)
        w.key("url"); w.value(.url, of: item)
        w.key("title"); w.value(.title, of: item)
        w.key("authors"); w.value(.authors, of: item)
        w.key("published"); w.value(item.published)
        w.key("updated"); w.value(item.updated)
        w.key("fetched"); w.value(fetched)
        w.key("summary"); w.value(.summary, of: item)
        w.key("content_html"); w.value(.contentHTML, of: item)
        w.key("content_text"); w.value(.contentText, of: item)
        w.key("language"); w.value(item.language)
        w.key("categories"); w.value(.categories, of: item)
        w.key("enclosures"); w.value(item.enclosures)
        w.key("source"); w.value(item.source)
        w.key("dedup")
        w.beginObject()
        w.key("status"); w.value(dedup.status.rawValue)
        w.key("cluster"); w.value(dedup.cluster)
        w.key("duplicate_of"); w.value(dedup.duplicateOf)
        w.key("similarity"); w.value(dedup.similarity)
        w.key("method"); w.value(dedup.method?.rawValue)
        w.endObject()
        w.endObject()
        var out = w.bytes
        out.append(0x0A)
        return out
    }
}
