import CByteScan
import Foundation

/// Sanitized HTML and plain text of one HTML fragment, made in a single pass.
public struct HTMLRendering: Sendable, Hashable {
    /// The fragment with only allowlisted elements and attributes, URLs absolute
    /// and checked, every element closed. Empty when sanitizing was not asked for.
    public var html: String
    /// Plain text: block elements become paragraph breaks ("\n\n"), `br` and `li`
    /// line breaks, entities decoded, other whitespace collapsed to one space.
    public var text: String
}

/// Renders untrusted HTML (a feed's description or content) as sanitized HTML
/// and as plain text.
///
/// The tokenizer is forgiving in the way browsers are: unclosed tags are closed,
/// stray end tags are ignored, a `<` that starts no tag is text, and an `&` that
/// starts no character reference is a literal ampersand. Everything inside
/// `script`, `style`, `iframe`, `object`, `svg`, forms and similar is removed.
public enum HTMLRenderer {
    /// Renders `html`. `baseURL` makes relative links absolute; without it they stay relative.
    public static func render(
        _ html: some StringProtocol, baseURL: URL? = nil, sanitize: Bool = true, text: Bool = true
    ) -> HTMLRendering {
        var bytes = Array(html.utf8)
        return render(bytes: &bytes, baseURL: baseURL, sanitize: sanitize, text: text)
    }

    /// Renders UTF-8 bytes into Strings.
    /// `trimmingHTML` drops white space at both ends of the sanitized HTML.
    public static func render(
        bytes: inout [UInt8], baseURL: URL?, sanitize: Bool = true, text: Bool = true, trimmingHTML: Bool = false
    ) -> HTMLRendering {
        var buffers = HTMLRenderBuffers()
        bytes.withUnsafeBufferPointer {
            render($0, baseURL: baseURL, sanitize: sanitize, text: text, trimmingHTML: trimmingHTML, into: &buffers)
        }
        return buffers.withOutput { HTMLRendering(html: UTF8String.make($0), text: UTF8String.make($1)) }
    }

    /// Renders UTF-8 bytes into `buffers`, which keep their memory from one render
    /// to the next; the variant the feed parser uses, so that a story's HTML and
    /// text are copied into its item without a String on the way.
    public static func render(
        _ input: UnsafeBufferPointer<UInt8>, baseURL: URL?, sanitize: Bool = true, text: Bool = true,
        trimmingHTML: Bool = false, into buffers: inout HTMLRenderBuffers
    ) {
        var r = Renderer(input: input, baseURL: baseURL, wantHTML: sanitize, wantText: text, buffers: buffers)
        r.run()
        buffers = r.finish()
        var start = 0, end = buffers.html.count
        if trimmingHTML {
            while start < end, TextBytes.isSpace(buffers.html[start]) { start += 1 }
            while end > start, TextBytes.isSpace(buffers.html[end - 1]) { end -= 1 }
        }
        buffers.htmlRange = start..<end
    }
}

/// An attribute of the tag being read: its name's packed key and where its name
/// and value are in the input.
typealias TagAttribute = (key: UInt64, nameStart: Int, valueStart: Int, valueEnd: Int)

/// Where `HTMLRenderer` writes a render's sanitized HTML and plain text, kept
/// for the next render (a story's two outputs were two new buffers, then two
/// Strings, then copies in its item).
public struct HTMLRenderBuffers: ~Copyable {
    var html: ByteSink
    var text: ByteSink
    var htmlRange = 0..<0
    /// The renderer's working state, kept for its room: allowed elements open, the
    /// attributes of a tag, an attribute value (each was an allocation per story).
    var open: [UInt64]
    var attrs: [TagAttribute]
    var scratch: ByteSink

    public init() {
        self.init(
            html: ByteSink(capacity: 4096), text: ByteSink(capacity: 4096), open: [], attrs: [], scratch: ByteSink(capacity: 128))
        open.reserveCapacity(16)
        attrs.reserveCapacity(8)
    }

    init(
        html: consuming ByteSink, text: consuming ByteSink, open: [UInt64],
        attrs: [TagAttribute], scratch: consuming ByteSink
    ) {
        self.html = html
        self.text = text
        self.open = open
        self.attrs = attrs
        self.scratch = scratch
    }

