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

    /// Renders UTF-8 bytes; the variant the feed parser uses to avoid a String round trip.
    public static func render(
        bytes: inout [UInt8], baseURL: URL?, sanitize: Bool = true, text: Bool = true
    ) -> HTMLRendering {
        bytes.withUnsafeBufferPointer { buf in
            var r = Renderer(input: buf, baseURL: baseURL, wantHTML: sanitize, wantText: text)
            r.run()
            return HTMLRendering(
                html: String(decoding: r.html, as: UTF8.self),
                text: String(decoding: r.text, as: UTF8.self))
        }
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
        guard let scheme = URLText.scheme(of: value) else { return true }  // relative
        switch scheme {
        case "http", "https": return true
        case "mailto", "tel", "ftp": return isLink
        default: return false
        }
    }
}

private let lt = UInt8(ascii: "<"), gt = UInt8(ascii: ">"), amp = UInt8(ascii: "&")
private let slash = UInt8(ascii: "/"), bang = UInt8(ascii: "!"), question = UInt8(ascii: "?")
private let quote = UInt8(ascii: "\""), apostrophe = UInt8(ascii: "'"), equals = UInt8(ascii: "=")

@inline(__always) private func isSpace(_ c: UInt8) -> Bool {
    c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D || c == 0x0C
}

@inline(__always) private func isLetter(_ c: UInt8) -> Bool { c | 0x20 >= 0x61 && c | 0x20 <= 0x7A }

private struct Renderer {
    let input: UnsafeBufferPointer<UInt8>
    let baseURL: URL?
    let wantHTML: Bool
    let wantText: Bool
    var html: [UInt8] = []
    var text: [UInt8] = []
    var pendingSpace = false
    /// 0: none, 1: a line break, 2: a paragraph break is owed before the next text.
    var pendingBreak = 0
    /// Allowed elements open in `html`, innermost last.
    var open: [UInt64] = []
    /// Inside a dropped element: its name and how deeply it nests.
    var dropKey: UInt64 = 0
    var dropDepth = 0

    init(input: UnsafeBufferPointer<UInt8>, baseURL: URL?, wantHTML: Bool, wantText: Bool) {
        self.input = input
        self.baseURL = baseURL
        self.wantHTML = wantHTML
        self.wantText = wantText
        if wantHTML { html.reserveCapacity(input.count) }
        if wantText { text.reserveCapacity(input.count) }
    }

