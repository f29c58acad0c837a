import Content

/// The byte-level mending step of `InputNormalizer` (see there), on UTF-8.
struct XMLRepair {
    private enum State {
        case text
        /// Inside a start or end tag; `quote` is the open attribute quote or 0.
        case tag(quote: UInt8)
        case comment, cdata, processingInstruction
        case doctype(depth: Int, quote: UInt8)
    }

    private var state: State = .text
    /// Names the document's DOCTYPE declares with `<!ENTITY`; other unknown
    /// references are written as literal text, the way feed readers show them.
    private var declaredEntities: Set<String> = []
    private var doctypeText: [UInt8] = []

    /// Repairs as much of `input` as can be decided, appends it to `out` and
    /// leaves the undecided tail (at most a few dozen bytes) in `input`.
    mutating func run(_ input: inout [UInt8], into out: inout [UInt8], final: Bool) {
        let consumed = input.withUnsafeBufferPointer { process($0, into: &out, final: final) }
        if consumed == input.count {
            input.removeAll(keepingCapacity: true)
        } else {
            input.removeFirst(consumed)
        }
    }

    private mutating func process(_ b: UnsafeBufferPointer<UInt8>, into out: inout [UInt8], final: Bool) -> Int {
        let n = b.count
        out.reserveCapacity(out.count + n + 64)
        var i = 0
        while i < n {
            switch state {
            case .text:
                var j = i
                while j < n, b[j] != 0x3C, b[j] != 0x26 { j += 1 }
                if j > i { out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<j])); i = j; continue }
                if b[i] == 0x26 {
                    guard let used = reference(b, i, &out, final: final) else { return i }
                    i += used
                    continue
                }
                // '<'
                guard i + 1 < n else {
                    if !final { return i }
                    out.append(contentsOf: "&lt;".utf8); return n
                }
                let c = b[i + 1]
                if c == 0x21 {  // '!'
                    if starts(b, i, "<!--") {
                        out.append(contentsOf: "<!--".utf8); i += 4; state = .comment
                    } else if starts(b, i, "<![CDATA[") {
                        out.append(contentsOf: "<![CDATA[".utf8); i += 9; state = .cdata
                    } else if i + 9 > n && !final {
                        return i  // could still become one of the above
                    } else {
                        out.append(contentsOf: "<!".utf8); i += 2; state = .doctype(depth: 0, quote: 0)
                    }
                } else if c == 0x3F {  // '?'
                    out.append(contentsOf: "<?".utf8); i += 2; state = .processingInstruction
                } else if c == 0x2F || isNameStart(c) {
                    out.append(0x3C); i += 1; state = .tag(quote: 0)
                } else {
                    out.append(contentsOf: "&lt;".utf8); i += 1
                }
            case .tag(let quote):
                let c = b[i]
                if quote == 0 {
                    if c == 0x22 || c == 0x27 { state = .tag(quote: c) } else if c == 0x3E { state = .text }
                    out.append(c); i += 1
                } else if c == quote {
                    state = .tag(quote: 0); out.append(c); i += 1
                } else if c == 0x3C {
                    out.append(contentsOf: "&lt;".utf8); i += 1
                } else if c == 0x26 {
                    guard let used = reference(b, i, &out, final: final) else { return i }
                    i += used
                } else {
                    out.append(c); i += 1
                }
            case .comment:
                let (used, complete) = copy(until: "-->", b, i, &out, final: final)
                i += used
                if !complete { return i }
            case .cdata:
                let (used, complete) = copy(until: "]]>", b, i, &out, final: final)
                i += used
                if !complete { return i }
            case .processingInstruction:
                let (used, complete) = copy(until: "?>", b, i, &out, final: final)
                i += used
                if !complete { return i }
            case .doctype(let depth, let quote):
                let c = b[i]
                out.append(c); i += 1
                if doctypeText.count < 65_536 { doctypeText.append(c) }
                if quote != 0 {
                    if c == quote { state = .doctype(depth: depth, quote: 0) }
                } else if c == 0x22 || c == 0x27 {
                    state = .doctype(depth: depth, quote: c)
                } else if c == 0x5B {
                    state = .doctype(depth: depth + 1, quote: 0)
                } else if c == 0x5D {
                    state = .doctype(depth: max(0, depth - 1), quote: 0)
                } else if c == 0x3E && depth == 0 {
                    state = .text
                    noteEntityDeclarations()
                }
            }
        }
        return n
    }

    private mutating func noteEntityDeclarations() {
        let text = String(decoding: doctypeText, as: UTF8.self)
        doctypeText = []
        var rest = Substring(text)
        while let r = rest.range(of: "<!ENTITY") {
            rest = rest[r.upperBound...]
            let name = rest.drop(while: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "%" })
                .prefix(while: { !$0.isWhitespace && $0 != "\"" && $0 != "'" && $0 != ">" })
            if !name.isEmpty { declaredEntities.insert(String(name)) }
        }
    }

    @inline(__always) private func isNameStart(_ c: UInt8) -> Bool {
        (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || c == 0x5F || c == 0x3A || c >= 0x80
    }

    private func starts(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ s: StaticString) -> Bool {
        let len = s.utf8CodeUnitCount
        guard i + len <= b.count else { return false }
        let p = s.utf8Start
        for k in 0..<len where b[i + k] != p[k] { return false }
        return true
    }

    /// Copies up to and including `terminator` and returns to text. When the
    /// terminator is not in the buffer yet, copies all but a possible partial
    /// terminator and says it is not complete.
    private mutating func copy(
        until terminator: StaticString, _ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ out: inout [UInt8], final: Bool
    ) -> (Int, Bool) {
        let n = b.count
        let len = terminator.utf8CodeUnitCount
        var j = i
        while j + len <= n {
            if starts(b, j, terminator) {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<(j + len)]))
                state = .text
                return (j + len - i, true)
            }
            j += 1
        }
        if final {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<n]))
            return (n - i, true)
        }
        let keep = min(len - 1, n - i)
        out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<(n - keep)]))
        return (n - keep - i, false)
    }

    /// Writes the reference starting with '&' at `i` in a form libxml2 always
    /// expands (numeric), or `&amp;` for a bare ampersand; returns the bytes
    /// consumed, or `nil` when more input is needed to decide.
    private func reference(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ out: inout [UInt8], final: Bool) -> Int? {
        let n = b.count
        var j = i + 1
        if j < n, b[j] == 0x23 {  // '#'
            j += 1
            var hex = false
            if j < n, b[j] | 0x20 == 0x78 { hex = true; j += 1 }
            let digitsStart = j
            var value: UInt32 = 0
            while j < n, j - digitsStart < 10 {
                let c = b[j]
                let d: UInt32
                if c >= 0x30 && c <= 0x39 { d = UInt32(c - 0x30) }
                else if hex, c | 0x20 >= 0x61, c | 0x20 <= 0x66 { d = UInt32(c | 0x20) - 0x61 + 10 }
                else { break }
                value = value &* (hex ? 16 : 10) &+ d
                j += 1
            }
            if j >= n && !final { return nil }
            guard j > digitsStart else { out.append(contentsOf: "&amp;".utf8); return 1 }
            if j < n, b[j] == 0x3B { j += 1 }
            let scalar = HTMLEntities.scalar(forCodePoint: value).value
            appendCharRef(isXMLChar(scalar) ? scalar : 0xFFFD, &out)
            return j - i
        }
        let nameStart = j
        while j < n, j - nameStart < 40, isNameChar(b[j]) { j += 1 }
        if j >= n && !final && j - nameStart < 40 { return nil }
        guard j > nameStart, j < n, b[j] == 0x3B, isNameStart(b[nameStart]) else {
            out.append(contentsOf: "&amp;".utf8)
            return 1
        }
        let name = String(decoding: UnsafeBufferPointer(rebasing: b[nameStart..<j]), as: UTF8.self)
        if let value = HTMLEntities.lookup(name) {
            for s in value.unicodeScalars { appendCharRef(s.value, &out) }
        } else if declaredEntities.contains(name) {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i...j]))
        } else {
            out.append(contentsOf: "&amp;".utf8)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[(i + 1)...j]))
        }
        return j + 1 - i
    }

    @inline(__always) private func isNameChar(_ c: UInt8) -> Bool {
        isNameStart(c) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x2E
    }

    private func isXMLChar(_ v: UInt32) -> Bool {
        v == 0x9 || v == 0xA || v == 0xD || (v >= 0x20 && v <= 0xD7FF) || (v >= 0xE000 && v <= 0xFFFD)
            || (v >= 0x10000 && v <= 0x10FFFF)
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private func appendCharRef(_ v: UInt32, _ out: inout [UInt8]) {
        out.append(contentsOf: "&#x".utf8)
        var digits: [UInt8] = []
        var x = v
        repeat { digits.append(XMLRepair.hexDigits[Int(x & 0xF)]); x >>= 4 } while x != 0
        out.append(contentsOf: digits.reversed())
        out.append(0x3B)
    }
}
