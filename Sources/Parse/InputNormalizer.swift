import CByteScan
import Content

/// Turns a feed document's bytes, in whatever encoding and however broken,
/// into UTF-8 that libxml2 can parse without giving up.
///
/// It picks the encoding (byte order mark, then the XML declaration, then the
/// caller's charset from HTTP, then UTF-8), converts to UTF-8 with every
/// unreadable byte as U+FFFD, drops control characters XML forbids, and mends
/// what makes libxml2 drop text or stop: unbalanced tags, bare `&` and `<`, and
/// every entity reference (see `XMLRepair`).
///
/// Works chunk by chunk, so it can sit in curl's write callback. Not thread safe.
struct InputNormalizer {
    private enum Decoder {
        case undecided
        /// `sawMultibyte`: a valid multi-byte sequence was seen, so the document is really UTF-8.
        case utf8(sawMultibyte: Bool)
        case windows1252
        case iconv(IconvConverter)

        var isUndecided: Bool { if case .undecided = self { true } else { false } }
    }

    private let httpCharset: Charset?
    private var decoder: Decoder = .undecided
    /// Bytes held back: the sniffing prefix, or an incomplete sequence between chunks.
    private var carry: [UInt8] = []
    /// Decoded UTF-8 not yet repaired (a reference or tag opener split across chunks).
    private var decoded: [UInt8] = []
    private var repair: XMLRepair
    private(set) var encodingUsed = "UTF-8"

    /// What the repair step had to give up on (entity expansion over budget).
    var problems: [String] { repair.problems }

    /// `setAside`: where the repair step puts element text that needs no parsing
    /// (see `SetAsideText`); the same store goes to the `XMLStreamParser` that
    /// reads the output.
    init(httpCharset: String?, setAside: SetAsideText) {
        self.httpCharset = httpCharset.flatMap(Charset.init(label:))
        repair = XMLRepair(setAside: setAside)
    }

    mutating func push(_ chunk: UnsafeRawBufferPointer, into out: inout ByteSink) {
        switch decoder {
        case .undecided:
            if carry.isEmpty, chunk.count >= 1024 {
                // The first kilobyte is all here (a whole document often is): the encoding
                // is chosen from the chunk itself, which is then read where it lies.
                let skip = decide(chunk)
                pushDecided(UnsafeRawBufferPointer(rebasing: chunk[skip...]), into: &out)
                return
            }
            carry.append(contentsOf: chunk)
            guard carry.count >= 1024 else { return }
            let pending = carry
            carry = []
            pending.withUnsafeBytes { p in
                let skip = decide(p)
                pushDecided(UnsafeRawBufferPointer(rebasing: p[skip...]), into: &out)
            }
            return
        case .utf8:
            pushUTF8(chunk, into: &out)
            return
        case .windows1252, .iconv:
            decode(chunk, final: false)
        }
        repair.run(&decoded, into: &out, final: false)
    }

    /// The first bytes after the encoding was chosen.
    private mutating func pushDecided(_ bytes: UnsafeRawBufferPointer, into out: inout ByteSink) {
        if case .utf8 = decoder {
            pushUTF8(bytes, into: &out)
        } else {
            decode(bytes, final: false)
            repair.run(&decoded, into: &out, final: false)
        }
    }

    /// UTF-8 input. The clean stretch of the chunk (almost always all of it) goes to
    /// the repair step where it lies; only bytes that need decoding are copied first.
    private mutating func pushUTF8(_ chunk: UnsafeRawBufferPointer, into out: inout ByteSink) {
        var start = 0
        if !carry.isEmpty {
            // The last chunk ended inside a sequence: finish it with this one's continuation bytes.
            while start < min(chunk.count, 3), chunk[start] & 0xC0 == 0x80 { start += 1 }
            var head = carry
            carry = []
            head.append(contentsOf: chunk[0..<start])
            // Followed by any other byte, the sequence is as complete as it gets.
            head.withUnsafeBytes { decode($0, final: start < chunk.count) }
            guard case .utf8 = decoder else {
                // The sequence was no UTF-8 and nothing before it was: the rest is read as the fallback charset.
                decode(UnsafeRawBufferPointer(rebasing: chunk[start...]), final: false)
                repair.run(&decoded, into: &out, final: false)
                return
            }
        }
        let (end, multibyte) = Self.cleanUTF8Prefix(chunk, from: start)
        if multibyte { decoder = .utf8(sawMultibyte: true) }
        if end > start {
            repairInPlace(UnsafeRawBufferPointer(rebasing: chunk[start..<end]).assumingMemoryBound(to: UInt8.self), into: &out)
        }
        if end < chunk.count {
            decode(UnsafeRawBufferPointer(rebasing: chunk[end...]), final: false)
            repair.run(&decoded, into: &out, final: false)
        }
    }

