import FeedspoolModel
import Foundation

/// The exact keys of SPEC section 5: a guid that is globally unique, the
/// canonical URL, the normalized text.
public enum ExactKeys {
    /// Whether a guid names the story everywhere (a URL, a `tag:` or `urn:` URI,
    /// a UUID) rather than only within its feed (a number, a short slug).
    public static func isGlobal(guid: String) -> Bool {
        let g = guid.trimmingCharacters(in: .whitespaces)
        let lower = g.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            return CanonicalURL.canonical(g).map(CanonicalURL.namesAPage) ?? false
        }
        if lower.hasPrefix("tag:") || lower.hasPrefix("urn:") { return g.count > 8 }
        return isUUID(lower)
    }

    private static func isUUID(_ s: String) -> Bool {
        let hex = s.utf8.filter { $0 != UInt8(ascii: "-") && $0 != UInt8(ascii: "{") && $0 != UInt8(ascii: "}") }
        guard hex.count == 32, s.utf8.count >= 32 else { return false }
        return hex.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// The keys of an item: guid (when global), canonical URL (when it names a
    /// page, not a site's front page), and the text's hash (when long enough).
    public static func of(guid: String?, url: String?, fingerprint: Fingerprint) -> [Key] {
        var keys: [Key] = []
        if let g = guid, isGlobal(guid: g) {
            let normal = g.lowercased().hasPrefix("http") ? (CanonicalURL.canonical(g) ?? g) : g.trimmingCharacters(in: .whitespaces)
            keys.append(Key(method: .guid, value: StableHash.string(normal, tag: KeyKind.guid.rawValue)))
        }
        if let u = url, let c = CanonicalURL.canonical(u), CanonicalURL.namesAPage(c) {
            keys.append(Key(method: .url, value: StableHash.string(c, tag: KeyKind.url.rawValue)))
        }
        if let t = fingerprint.textKey { keys.append(Key(method: .contentHash, value: t)) }
        return keys
    }

    public struct Key: Sendable, Hashable {
        public var method: DedupRecord.Method
        public var value: UInt64
    }
}

/// URLs as copy detection compares them: scheme and host lowercase, default
/// port, fragment and tracking parameters (`utm_*`, `fbclid`, `gclid`, …) gone,
/// a trailing slash on the path dropped.
public enum CanonicalURL {
    private static let trackingNames: Set<String> = [
        "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "ref", "ref_src", "igshid", "yclid",
        "_ga", "ocid", "cmpid", "s_cid", "at_medium", "at_campaign", "rss", "feed", "spm",
    ]

    public static func isTracking(_ name: String) -> Bool {
        let n = name.lowercased()
        return n.hasPrefix("utm_") || trackingNames.contains(n)
    }

    public static func canonical(_ raw: String) -> String? {
        guard var c = URLComponents(string: raw.trimmingCharacters(in: .whitespacesAndNewlines)),
            let scheme = c.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = c.host, !host.isEmpty
        else { return nil }
        c.scheme = scheme
        c.host = host.lowercased().trimmingSuffix(".")
        if (scheme == "http" && c.port == 80) || (scheme == "https" && c.port == 443) { c.port = nil }
        c.fragment = nil
        c.user = nil
        c.password = nil
        if let items = c.queryItems {
            let kept = items.filter { !isTracking($0.name) }
            c.queryItems = kept.isEmpty ? nil : kept
        }
        var path = c.percentEncodedPath
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        c.percentEncodedPath = path.isEmpty ? "/" : path
        return c.string
    }

    /// Whether a canonical URL names a page rather than a site (a bare host or its
    /// front page would make every story that links there a copy).
    public static func namesAPage(_ canonical: String) -> Bool {
        guard let c = URLComponents(string: canonical) else { return false }
        return c.percentEncodedPath.count > 1 || c.percentEncodedQuery != nil
    }
}

extension String {
    fileprivate func trimmingSuffix(_ s: String) -> String { hasSuffix(s) ? String(dropLast(s.count)) : self }
}