    /// The last render's sanitized HTML (trimmed when it asked) and plain text.
    /// Well-formed UTF-8 when the input was (each character is copied whole or
    /// written from a decoded reference), but check before relying on it: a
    /// caller may have cut its input mid-character.
    public func withOutput<R>(_ body: (_ html: UnsafeBufferPointer<UInt8>, _ text: UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(rebasing: html.bytes[htmlRange]), text.bytes)
    }
}

/// Plain text of HTML, as `HTMLRenderer` makes it.
public enum TextExtractor {
    public static func text(fromHTML html: some StringProtocol) -> String {
        HTMLRenderer.render(html, sanitize: false, text: true).text
    }
}

/// HTML with only safe markup left (see `HTMLRenderer`).
public enum Sanitizer {
    public static func sanitize(_ html: some StringProtocol, baseURL: URL? = nil) -> String {
        HTMLRenderer.render(html, baseURL: baseURL, sanitize: true, text: false).html
    }

    /// Whether a URL may appear in sanitized HTML: http, https, and for links
    /// also mailto, tel and ftp. `javascript:`, `data:` and the rest are refused,
    /// also when disguised with whitespace, control characters or case.
    public static func isAllowedURL(_ value: String, isLink: Bool) -> Bool {
        switch URLText.schemeKind(of: Array(value.utf8)) {
        case .relative, .http: return true
        case .linkOnly: return isLink
        case .other: return false
        }
    }
}

private let lt = UInt8(ascii: "<"), gt = UInt8(ascii: ">"), amp = UInt8(ascii: "&")
private let slash = UInt8(ascii: "/"), bang = UInt8(ascii: "!"), question = UInt8(ascii: "?")
private let quote = UInt8(ascii: "\""), apostrophe = UInt8(ascii: "'"), equals = UInt8(ascii: "=")

/// A C0 control character that is not white space: dropped from both outputs.
@inline(__always) private func isControl(_ c: UInt8) -> Bool {
    c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0C && c != 0x0D
}

@inline(__always) private func isSpace(_ c: UInt8) -> Bool {
    c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D || c == 0x0C
}

/// A byte `feedspool_plain_text_run` takes as it is (a run starts with one).
@inline(__always) private func isPlain(_ c: UInt8) -> Bool {
    c > 0x20 && c != amp && c != lt && c != gt && c != 0xC2 && c != 0xA0
}
@inline(__always) private func isLetter(_ c: UInt8) -> Bool { c | 0x20 >= 0x61 && c | 0x20 <= 0x7A }

private struct Renderer: ~Copyable {
    let input: UnsafeBufferPointer<UInt8>
    let baseURL: URL?
    let wantHTML: Bool
    let wantText: Bool
    var html: ByteSink
    var text: ByteSink
    var pendingSpace = false
    /// 0: none, 1: a line break, 2: a paragraph break is owed before the next text.
    var pendingBreak = 0
    /// Allowed elements open in `html`, innermost last.
    var open: [UInt64] = []
    /// How deep kept elements may nest in `html`. Past it their tags are not
    /// written (their text is), so that every tag written is closed.
    static let maxOpen = 200
    /// Start tags not written for `maxOpen`, whose end tags are still to come.
    var tooDeep = 0
    /// Reused for attribute values, so that sanitizing a tag allocates nothing.
    var scratch: ByteSink
    /// The attributes of the tag being read, reused from tag to tag.
    /// Its first `attrCount` entries; later ones are stale (emptying the array per
    /// tag went through Array's generic range replacement).
    var attrs: [TagAttribute] = []
    var attrCount = 0
    /// Inside a dropped element: its name and how deeply it nests.
    var dropKey: UInt64 = 0
    var dropDepth = 0

    /// A renderer working in `buffers` (emptied), which `finish` gives back: every
    /// buffer it writes or keeps state in is kept from one render to the next.
    init(input: UnsafeBufferPointer<UInt8>, baseURL: URL?, wantHTML: Bool, wantText: Bool, buffers: consuming HTMLRenderBuffers) {
        self.input = input
        self.baseURL = baseURL
        self.wantHTML = wantHTML
        self.wantText = wantText
        let b = buffers
        html = b.html
        text = b.text
        open = b.open
        attrs = b.attrs
        scratch = b.scratch
        html.removeAll()
        text.removeAll()
        open.removeAll(keepingCapacity: true)
        if wantHTML { html.reserve(input.count + input.count / 8) }
        if wantText { text.reserve(input.count) }
    }