    /// Runs the repair step over clean bytes without copying them. Bytes it left
    /// waiting in `decoded` (a tag or reference cut by the last chunk's end) are
    /// given the first bytes of this stretch until what it leaves lies within the
    /// stretch; from there it reads the stretch in place.
    private mutating func repairInPlace(_ clean: UnsafeBufferPointer<UInt8>, into out: inout ByteSink) {
        var from = 0
        if !decoded.isEmpty {
            var taken = 0
            repeat {
                let upTo = min(clean.count, max(4096, taken * 2))
                decoded.append(contentsOf: UnsafeBufferPointer(rebasing: clean[taken..<upTo]))
                taken = upTo
                repair.run(&decoded, into: &out, final: false)
            } while decoded.count > taken && taken < clean.count
            guard decoded.count <= taken else { return }  // all of the stretch waits in `decoded`
            from = taken - decoded.count  // what is left is the stretch's bytes from here to `taken`
            decoded.removeAll(keepingCapacity: true)
        }
        let rest = repair.run(UnsafeBufferPointer(rebasing: clean[from...]), into: &out, final: false)
        decoded.append(contentsOf: rest)
    }

    /// Where the complete, valid UTF-8 from `start` ends: the first byte that is a
    /// character XML forbids, or starts an invalid or unfinished sequence (the
    /// bytes up to there are what `appendUTF8` would copy unchanged). `multibyte`:
    /// whether that stretch holds a multi-byte sequence.
    static func cleanUTF8Prefix(_ b: UnsafeRawBufferPointer, from start: Int) -> (end: Int, multibyte: Bool) {
        guard let base = b.baseAddress, start < b.count else { return (start, false) }
        // In C, sixteen bytes a step (CByteScan): eight a step in Swift was a fortieth of parsing.
        var multibyte: Int32 = 0
        let length = feedspool_xml_clean_utf8_prefix(base.assumingMemoryBound(to: UInt8.self) + start, b.count - start, &multibyte)
        return (start + length, multibyte != 0)
    }

    /// Whether the well-formed sequence at `i` is U+FFFE or U+FFFF (EF BF BE, EF BF BF),
    /// which are no XML characters either.
    @inline(__always) static func isFFFEOrFFFF(_ b: Slice<UnsafeRawBufferPointer>, at i: Int, length: Int) -> Bool {
        length == 3 && b[i] == 0xEF && b[i + 1] == 0xBF && b[i + 2] >= 0xBE
    }

    /// Whether the bytes from `i` to the end are the start of a multi-byte sequence
    /// that the next chunk may complete: a lead byte, then fewer continuation bytes
    /// than it needs. (Whether the whole is valid is settled once it is whole.)
    static func startsASequenceCutShort(_ b: Slice<UnsafeRawBufferPointer>, at i: Int) -> Bool {
        let need: Int
        switch b[i] {
        case 0xC2...0xDF: need = 1
        case 0xE0...0xEF: need = 2
        case 0xF0...0xF4: need = 3
        default: return false
        }
        guard i + need >= b.endIndex else { return false }
        return b[(i + 1)...].allSatisfy { $0 & 0xC0 == 0x80 }
    }

    mutating func finish(into out: inout ByteSink) {
        let pending = carry
        carry = []
        pending.withUnsafeBytes { p in
            let skip = decoder.isUndecided ? decide(p) : 0
            decode(UnsafeRawBufferPointer(rebasing: p[skip...]), final: true)
        }
        repair.run(&decoded, into: &out, final: true)
    }

