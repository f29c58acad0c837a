import CByteScan

/// Strings made from UTF-8 bytes, checked by a validator that skips ASCII
/// sixteen bytes at a time (`feedspool_utf8_is_valid`, in C).
///
/// `String(decoding:as:)` validates non-ASCII UTF-8 one scalar at a time. Every
/// item's HTML and text become Strings this way, and for text that is not all
/// ASCII (curly quotes, a no-break space, any language but English) that check
/// was an eighth of the finishing thread's work. Here ASCII is skipped sixteen
/// bytes a step and multi-byte sequences checked as they come; bytes that pass
/// are copied into a String without a second check, bytes that fail go the
/// standard way (which replaces what is invalid with U+FFFD).
public enum UTF8String {
    public static func make(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard isValid(bytes) else { return String(decoding: bytes, as: UTF8.self) }
        return String.fromValidUTF8(bytes)
    }

    public static func make(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { make($0) }
    }

    /// Whether the bytes are well-formed UTF-8 (no overlong forms, surrogates,
    /// or scalars past U+10FFFF; sequences complete).
    public static func isValid(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = b.baseAddress else { return true }
        return feedspool_utf8_is_valid(base, b.count) != 0
    }

    /// The length of the well-formed multi-byte sequence at `i` (2–4), or 0 when
    /// the byte there does not start one that is complete within `b`. The second
    /// byte's range rules out overlong forms, surrogates and scalars past U+10FFFF.
    @inlinable @inline(__always) public static func sequenceLength(_ b: UnsafeRawBufferPointer, at i: Int) -> Int {
        let need: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch b[i] {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: need = 2
        case 0xED: need = 2; high = 0x9F
        case 0xF0: need = 3; low = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; high = 0x8F
        default: return 0
        }
        guard i + need < b.count, b[i + 1] >= low, b[i + 1] <= high else { return 0 }
        for k in stride(from: 2, through: need, by: 1) where b[i + k] & 0xC0 != 0x80 { return 0 }
        return need + 1
    }
}

/// The standard library's own constructor for bytes already known to be valid
/// UTF-8 (what `String(decoding:as:)` calls once its check passes). It is not
/// public API, but it is an ABI entry point of libswiftCore: its mangled name
/// holds its signature, so a runtime without it fails to link rather than
/// misbehaving. Only `UTF8String.make` calls it, after `isValid`.
extension String {
    @_silgen_name("$sSS18_uncheckedFromUTF8ySSSRys5UInt8VGFZ")
    fileprivate static func fromValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> String
}