    /// The buffers back, holding this render's output.
    consuming func finish() -> HTMLRenderBuffers {
        HTMLRenderBuffers(html: html, text: text, open: open, attrs: attrs, scratch: scratch)
    }

    mutating func run() {
        var i = 0
        let n = input.count
        while i < n {
            if input[i] == lt {
                i = markup(at: i)
            } else if dropDepth > 0 {
                i = ByteScan.next(input, from: i, to: n, lt)  // the text of a dropped element
            } else {
                // Text up to the next '<', read once: the scan for plain runs stops at
                // it (a search for '<' first read all text twice).
                i = emitText(i, n, stopAtTag: true)
            }
        }
        if wantHTML {
            while let key = open.popLast() { writeEndTag(key) }
        }
        if wantText {
            while let last = text.last, last == 0x20 || last == 0x0A { text.removeLast() }
        }
    }

    /// Handles the markup that starts with '<' at `i`; returns where to go on.
    mutating func markup(at i: Int) -> Int {
        let n = input.count
        guard i + 1 < n else {
            if dropDepth == 0 { _ = emitText(i, n, stopAtTag: false) }
            return n
        }
        let c = input[i + 1]
        if c == bang || c == question {
            // Comment, doctype, CDATA marker or processing instruction: skipped.
            if c == bang, i + 3 < n, input[i + 2] == UInt8(ascii: "-"), input[i + 3] == UInt8(ascii: "-") {
                var j = i + 4
                while j + 2 < n && !(input[j] == UInt8(ascii: "-") && input[j + 1] == UInt8(ascii: "-") && input[j + 2] == gt) { j += 1 }
                return min(n, j + 3)
            }
            var j = i + 2
            while j < n && input[j] != gt { j += 1 }
            return min(n, j + 1)
        }
        let isEnd = c == slash
        let nameStart = isEnd ? i + 2 : i + 1
        guard nameStart < n, isLetter(input[nameStart]) else {
            if isEnd {  // "</>" or "</ 3": skip to '>' like browsers do
                var j = i + 2
                while j < n && input[j] != gt { j += 1 }
                return min(n, j + 1)
            }
            if dropDepth == 0 { _ = emitText(i, i + 1, stopAtTag: false) }  // a literal '<'
            return i + 1
        }
        var j = nameStart
        while j < n && !isSpace(input[j]) && input[j] != slash && input[j] != gt { j += 1 }
        let nameEnd = j
        let key = packName(input, nameStart, j)
        let traits = HTMLTags.traits[key] ?? []
        // Attributes, up to the closing '>'.
        attrCount = 0
        var selfClosing = false
        while j < n {
            while j < n && (isSpace(input[j]) || input[j] == slash) {
                if input[j] == slash { selfClosing = true }
                j += 1
            }
            if j >= n || input[j] == gt { break }
            selfClosing = false
            let aStart = j
            while j < n && !isSpace(input[j]) && input[j] != slash && input[j] != gt && input[j] != equals { j += 1 }
            let aKey = packName(input, aStart, j)
            if j == aStart { j += 1; continue }  // a stray '=' or the like
            while j < n && isSpace(input[j]) { j += 1 }
            var vStart = j, vEnd = j
            if j < n && input[j] == equals {
                j += 1
                while j < n && isSpace(input[j]) { j += 1 }
                if j < n && (input[j] == quote || input[j] == apostrophe) {
                    let q = input[j]
                    vStart = j + 1
                    j = ByteScan.next(input, from: j + 1, to: n, q)  // eight bytes a step: URLs are long
                    vEnd = j
                    if j < n { j += 1 }
                } else {
                    vStart = j
                    while j < n && !isSpace(input[j]) && input[j] != gt { j += 1 }
                    vEnd = j
                }
            }
            if !isEnd && wantHTML && dropDepth == 0 {
                let a = TagAttribute(key: aKey, nameStart: aStart, valueStart: vStart, valueEnd: vEnd)
                if attrCount < attrs.count { attrs[attrCount] = a } else { attrs.append(a) }
                attrCount += 1
            }
        }
        let after = min(n, j + 1)

        if dropDepth > 0 {
            if key == dropKey {
                if isEnd { dropDepth -= 1 } else if !selfClosing { dropDepth += 1 }
            }
            return after
        }
        if traits.contains(.drop) {
            if isEnd || traits.contains(.void) || selfClosing { return after }
            if traits.contains(.raw) { return skipRawText(from: after, nameStart: nameStart, nameEnd: nameStart + (packLength(key))) }
            dropKey = key
            dropDepth = 1
            return after
        }
        if wantText {
            if traits.contains(.block) { pendingBreak = 2 }
            else if traits.contains(.line) { pendingBreak = max(pendingBreak, 1) }
            else if traits.contains(.cell) { pendingSpace = true }
        }
        guard wantHTML, traits.contains(.keep) else { return after }
        if isEnd {
            if traits.contains(.void) { return after }
            if tooDeep > 0 { tooDeep -= 1; return after }  // taken as the end of one not written
            if let idx = open.lastIndex(of: key) {
                while open.count > idx + 1 { writeEndTag(open.removeLast()) }
                open.removeLast()
                html.append(lt)
                html.append(slash)
                appendName(nameStart, nameEnd)
                html.append(gt)
            }
            return after
        }
        if !traits.contains(.void) {
            guard open.count < Self.maxOpen else { tooDeep += 1; return after }
            open.append(key)
        }
        writeStartTag(key, nameStart, nameEnd)
        return after
    }