    // MARK: choosing the encoding

    /// Chooses the encoding from the document's first bytes; returns how many of
    /// them are a byte order mark, to be skipped.
    private mutating func decide(_ b: UnsafeRawBufferPointer) -> Int {
        var chosen: Charset = .utf8
        var skip = 0
        func at(_ i: Int) -> UInt8 { i < b.count ? b[i] : 0xAA }
        if at(0) == 0xEF && at(1) == 0xBB && at(2) == 0xBF {
            skip = 3
        } else if at(0) == 0x00 && at(1) == 0x00 && at(2) == 0xFE && at(3) == 0xFF {
            chosen = .iconv("UTF-32BE"); skip = 4
        } else if at(0) == 0xFF && at(1) == 0xFE && at(2) == 0x00 && at(3) == 0x00 {
            chosen = .iconv("UTF-32LE"); skip = 4
        } else if at(0) == 0xFE && at(1) == 0xFF {
            chosen = .iconv("UTF-16BE"); skip = 2
        } else if at(0) == 0xFF && at(1) == 0xFE {
            chosen = .iconv("UTF-16LE"); skip = 2
        } else if at(0) == 0 && at(1) == 0 && at(2) == 0 && at(3) == 0x3C {
            chosen = .iconv("UTF-32BE")
        } else if at(0) == 0x3C && at(1) == 0 && at(2) == 0 && at(3) == 0 {
            chosen = .iconv("UTF-32LE")
        } else if at(0) == 0 && at(1) == 0x3C {
            chosen = .iconv("UTF-16BE")
        } else if at(0) == 0x3C && at(1) == 0 {
            chosen = .iconv("UTF-16LE")
        } else if let declared = declaredEncoding(b), let cs = Charset(label: declared), !cs.isUTF16or32 {
            chosen = cs
        } else if let http = httpCharset, !http.isUTF16or32 {
            chosen = http
        }
        switch chosen {
        case .utf8: decoder = .utf8(sawMultibyte: false); encodingUsed = "UTF-8"
        case .windows1252: decoder = .windows1252; encodingUsed = "windows-1252"
        case .iconv(let name):
            if let c = IconvConverter(from: name) {
                decoder = .iconv(c); encodingUsed = name
            } else {
                decoder = .utf8(sawMultibyte: false); encodingUsed = "UTF-8"
            }
        }
        return min(skip, b.count)
    }

    /// The `encoding` of an XML declaration at the start of ASCII-compatible bytes.
    private func declaredEncoding(_ b: UnsafeRawBufferPointer) -> String? {
        var i = 0
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        guard i + 5 < b.count, b[i] == UInt8(ascii: "<"), b[i + 1] == UInt8(ascii: "?"),
            b[i + 2] | 0x20 == UInt8(ascii: "x"), b[i + 3] | 0x20 == UInt8(ascii: "m"), b[i + 4] | 0x20 == UInt8(ascii: "l")
        else { return nil }
        var end = i + 5
        while end + 1 < b.count, end < i + 300, !(b[end] == UInt8(ascii: "?") && b[end + 1] == UInt8(ascii: ">")) { end += 1 }
        let decl = String(decoding: b[i..<end], as: UTF8.self)
        guard let r = decl.range(of: "encoding") else { return nil }
        var rest = decl[r.upperBound...].drop(while: { $0 == " " || $0 == "=" })
        guard let q = rest.first, q == "\"" || q == "'" else { return nil }
        rest = rest.dropFirst()
        return String(rest.prefix(while: { $0 != q }))
    }

    // MARK: decoding

    private mutating func decode(_ input: UnsafeRawBufferPointer, final: Bool) {
        if case .undecided = decoder { return }
        if !carry.isEmpty {
            // The last chunk ended inside a sequence: decode it joined with these bytes.
            var joined = carry
            carry = []
            joined.append(contentsOf: input)
            joined.withUnsafeBytes { decode($0, final: final) }
            return
        }
        switch decoder {
        case .undecided:
            return
        case .windows1252:
            appendWindows1252(input[...])
        case .iconv(let c):
            var converted: [UInt8] = []
            converted.reserveCapacity(input.count * 2)
            let left = c.convert(input, into: &converted, final: final)
            if left > 0 { carry.append(contentsOf: input.suffix(left)) }
            converted.withUnsafeBytes { appendUTF8($0[...], sawMultibyte: true) }
        case .utf8(let saw):
            appendUTF8(input[...], sawMultibyte: saw, final: final)
        }
    }

