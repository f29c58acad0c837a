/// Which IP addresses the fetcher may connect to, checked for every new
/// connection (every redirect hop, after DNS), so that a feed URL cannot reach
/// the machine's own services or the local network (SSRF).
public struct AddressPolicy: Sendable, Hashable {
    /// Whether loopback, private, link-local, unique-local, multicast, reserved
    /// and unspecified addresses are allowed. Default false.
    public var allowPrivateNetworks = false
    /// Addresses allowed even when private ones are not (textual form, e.g. "127.0.0.1").
    public var exceptions: Set<String> = []

    public init(allowPrivateNetworks: Bool = false, exceptions: Set<String> = []) {
        self.allowPrivateNetworks = allowPrivateNetworks
        self.exceptions = exceptions
    }

    public func allows(_ address: IPAddress) -> Bool {
        allowPrivateNetworks || address.isPublic || exceptions.contains(address.description)
    }
}

/// An IPv4 or IPv6 address as raw bytes.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses dotted IPv4 or colon-separated IPv6 text.
    public init?(_ text: String) {
        if text.contains(":") {
            var text = text
            // An embedded IPv4 tail (::ffff:10.0.0.1) becomes two groups.
            if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains("."),
                let v4 = IPAddress(String(text[text.index(after: lastColon)...])), v4.bytes.count == 4
            {
                let b = v4.bytes
                text = String(text[...lastColon]) + String(UInt16(b[0]) << 8 | UInt16(b[1]), radix: 16) + ":"
                    + String(UInt16(b[2]) << 8 | UInt16(b[3]), radix: 16)
            }
            var groups: [UInt16] = []
            let halves = text.components(separatedBy: "::")
            guard halves.count <= 2 else { return nil }
            func parse(_ part: String) -> [UInt16]? {
                if part.isEmpty { return [] }
                var out: [UInt16] = []
                for g in part.split(separator: ":", omittingEmptySubsequences: false) {
                    guard let v = UInt16(g, radix: 16), g.count <= 4 else { return nil }
                    out.append(v)
                }
                return out
            }
            guard let head = parse(halves[0]) else { return nil }
            if halves.count == 2 {
                guard let tail = parse(halves[1]), head.count + tail.count < 8 else { return nil }
                groups = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
            } else {
                guard head.count == 8 else { return nil }
                groups = head
            }
            bytes = groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        } else {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var out: [UInt8] = []
            for p in parts {
                guard let v = UInt8(p) else { return nil }
                out.append(v)
            }
            bytes = out
        }
    }

    public var description: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var groups: [String] = []
        for i in stride(from: 0, to: 16, by: 2) { groups.append(String(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]), radix: 16)) }
        return groups.joined(separator: ":")
    }

    /// Whether this is an ordinary, globally routable unicast address.
    public var isPublic: Bool {
        if bytes.count == 4 { return Self.isPublicIPv4(bytes[0], bytes[1], bytes[2], bytes[3]) }
        let b = bytes
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF {
            return Self.isPublicIPv4(b[12], b[13], b[14], b[15])  // IPv4-mapped
        }
        if b[0..<12].allSatisfy({ $0 == 0 }) {
            return false  // ::, ::1, and the deprecated IPv4-compatible form
        }
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && b[4..<12].allSatisfy({ $0 == 0 }) {
            return Self.isPublicIPv4(b[12], b[13], b[14], b[15])  // NAT64 64:ff9b::/96
        }
        if b[0] & 0xFE == 0xFC { return false }  // fc00::/7 unique local
        if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return false }  // fe80::/10 link-local
        if b[0] == 0xFE && b[1] & 0xC0 == 0xC0 { return false }  // fec0::/10 site-local (deprecated)
        if b[0] == 0xFF { return false }  // multicast
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8 { return false }  // documentation
        if b[0] == 0x20 && b[1] == 0x02 { return Self.isPublicIPv4(b[2], b[3], b[4], b[5]) }  // 6to4
        return true
    }

    private static func isPublicIPv4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> Bool {
        switch a {
        case 0, 10, 127: return false  // this network, private, loopback
        case 100 where b & 0xC0 == 64: return false  // 100.64/10 shared (CGNAT)
        case 169 where b == 254: return false  // link-local
        case 172 where b & 0xF0 == 16: return false  // 172.16/12
        case 192 where b == 168: return false  // 192.168/16
        case 192 where b == 0 && c == 0: return false  // 192.0.0/24 protocol assignments
        case 192 where b == 0 && c == 2: return false  // documentation
        case 198 where b & 0xFE == 18: return false  // 198.18/15 benchmarking
        case 198 where b == 51 && c == 100, 203 where b == 0 && c == 113: return false  // documentation
        case 224...255: return false  // multicast, reserved, broadcast
        default: return true
        }
    }
}
