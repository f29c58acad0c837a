/// Small text operations on UTF-8 bytes, for hot paths where Foundation's
/// `trimmingCharacters` (which goes through UTF-16) would dominate.
public enum TextBytes {
    @inline(__always) public static func isSpace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D || c == 0x0C
    }

    /// The bytes without leading and trailing ASCII white space, as a String.
    public static func trimmed(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { b in
            var start = 0, end = b.count
            while start < end, isSpace(b[start]) { start += 1 }
            while end > start, isSpace(b[end - 1]) { end -= 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self)
        }
    }

    public static func trimmed(_ s: String) -> String {
        let u = s.utf8
        guard let f = u.first, let l = u.last, isSpace(f) || isSpace(l) else { return s }
        return trimmed(Array(u))
    }

    /// Whether the bytes hold anything but ASCII white space.
    public static func hasText(_ bytes: [UInt8]) -> Bool {
        bytes.contains { !isSpace($0) }
    }
}