    private mutating func appendWindows1252(_ input: Slice<UnsafeRawBufferPointer>) {
        decoded.reserveCapacity(decoded.count + input.count + input.count / 8)
        for b in input {
            if b < 0x80 {
                if b >= 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { decoded.append(b) }
                continue
            }
            let s = Windows1252.scalar(b) ?? "\u{FFFD}"
            appendScalar(s.value)
        }
    }

    @inline(__always) private mutating func appendScalar(_ v: UInt32) {
        if v < 0x80 {
            decoded.append(UInt8(v))
        } else if v < 0x800 {
            decoded.append(UInt8(0xC0 | v >> 6)); decoded.append(UInt8(0x80 | v & 0x3F))
        } else if v < 0x10000 {
            decoded.append(UInt8(0xE0 | v >> 12)); decoded.append(UInt8(0x80 | (v >> 6) & 0x3F))
            decoded.append(UInt8(0x80 | v & 0x3F))
        } else {
            decoded.append(UInt8(0xF0 | v >> 18)); decoded.append(UInt8(0x80 | (v >> 12) & 0x3F))
            decoded.append(UInt8(0x80 | (v >> 6) & 0x3F)); decoded.append(UInt8(0x80 | v & 0x3F))
        }
    }

    /// Validates UTF-8, copying it to `decoded` without the control characters
    /// XML forbids and without U+FFFE/U+FFFF. An invalid byte before any valid
    /// multi-byte sequence means the document is not UTF-8 at all: everything so
    /// far was ASCII, so the rest is read as the fallback charset (the HTTP
    /// charset, else windows-1252) with nothing lost. Later invalid bytes become U+FFFD.
    private mutating func appendUTF8(_ input: Slice<UnsafeRawBufferPointer>, sawMultibyte: Bool, final: Bool = true) {
        var saw = sawMultibyte
        decoded.reserveCapacity(decoded.count + input.count)
        var i = input.startIndex
        let end = input.endIndex
        while i < end {
            // Fast path: a run of printable ASCII (and tab/newline) is copied whole.
            let j = ByteScan.nextNonPrintableASCII(UnsafeRawBufferPointer(rebasing: input), from: i - input.startIndex, to: end - input.startIndex) + input.startIndex
            if j > i {
                decoded.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[i..<j]))
                i = j
                if i >= end { break }
            }
            if input[i] < 0x80 {
                i += 1  // a control character XML forbids
                continue
            }
            let length = UTF8String.sequenceLength(UnsafeRawBufferPointer(rebasing: input), at: i - input.startIndex)
            if length > 0 {
                saw = true
                if Self.isFFFEOrFFFF(input, at: i, length: length) {
                    decoded.append(contentsOf: [0xEF, 0xBF, 0xBD])  // no XML characters
                } else {
                    decoded.append(contentsOf: input[i..<(i + length)])
                }
                i += length
                continue
            }
            if !final, Self.startsASequenceCutShort(input, at: i) {
                // An incomplete sequence at the end of the chunk: wait for the rest.
                carry.append(contentsOf: input[i..<end])
                break
            }
            if !saw {
                // Not UTF-8: read the rest in the fallback charset.
                if let http = httpCharset, http != .utf8, case .iconv(let name) = http, let c = IconvConverter(from: name) {
                    decoder = .iconv(c)
                    encodingUsed = name
                    decode(UnsafeRawBufferPointer(rebasing: input[i..<end]), final: final)
                } else {
                    decoder = .windows1252
                    encodingUsed = "windows-1252"
                    appendWindows1252(input[i..<end])
                }
                return
            }
            decoded.append(contentsOf: [0xEF, 0xBF, 0xBD])
            i += 1
        }
        if case .utf8 = decoder { decoder = .utf8(sawMultibyte: saw) }
    }
}
