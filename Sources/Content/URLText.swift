import Foundation

/// URL handling shared by the sanitizer and the feed parser.
public enum URLText {
    /// The lowercased scheme of `value` (`"javascript"` for `" JaVa\tScRiPt:alert(1)"`),
    /// or `nil` when it is a relative reference. Control characters and whitespace,
    /// which browsers ignore inside a scheme, are ignored here too.
    public static func scheme(of value: String) -> String? {
        var scheme: [UInt8] = []
        for b in value.utf8 {
            if b <= 0x20 { continue }
            if b == UInt8(ascii: ":") { return scheme.isEmpty ? nil : String(decoding: scheme, as: UTF8.self) }
            if b == UInt8(ascii: "/") || b == UInt8(ascii: "?") || b == UInt8(ascii: "#") { return nil }
            let l = b | 0x20
            let ok = (l >= 0x61 && l <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "+")
                || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
            if !ok { return nil }
            scheme.append(l >= 0x61 && l <= 0x7A ? l : b)
        }
        return nil
    }

    /// `value` made absolute against `base` (RFC 3986); unchanged when it is
    /// already absolute, when there is no base, or when it cannot be resolved.
    public static func resolve(_ value: String, against base: URL?) -> String {
        guard let base, scheme(of: value) == nil else { return value }
        if value.isEmpty { return base.absoluteString }
        if let url = URL(string: value, relativeTo: base) { return url.absoluteString }
        let escaped = value.addingPercentEncoding(withAllowedCharacters: .urlFragmentAllowed.union(CharacterSet(charactersIn: "#%")))
        if let escaped, let url = URL(string: escaped, relativeTo: base) { return url.absoluteString }
        return value
    }
}
