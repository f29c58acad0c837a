/// What the parser's outputs promise, checked apart from the code that makes them.

/// Plain text as the renderer promises it: paragraphs apart by one blank line,
/// lines by "\n", words by one space; no white space at either end or beside a
/// line break; no C0 control characters but "\n".
public enum PlainText {
    public static func problem(in text: String) -> String? {
        let b = Array(text.utf8)
        if let f = b.first, f == 0x20 || f == 0x0A { return "white space at the start" }
        if let l = b.last, l == 0x20 || l == 0x0A { return "white space at the end" }
        for (i, c) in b.enumerated() {
            if c < 0x20 && c != 0x0A { return "control character \(c) at \(i)" }
            guard i > 0 else { continue }
            switch (b[i - 1], c) {
            case (0x20, 0x20): return "two spaces at \(i)"
            case (0x20, 0x0A), (0x0A, 0x20): return "a space beside a line break at \(i)"
            case (0x0A, 0x0A) where i > 1 && b[i - 2] == 0x0A: return "three line breaks at \(i)"
            default: break
            }
        }
        return nil
    }
}

/// What sanitized HTML may hold, checked on its bytes: only allowlisted elements,
/// properly nested, with allowlisted attributes written `name="value"`; text and
/// values escaped; URL attributes whose scheme, read as a browser reads it, is
/// http(s) (links also mailto, tel, ftp) or none.
public enum SafeHTML {
    static let elements = Set("""
        p div h1 h2 h3 h4 h5 h6 blockquote pre ul ol dl dt dd table thead tbody tfoot tr caption figure figcaption
        section article aside header footer address details summary li hr br td th a abbr acronym b bdi bdo big
        cite code del dfn em i ins kbd mark q s samp small span strike strong sub sup time tt u var rp rt ruby
        colgroup audio video picture img wbr col source track
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
    static let void: Set<String> = ["hr", "br", "img", "wbr", "col", "source", "track"]
    static let global: Set<String> = ["title", "lang", "dir"]
    static let perElement: [String: Set<String>] = [
        "a": ["href", "hreflang"], "img": ["src", "alt", "width", "height"],
        "blockquote": ["cite"], "q": ["cite"], "del": ["cite"], "ins": ["cite"],
        "td": ["colspan", "rowspan", "headers", "scope"], "th": ["colspan", "rowspan", "headers", "scope"],
        "ol": ["start", "reversed", "type"], "li": ["value"], "time": ["datetime"],
        "audio": ["src", "controls"], "video": ["src", "controls", "poster", "width", "height"],
        "source": ["src", "type"], "track": ["src", "kind", "srclang", "label"], "col": ["span"], "colgroup": ["span"],
    ]
    static let urlAttributes: Set<String> = ["href", "src", "cite", "poster"]

    public static func problem(in html: String) -> String? {
        let b = Array(html.utf8)
        var open: [String] = []
        var i = 0
        func name(at start: Int) -> (String, Int) {
            var j = start
            while j < b.count, (b[j] >= 0x61 && b[j] <= 0x7A) || (b[j] >= 0x30 && b[j] <= 0x39) { j += 1 }
            return (String(decoding: b[start..<j], as: UTF8.self), j)
        }
        while i < b.count {
            switch b[i] {
            case UInt8(ascii: ">"):
                return "a '>' in text at \(i)"
            case UInt8(ascii: "&"):
                var j = i + 1
                while j < b.count, b[j] == 0x23 || (b[j] | 0x20 >= 0x61 && b[j] | 0x20 <= 0x7A) || (b[j] >= 0x30 && b[j] <= 0x39) { j += 1 }
                if j == i + 1 { return "a bare '&' in text at \(i)" }
                i = j
            case UInt8(ascii: "<"):
                if i + 1 < b.count, b[i + 1] == UInt8(ascii: "/") {
                    let (element, j) = name(at: i + 2)
                    guard j < b.count, b[j] == UInt8(ascii: ">") else { return "a malformed end tag at \(i)" }
                    guard open.last == element else { return "</\(element)> at \(i) closes \(open.last ?? "nothing")" }
                    open.removeLast()
                    i = j + 1
                    continue
                }
                let (element, afterName) = name(at: i + 1)
                guard elements.contains(element) else { return "element <\(element)> at \(i)" }
                var j = afterName
                while j < b.count, b[j] == 0x20 {
                    let (attribute, afterAttribute) = name(at: j + 1)
                    guard global.contains(attribute) || perElement[element]?.contains(attribute) == true else {
                        return "attribute \(attribute) on <\(element)> at \(j)"
                    }
                    guard afterAttribute + 1 < b.count, b[afterAttribute] == UInt8(ascii: "="), b[afterAttribute + 1] == 0x22 else {
                        return "attribute \(attribute) at \(j) is not name=\"value\""
                    }
                    var k = afterAttribute + 2
                    while k < b.count, b[k] != 0x22, b[k] != UInt8(ascii: "<"), b[k] != UInt8(ascii: ">") { k += 1 }
                    guard k < b.count, b[k] == 0x22 else { return "attribute \(attribute) at \(j): an unescaped '<' or '>' or no closing quote" }
                    guard let value = decodedValue(b[(afterAttribute + 2)..<k]) else {
                        return "attribute \(attribute) at \(j): a '&' that is not &amp; &lt; &gt; &quot;"
                    }
                    if urlAttributes.contains(attribute), let scheme = scheme(of: value) {
                        let allowed: Set<String> = attribute == "href" ? ["http", "https", "mailto", "tel", "ftp"] : ["http", "https"]
                        guard allowed.contains(scheme) else { return "\(attribute) with scheme \(scheme) at \(j)" }
                    }
                    j = k + 1
                }
                guard j < b.count, b[j] == UInt8(ascii: ">") else { return "start tag <\(element)> at \(i) does not end in '>'" }
                if !void.contains(element) { open.append(element) }
                i = j + 1
            default:
                i += 1
            }
        }
        return open.isEmpty ? nil : "left open: \(open)"
    }

    /// An attribute value as a browser reads it (the sanitizer escapes with these four only).
    static func decodedValue(_ raw: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var i = raw.startIndex
        while i < raw.endIndex {
            guard raw[i] == UInt8(ascii: "&") else { out.append(raw[i]); i += 1; continue }
            let rest = raw[i...]
            if rest.starts(with: "&amp;".utf8) { out.append(UInt8(ascii: "&")); i += 5 }
            else if rest.starts(with: "&lt;".utf8) { out.append(UInt8(ascii: "<")); i += 4 }
            else if rest.starts(with: "&gt;".utf8) { out.append(UInt8(ascii: ">")); i += 4 }
            else if rest.starts(with: "&quot;".utf8) { out.append(0x22); i += 6 }
            else { return nil }
        }
        return out
    }

    /// The URL's scheme, lowercased, as the WHATWG URL parser finds it: leading and
    /// trailing C0 controls and spaces stripped, tabs and newlines removed anywhere,
    /// then a letter and letters, digits, '+', '-', '.' up to a ':'. Nil: relative.
    static func scheme(of value: [UInt8]) -> String? {
        var v = value
        while let f = v.first, f <= 0x20 { v.removeFirst() }
        while let l = v.last, l <= 0x20 { v.removeLast() }
        v.removeAll { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        guard let colon = v.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return nil }
        let s = v[..<colon]
        guard s.first!.isLetter, s.allSatisfy({ $0.isLetter || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E }) else {
            return nil
        }
        return String(decoding: s, as: UTF8.self).lowercased()
    }
}

private extension UInt8 {
    var isLetter: Bool { self | 0x20 >= 0x61 && self | 0x20 <= 0x7A }
}