    func packLength(_ key: UInt64) -> Int {
        var k = key, len = 0
        while k != 0 { k >>= 6; len += 1 }
        return len
    }

    /// Skips the content of a raw-text element up to its end tag.
    func skipRawText(from start: Int, nameStart: Int, nameEnd: Int) -> Int {
        let n = input.count
        let len = nameEnd - nameStart
        var j = start
        while j + 1 + len < n {
            if input[j] == lt && input[j + 1] == slash {
                var same = true
                for k in 0..<len where input[j + 2 + k] | 0x20 != input[nameStart + k] | 0x20 { same = false; break }
                if same {
                    var e = j + 2 + len
                    while e < n && input[e] != gt { e += 1 }
                    return min(n, e + 1)
                }
            }
            j += 1
        }
        return n
    }

    /// Writes the text in `start..<end`, or, with `stopAtTag`, up to the first '<'
    /// there; returns where it stopped.
    mutating func emitText(_ start: Int, _ end: Int, stopAtTag: Bool) -> Int {
        var i = start
        while i < end {
            // Fast path: a run of bytes that need no escaping, decoding or collapsing.
            // A single space between two plain bytes is plain too, so runs span sentences.
            // Found sixteen bytes at a time (a loop over the bytes branched on every space).
            // (Called only when the first byte is plain: a run cannot start at a space or
            // at a byte that needs work: in the benchmark, 210,000 of 350,000 calls found none.)
            let j = isPlain(input[i]) ? i + feedspool_plain_text_run(input.baseAddress! + i, end - i) : i
            if j > i {
                let run = UnsafeBufferPointer(rebasing: input[i..<j])
                if wantHTML { html.append(contentsOf: run) }
                if wantText {
                    textByte(run[0])  // settles pending space or break
                    if run.count > 1 { text.append(contentsOf: UnsafeBufferPointer(rebasing: run[1...])) }
                }
                i = j
                if i >= end { break }
            }
            let c = input[i]
            if c == lt && stopAtTag { return i }
            if c == amp {
                if let (len, value) = HTMLEntities.referenceBytes(in: input, at: i), i + len <= end {
                    // Written as its character, escaped: `&lt;` and `&amp;` come out as they went
                    // in, and a reference written otherwise (`&#60;`, or `&gt` without its ';')
                    // in the one form that reads the same whatever follows it.
                    if wantHTML { appendEscaped(value, to: &html) }
                    if wantText {
                        if value.count == 2 && value[0] == 0xC2 && value[1] == 0xA0 {
                            textByte(0x20)  // U+00A0 (no-break space) is a space in plain text
                        } else {
                            // The first byte settles a space or break owed; the rest go as they
                            // are (no reference's value has white space or a control after its
                            // first byte: checked over the table, EntityTableTests).
                            textByte(value[0])
                            if value.count > 1 { text.append(contentsOf: ShortUTF8(packed: value.packed >> 8, count: value.count - 1)) }
                        }
                    }
                    i += len
                    continue
                }
                if wantHTML { html.append(literal: "&amp;") }
                if wantText { textByte(amp) }
                i += 1
                continue
            }
            if isControl(c) { i += 1; continue }
            if c == 0xC2, i + 1 < end, input[i + 1] == 0xA0 {
                // U+00A0 (no-break space): kept in the HTML, a space in plain text. Read as
                // one character: a break owed before the next text must wait for real text.
                if wantHTML { html.append(c); html.append(0xA0) }
                if wantText { textByte(0x20) }
                i += 2
                continue
            }
            if wantHTML {
                if c == gt { html.append(literal: "&gt;") }
                else if c == lt { html.append(literal: "&lt;") }
                else { html.append(c) }
            }
            if wantText { textByte(c) }
            i += 1
        }
        return i
    }

