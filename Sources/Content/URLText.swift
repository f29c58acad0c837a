import Foundation

/// URL handling shared by the sanitizer and the feed parser.
public enum URLText {
    /// The lowercased scheme of `value` (`"javascript"` for `" JaVa\tScRiPt:alert(1)"`),
    /// or `nil` when it is a relative reference. Control characters and whitespace,
    /// which browsers ignore inside a scheme, are ignored here too.
    public static func scheme(of value: String) -> String? { scheme(ofBytes: value.utf8) }

    public static func scheme<C: Collection>(ofBytes value: C) -> String? where C.Element == UInt8 {
        var scheme: [UInt8] = []
        for b in value {
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

    /// What the sanitizer needs to know of a URL's scheme.
    public enum SchemeKind: Sendable {
        case relative
        /// http or https: allowed everywhere.
        case http
        /// mailto, tel, ftp: allowed on links only.
        case linkOnly
        /// Anything else (javascript, data, vbscript, …): refused.
        case other
    }

    /// Classifies the scheme of a URL's bytes without allocating, ignoring
    /// white space and control characters inside it as browsers do.
    public static func schemeKind(of value: [UInt8]) -> SchemeKind {
        value.withUnsafeBufferPointer { schemeKind(of: $0) }
    }

    public static func schemeKind(of value: UnsafeBufferPointer<UInt8>) -> SchemeKind {
        var packed: UInt64 = 0
        var length = 0
        for b in value {
            if b <= 0x20 { continue }
            if b == UInt8(ascii: ":") {
                if length == 0 { return .relative }
                switch packed {
                case pack("http"), pack("https"): return .http
                case pack("mailto"), pack("tel"), pack("ftp"): return .linkOnly
                default: return .other
                }
            }
            if b == UInt8(ascii: "/") || b == UInt8(ascii: "?") || b == UInt8(ascii: "#") { return .relative }
            let l = b | 0x20
            let ok = (l >= 0x61 && l <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "+")
                || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
            if !ok { return .relative }
            length += 1
            packed = length <= 8 ? packed << 8 | UInt64(l >= 0x61 && l <= 0x7A ? l : b) : 0xFFFF_FFFF_FFFF_FFFF
        }
        return .relative
    }

    private static func pack(_ s: StaticString) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<s.utf8CodeUnitCount { v = v << 8 | UInt64(s.utf8Start[i]) }
        return v
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
