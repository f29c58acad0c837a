import Content
import FeedspoolModel
import Foundation

/// One subscription of an OPML file.
public struct Subscription: Sendable, Hashable {
    public var url: String
    public var title: String?
    public var siteURL: String?
    /// The titles of the outlines it sits in (its folders), outermost first.
    public var categories: [String]

    public init(url: String, title: String? = nil, siteURL: String? = nil, categories: [String] = []) {
        self.url = url
        self.title = title
        self.siteURL = siteURL
        self.categories = categories
    }
}

/// OPML 2.0 subscription lists (http://opml.org/spec2.opml), the format feed readers exchange.
public enum OPML {
    /// The subscriptions in an OPML document (outlines with `xmlUrl`), read with
    /// the same hardened libxml2 set-up as feeds (no entities, no network).
    public static func subscriptions(in bytes: [UInt8]) throws(ParseError) -> [Subscription] {
        let reader = OutlineReader()
        let setAside = SetAsideText()
        let sax = XMLStreamParser(builder: reader, setAside: setAside)
        var normalizer = InputNormalizer(httpCharset: nil, setAside: setAside)
        var clean = ByteSink(capacity: bytes.count + 64)
        bytes.withUnsafeBytes { normalizer.push($0, into: &clean) }
        normalizer.finish(into: &clean)
        sax.push(clean.bytes)
        sax.finish()
        guard reader.sawOPML else { throw .notAFeed(reason: "not an OPML document (no <opml> element)") }
        return reader.subscriptions
    }

    /// An OPML 2.0 document of `subscriptions`, grouped in folders by their first category.
    public static func document(_ subscriptions: [Subscription], title: String, created: Date) -> String {
        func attr(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
                .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        func outline(_ s: Subscription, indent: String) -> String {
            var line = "\(indent)<outline type=\"rss\" text=\"\(attr(s.title ?? s.url))\" title=\"\(attr(s.title ?? s.url))\" xmlUrl=\"\(attr(s.url))\""
            if let site = s.siteURL { line += " htmlUrl=\"\(attr(site))\"" }
            return line + "/>\n"
        }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n  <head>\n"
        out += "    <title>\(attr(title))</title>\n    <dateCreated>\(HTTPDateFormat.rfc822(created))</dateCreated>\n  </head>\n  <body>\n"
        var folders: [String: [Subscription]] = [:]
        var order: [String] = []
        for s in subscriptions {
            let folder = s.categories.first ?? ""
            if folders[folder] == nil { order.append(folder) }
            folders[folder, default: []].append(s)
        }
        for folder in order {
            if folder.isEmpty {
                for s in folders[folder]! { out += outline(s, indent: "    ") }
            } else {
                out += "    <outline text=\"\(attr(folder))\" title=\"\(attr(folder))\">\n"
                for s in folders[folder]! { out += outline(s, indent: "      ") }
                out += "    </outline>\n"
            }
        }
        return out + "  </body>\n</opml>\n"
    }
}

/// RFC 822 dates for OPML's `dateCreated`.
enum HTTPDateFormat {
    static func rfc822(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f.string(from: date)
    }
}

/// Collects `<outline xmlUrl=…>` elements and the folders around them.
private final class OutlineReader: SAXDelegate {
    var subscriptions: [Subscription] = []
    var sawOPML = false
    /// For each open outline: its title if it is a folder (no xmlUrl), else nil.
    private var folders: [String?] = []

    func start(_ name: XMLElementName, attributes: XMLAttributes) {
        let local = name.localName.lowercased()
        if local == "opml" { sawOPML = true }
        guard local == "outline" else { return }
        let title = attributes.value("title") ?? attributes.value("text")
        if let url = attributes.value("xmlUrl") ?? attributes.value("xmlurl"), !url.trimmingCharacters(in: .whitespaces).isEmpty {
            subscriptions.append(Subscription(
                url: url.trimmingCharacters(in: .whitespaces), title: title.flatMap { $0.isEmpty ? nil : $0 },
                siteURL: attributes.value("htmlUrl"), categories: folders.compactMap { $0 }))
            folders.append(nil)
        } else {
            folders.append(title)
        }
    }

    func end(_ name: XMLElementName) {
        if name.localName.lowercased() == "outline", !folders.isEmpty { folders.removeLast() }
    }

    func text(_ bytes: UnsafeBufferPointer<UInt8>) {}
}