    /// Appends one byte of decoded text to the plain-text output, collapsing whitespace.
    @inline(__always) mutating func textByte(_ c: UInt8) {
        if isSpace(c) { pendingSpace = true; return }
        if isControl(c) { return }  // from a reference such as `&#1;`
        if !text.isEmpty {
            if pendingBreak == 2 {
                text.append(0x0A); text.append(0x0A)
            } else if pendingBreak == 1 {
                text.append(0x0A)
            } else if pendingSpace && text.last != 0x0A && text.last != 0x20 {
                text.append(0x20)
            }
        }
        pendingBreak = 0
        pendingSpace = false
        text.append(c)
    }

    /// The start tag of the element `key`, whose name is `input[nameStart..<nameEnd]`.
    mutating func writeStartTag(_ key: UInt64, _ nameStart: Int, _ nameEnd: Int) {
        html.append(lt)
        appendName(nameStart, nameEnd)
        let elementBit = attrCount == 0 ? 0 : HTMLTags.elementBits[key] ?? 0
        for k in 0..<attrCount {
            let a = attrs[k]
            guard a.key != 0, let policy = HTMLTags.attributePolicy[a.key], policy.isAllowed(onElementBit: elementBit) else { continue }
            if k > 0 && (0..<k).contains(where: { attrs[$0].key == a.key }) { continue }  // first one wins
            // The name as written, lowercased: a key that packs (as an allowed one does)
            // is letters, digits and '-', one per six bits.
            let nameEnd = a.nameStart + (64 - a.key.leadingZeroBitCount + 5) / 6
            var start = a.valueStart, end = a.valueEnd
            if Self.isPlainValue(input, start, end) {
                // Nothing to decode or escape (most values): written from the input, as
                // `decodeAttribute`, `checkURL` and `appendEscaped` would write it; a
                // relative URL with a base to resolve it against goes their way.
                var resolve = false
                if policy.isURL {
                    while start < end, input[start] == 0x20 { start += 1 }
                    while end > start, input[end - 1] == 0x20 { end -= 1 }
                    switch URLText.schemeKind(of: UnsafeBufferPointer(rebasing: input[start..<end])) {
                    case .http: break
                    case .relative: resolve = baseURL != nil
                    case .linkOnly: if a.key != HTMLTags.href { continue }
                    case .other: continue
                    }
                }
                if !resolve {
                    html.append(0x20)
                    appendName(a.nameStart, nameEnd)
                    html.append(literal: "=\"")
                    html.append(contentsOf: UnsafeBufferPointer(rebasing: input[start..<end]))
                    html.append(quote)
                    continue
                }
            }
            Self.decodeAttribute(input, a.valueStart, a.valueEnd, into: &scratch)
            if policy.isURL {
                guard Self.checkURL(&scratch, isLink: a.key == HTMLTags.href, baseURL: baseURL) else { continue }
            }
            html.append(0x20)
            appendName(a.nameStart, nameEnd)
            html.append(literal: "=\"")
            appendEscaped(scratch.bytes, to: &html)
            html.append(quote)
        }
        html.append(gt)
    }

    mutating func writeEndTag(_ key: UInt64) {
        html.append(lt)
        html.append(slash)
        appendName(key)
        html.append(gt)
    }

    /// Writes a name as it is in the input, lowercased: the name of an element whose
    /// key was packed from these bytes (letters, digits and '-' only, at most ten),
    /// so `| 0x20` lowercases the letters and leaves the rest (cheaper than spelling
    /// the key out again).
    @inline(__always) mutating func appendName(_ start: Int, _ end: Int) {
        html.append(contentsOf: UnsafeBufferPointer(rebasing: input[start..<end]), setting: 0x20)
    }

