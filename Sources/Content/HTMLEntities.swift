/// The HTML named character references (`&nbsp;`, `&eacute;`, `&rsquo;`) and
/// numeric references, decoded the way browsers do.
public enum HTMLEntities {
    private static let byName: [String: String] = {
        var map: [String: String] = [:]
        map.reserveCapacity(2200)
        for line in table.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count >= 2 else { continue }
            var value = String.UnicodeScalarView()
            for hex in parts.dropFirst() {
                if let v = UInt32(hex, radix: 16), let s = Unicode.Scalar(v) { value.append(s) }
            }
            map[String(parts[0])] = String(value)
        }
        return map
    }()

    /// The text a named reference stands for, e.g. `lookup("eacute")` is "é"; `nil` if unknown.
    public static func lookup(_ name: String) -> String? { byName[name] }

    /// The same table keyed by names packed into 60 bits (10 characters at most:
    /// nearly every name), with UTF-8 values: a lookup without a String. Read
    /// straight from the table's bytes: building it through `byName` cost about
    /// 26 million instructions, once per process.
    private static let byPackedName: PackedTable<ShortUTF8> = {
        var pairs: [(UInt64, ShortUTF8)] = []
        pairs.reserveCapacity(2300)
        var text = HTMLEntities.table
        text.withUTF8 { b in
            var i = 0
            while i < b.count {
                var lineEnd = i
                while lineEnd < b.count, b[lineEnd] != 0x0A { lineEnd += 1 }
                defer { i = lineEnd + 1 }
                var nameEnd = i
                while nameEnd < lineEnd, b[nameEnd] != 0x20 { nameEnd += 1 }
                let key = pack(UnsafeBufferPointer(rebasing: b[i..<nameEnd]))
                guard key != 0 else { continue }
                var utf8: [UInt8] = []
                var j = nameEnd
                while j < lineEnd {
                    j += 1  // the space
                    var v: UInt32 = 0
                    while j < lineEnd, b[j] != 0x20 {
                        let c = b[j]
                        v = v << 4 | UInt32(c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10)
                        j += 1
                    }
                    if let scalar = Unicode.Scalar(v) { utf8.append(contentsOf: scalar.utf8) }
                }
                if let value = ShortUTF8(utf8) { pairs.append((key, value)) }
            }
        }
        return PackedTable(pairs)
    }()

    /// The legacy names (`copy`, `eacute`, `amp`, ... 106 in all), packed.
    private static let legacyNames: Set<UInt64> = Set(legacyTable.split(separator: " ").map { pack($0.utf8) })
    /// The longest legacy name has six characters (`frac12`, `middot`, ...).
    private static let longestLegacyName = 6

    /// Packs a name of letters and digits, case-sensitively, six bits a character; 0 if it does not fit.
    @inline(__always) private static func pack<C: Collection>(_ name: C) -> UInt64 where C.Element == UInt8 {
        guard name.count <= 10 else { return 0 }
        var key: UInt64 = 0
        for c in name {
            let v: UInt64
            if c >= 0x61 && c <= 0x7A { v = UInt64(c - 0x61 + 1) }
            else if c >= 0x41 && c <= 0x5A { v = UInt64(c - 0x41 + 27) }
            else if c >= 0x30 && c <= 0x39 { v = UInt64(c - 0x30 + 53) }
            else { return 0 }
            key = key << 6 | v
        }
        return key
    }

    /// UTF-8 of a named reference given as bytes, held in a register (every value
    /// is two scalars at most); `nil` if unknown.
    public static func lookupShort(_ name: UnsafeBufferPointer<UInt8>) -> ShortUTF8? {
        if name.count <= 10 {
            let key = pack(name)
            return key == 0 ? nil : byPackedName[key]
        }
        return byName[String(decoding: name, as: UTF8.self)].flatMap { ShortUTF8($0.utf8) }
    }

    /// The scalar a numeric reference's code point stands for, with the HTML
    /// fix-ups: NUL, surrogates and out-of-range values become U+FFFD, and
    /// 0x80–0x9F are read as windows-1252 (`&#146;` is ’).
    public static func scalar(forCodePoint cp: UInt32) -> Unicode.Scalar {
        if cp >= 0x80 && cp <= 0x9F, let s = Windows1252.scalar(UInt8(cp)) { return s }
        if cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) { return "\u{FFFD}" }
        return Unicode.Scalar(cp) ?? "\u{FFFD}"
    }

    /// Decodes every character reference in `s`; unknown names stay as written.
    public static func decode(_ s: String) -> String {
        guard s.utf8.contains(UInt8(ascii: "&")) else { return s }
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        let bytes = Array(s.utf8)
        bytes.withUnsafeBufferPointer { buf in
            var i = 0
            while i < buf.count {
                if buf[i] == UInt8(ascii: "&"), let (consumed, scalar) = reference(in: buf, at: i) {
                    out.append(contentsOf: scalar.utf8)
                    i += consumed
                } else {
                    out.append(buf[i])
                    i += 1
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Reads the character reference that starts with `&` at `start`:
    /// returns how many bytes it spans and what it decodes to, or `nil` when
    /// the `&` starts no reference (it is then a literal ampersand). Read as in
    /// text (see `referenceBytes`).
    static func reference(in buf: UnsafeBufferPointer<UInt8>, at start: Int) -> (Int, String)? {
        guard let (n, bytes) = referenceBytes(in: buf, at: start) else { return nil }
        return (n, String(decoding: Array(bytes), as: UTF8.self))
    }

    /// As `reference(in:at:)`, with the decoded text as UTF-8.
    ///
    /// As the HTML standard reads them: a name with its `;` when the table has it;
    /// else the longest legacy name (`copy`, `eacute`, ...) the letters start
    /// with, without `;` (`&copy2023` is "©2023", `&notit;` is "¬it;"). In an
    /// attribute value (`inAttribute`), a legacy name followed by a letter, a digit
    /// or `=` is not a reference (`?a=1&copy=2` keeps its `&copy`).
    static func referenceBytes(
        in buf: UnsafeBufferPointer<UInt8>, at start: Int, inAttribute: Bool = false
    ) -> (Int, ShortUTF8)? {
        var i = start + 1
        guard i < buf.count else { return nil }
        if buf[i] == UInt8(ascii: "#") {
            i += 1
            var hex = false
            if i < buf.count, buf[i] | 0x20 == UInt8(ascii: "x") { hex = true; i += 1 }
            var value: UInt32 = 0
            var digits = 0
            while i < buf.count {
                let c = buf[i]
                let d: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f") where hex: d = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F") where hex: d = UInt32(c - UInt8(ascii: "A") + 10)
                default: d = 99
                }
                if d == 99 { break }
                value = value > 0x10FFFF ? value : value * (hex ? 16 : 10) + d
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            if i < buf.count, buf[i] == UInt8(ascii: ";") { i += 1 }
            return (i - start, ShortUTF8(scalar(forCodePoint: value)))
        }
        // The name, packed as `pack` packs it while it is read (for the names of at
        // most ten characters the packed table holds; a second pass cost as much again).
        var j = i
        var key: UInt64 = 0
        while j < buf.count, j - i < 40 {
            let c = buf[j]
            let v: UInt64
            if c >= 0x61 && c <= 0x7A { v = UInt64(c - 0x61 + 1) }
            else if c >= 0x41 && c <= 0x5A { v = UInt64(c - 0x41 + 27) }
            else if c >= 0x30 && c <= 0x39 { v = UInt64(c - 0x30 + 53) }
            else { break }
            key = key &<< 6 | v
            j += 1
        }
        guard j > i else { return nil }
        if j < buf.count, buf[j] == UInt8(ascii: ";") {
            let v = j - i <= 10 ? byPackedName[key] : lookupShort(UnsafeBufferPointer(rebasing: buf[i..<j]))
            if let v { return (j + 1 - start, v) }
        }
        // A legacy name without its `;`: the longest the letters start with.
        var end = min(j, i + longestLegacyName)
        while end - i >= 2 {
            let name = UnsafeBufferPointer(rebasing: buf[i..<end])
            if legacyNames.contains(pack(name)), let v = lookupShort(name) {
                if inAttribute, end < buf.count, isAlnum(buf[end]) || buf[end] == UInt8(ascii: "=") { return nil }
                return (end - start, v)
            }
            end -= 1
        }
        return nil
    }

    @inline(__always) private static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A)
    }
}

/// The windows-1252 code page, which HTML also uses for numeric references 128–159.
public enum Windows1252 {
    private static let high: [UInt16] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
        0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    ]

    /// The Unicode scalar of one windows-1252 byte. The five unassigned bytes
    /// map to the C1 control of the same value, as the WHATWG Encoding Standard says.
    public static func scalar(_ b: UInt8) -> Unicode.Scalar? {
        if b < 0x80 || b >= 0xA0 { return Unicode.Scalar(b) }
        let v = high[Int(b - 0x80)]
        return v == 0 ? Unicode.Scalar(b) : Unicode.Scalar(v)
    }
}