    mutating func run() {
        var i = 0
        let n = input.count
        while i < n {
            // A run of text up to the next '<'.
            var j = i
            while j < n && input[j] != lt { j += 1 }
            if j > i {
                if dropDepth == 0 { emitText(i, j) }
                i = j
                continue
            }
            i = markup(at: i)
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
            if dropDepth == 0 { emitText(i, n) }
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
            if dropDepth == 0 { emitText(i, i + 1) }  // a literal '<'
            return i + 1
        }
        var j = nameStart
        while j < n && !isSpace(input[j]) && input[j] != slash && input[j] != gt { j += 1 }
        let key = packName(input, nameStart, j)
        let traits = HTMLTags.traits[key] ?? []
        // Attributes, up to the closing '>'.
        var attrs: [(key: UInt64, valueStart: Int, valueEnd: Int)] = []
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
                    j += 1
                    while j < n && input[j] != q { j += 1 }
                    vEnd = j
                    if j < n { j += 1 }
                } else {
                    vStart = j
                    while j < n && !isSpace(input[j]) && input[j] != gt { j += 1 }
                    vEnd = j
                }
            }
            if !isEnd && wantHTML && dropDepth == 0 { attrs.append((aKey, vStart, vEnd)) }
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
            if let idx = open.lastIndex(of: key) {
                while open.count > idx { writeEndTag(open.removeLast()) }
            }
            return after
        }
        writeStartTag(key, attrs: attrs)
        if !traits.contains(.void) && open.count < 200 { open.append(key) }
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

    mutating func emitText(_ start: Int, _ end: Int) {
        var i = start
        while i < end {
            let c = input[i]
            if c == amp {
                if let (len, value) = HTMLEntities.reference(in: input, at: i), i + len <= end {
                    if wantHTML {
                        if value == "<" || value == ">" || value == "&" || value == "\"" {
                            html.append(contentsOf: input[i..<(i + len)])  // already escaped: keep as written
                        } else {
                            appendEscaped(value, to: &html)
                        }
                    }
                    if wantText {
                        for b in value.utf8 { textByte(b) }
                        // U+00A0 (no-break space) counts as space in plain text.
                    }
                    i += len
                    continue
                }
                if wantHTML { html.append(contentsOf: "&amp;".utf8) }
                if wantText { textByte(amp) }
                i += 1
                continue
            }
            if c == 0 { i += 1; continue }
            if wantHTML {
                if c == gt { html.append(contentsOf: "&gt;".utf8) }
                else if c == lt { html.append(contentsOf: "&lt;".utf8) }
                else { html.append(c) }
            }
            if wantText { textByte(c) }
            i += 1
        }
    }

    /// Appends one byte of decoded text to the plain-text output, collapsing whitespace.
    @inline(__always) mutating func textByte(_ c: UInt8) {
        if isSpace(c) { pendingSpace = true; return }
        // U+00A0 arrives as C2 A0: treat as a space.
        if c == 0xA0, let last = text.last, last == 0xC2 {
            text.removeLast()
            pendingSpace = true
            return
        }
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

    mutating func writeStartTag(_ key: UInt64, attrs: [(key: UInt64, valueStart: Int, valueEnd: Int)]) {
        html.append(lt)
        appendName(key)
        let own = HTMLTags.elementAttributes[key]
        var seen: [UInt64] = []
        for a in attrs {
            guard a.key != 0, !seen.contains(a.key) else { continue }
            guard HTMLTags.globalAttributes.contains(a.key) || own?.contains(a.key) == true else { continue }
            seen.append(a.key)
            var value = decodeAttribute(a.valueStart, a.valueEnd)
            if HTMLTags.urlAttributes.contains(a.key) {
                guard let url = checkedURL(value, isLink: a.key == HTMLTags.href) else { continue }
                value = url
            }
            html.append(0x20)
            appendName(a.key)
            html.append(contentsOf: "=\"".utf8)
            appendEscaped(value, to: &html)
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

    mutating func appendName(_ key: UInt64) {
        var chars: [UInt8] = []
        var k = key
        while k != 0 {
            let v = UInt8(k & 63)
            chars.append(v <= 26 ? v + 0x60 : v <= 36 ? v - 27 + 0x30 : UInt8(ascii: "-"))
            k >>= 6
        }
        html.append(contentsOf: chars.reversed())
    }

    func decodeAttribute(_ start: Int, _ end: Int) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var i = start
        while i < end {
            if input[i] == amp, let (len, value) = HTMLEntities.reference(in: input, at: i), i + len <= end {
                out.append(contentsOf: value.utf8)
                i += len
            } else {
                if input[i] != 0 { out.append(input[i]) }
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The URL to write for an attribute value, absolute where a base is known; `nil` to drop it.
    func checkedURL(_ raw: String, isLink: Bool) -> String? {
        let value = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard Sanitizer.isAllowedURL(value, isLink: isLink) else { return nil }
        return URLText.resolve(value, against: baseURL)
    }
}

private func appendEscaped(_ s: String, to out: inout [UInt8]) {
    for b in s.utf8 {
        switch b {
        case amp: out.append(contentsOf: "&amp;".utf8)
        case lt: out.append(contentsOf: "&lt;".utf8)
        case gt: out.append(contentsOf: "&gt;".utf8)
        case quote: out.append(contentsOf: "&quot;".utf8)
        case 0: break
        default: out.append(b)
        }
    }
}