    /// Writes the name a packed key stands for (see `packName`), without allocating:
    /// spelled into two words and stored at once (spelled into a tuple and copied,
    /// a name cost a hundred instructions).
    mutating func appendName(_ key: UInt64) {
        let count = (64 - key.leadingZeroBitCount + 5) / 6
        var low: UInt64 = 0, high: UInt64 = 0
        var k = key, position = count
        while k != 0 {
            // Last character first: each is the key's lowest six bits in turn.
            position -= 1
            let v = k & 63
            let c: UInt64 = v <= 26 ? v + 0x60 : v <= 36 ? v - 27 + 0x30 : 0x2D
            if position < 8 { low |= c << UInt64(8 * position) } else { high |= c << UInt64(8 * (position - 8)) }
            k >>= 6
        }
        html.append(word: low, word: high, count: count)
    }

    /// Whether `input[start..<end]` holds no byte below 0x20 and no `&`, `<`, `>`
    /// or `"`: an attribute value that decoding and escaping leave as it is.
    @inline(__always) static func isPlainValue(_ input: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        guard end > start, let base = input.baseAddress else { return true }
        return feedspool_is_plain_attribute_value(base + start, end - start) != 0
    }

    /// An attribute value with its character references decoded, into `out` (cleared first).
    /// (Static, with the input passed in: a method of `self` given `&self.scratch`
    /// made Swift copy the whole renderer for every attribute.)
    /// (A `ByteSink`, not an array: emptying an array and appending to it took some
    /// 360 instructions an attribute through Array's generic paths.)
    static func decodeAttribute(_ input: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, into out: inout ByteSink) {
        out.removeAll()
        var i = start
        while i < end {
            // A run without references or control characters: copied at once.
            var j = i
            while j < end, input[j] != amp, !isControl(input[j]) { j += 1 }
            if j > i {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: input[i..<j]))
                i = j
                if i >= end { break }
            }
            if input[i] == amp, let (len, value) = HTMLEntities.referenceBytes(in: input, at: i, inAttribute: true),
                i + len <= end
            {
                // Controls go before the URL check sees the value, as they will not be written.
                for b in value where !isControl(b) { out.append(b) }
                i += len
            } else {
                if !isControl(input[i]) { out.append(input[i]) }
                i += 1
            }
        }
    }

    /// Checks a URL attribute value in place: trims it, refuses a disallowed
    /// scheme (returns false), and makes a relative one absolute when there is a base.
    static func checkURL(_ value: inout ByteSink, isLink: Bool, baseURL: URL?) -> Bool {
        var start = 0, end = value.count
        while start < end, value[start] <= 0x20 { start += 1 }
        while end > start, value[end - 1] <= 0x20 { end -= 1 }
        value.truncate(to: end)
        value.removeFirst(start)
        let scheme = URLText.schemeKind(of: value.bytes)
        switch scheme {
        case .relative, .http: break
        case .linkOnly: if !isLink { return false }
        case .other: return false
        }
        if scheme == .relative, let baseURL {
            let resolved = URLText.resolve(String(decoding: value.bytes, as: UTF8.self), against: baseURL)
            value.removeAll()
            value.append(contentsOf: Array(resolved.utf8))
        }
        return true
    }
}

private func appendEscaped(_ b: UnsafeBufferPointer<UInt8>, to out: inout ByteSink) {
    var i = 0
    while i < b.count {
        var j = i
        while j < b.count, b[j] != amp, b[j] != lt, b[j] != gt, b[j] != quote, !isControl(b[j]) { j += 1 }
        if j > i { out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<j])) }
        guard j < b.count else { return }
        appendEscaped(CollectionOfOne(b[j]), to: &out)
        i = j + 1
    }
}

private func appendEscaped<C: Sequence>(_ bytes: C, to out: inout ByteSink) where C.Element == UInt8 {
    for b in bytes {
        switch b {
        case amp: out.append(literal: "&amp;")
        case lt: out.append(literal: "&lt;")
        case gt: out.append(literal: "&gt;")
        case quote: out.append(literal: "&quot;")
        case _ where isControl(b): break
        default: out.append(b)
        }
    }
}
