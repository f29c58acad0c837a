import Content
import Foundation

/// The byte-level mending step of `InputNormalizer`, on UTF-8.
///
/// - Tags: keeps a stack of open elements. An end tag closes the elements
///   opened inside its match (`<p><b>x</p>` gets `</b>`); an end tag with no
///   open match is dropped. At the end of the input every open element is closed,
///   so a truncated document still yields the items it completed.
/// - References: every reference is resolved here, so libxml2 never sees one:
///   XML's five and HTML's named references become numeric character
///   references, entities the DOCTYPE declares are expanded as text within a
///   budget, external entities expand to nothing (no file or network is ever
///   read), and unknown names stay as literal text (`&amp;name;`).
/// - The DOCTYPE is removed (its entity declarations were read here).
/// - A bare `&` and a `<` that opens no markup become `&amp;` and `&lt;`.
/// CDATA sections and processing instructions pass through; in comments, "--"
/// and a '-' before the end get a space between (see `copyComment`).
/// - With a `SetAsideText`, the text of a CDATA section inside an element, and a
///   run of element text with references, goes there instead, with a marker in
///   its place (see `SetAsideText`). A processing instruction whose target is
///   `_` (which a marker's is) is renamed `__`.
struct XMLRepair {
    private enum State {
        case text
        /// Inside a start tag; `quote` is the open attribute quote or 0.
        case startTag(quote: UInt8)
        case comment, cdata, processingInstruction
        case doctype(depth: Int, quote: UInt8)
    }

    private enum EntityValue {
        case text(String)
        case external
    }

    private var state: State = .text
    /// Where element text that needs no parsing goes, if anywhere (see `SetAsideText`).
    private let setAside: SetAsideText?
    /// The CDATA section being copied goes to `setAside`.
    private var cdataAside = false
    private var open = OpenElements()
    private var collectingName = false
    private var lastTagByte: UInt8 = 0
    private var doctypeText: [UInt8] = []
    private var entities: [String: EntityValue] = [:]
    private var expansions: [String: String] = [:]
    /// Bytes that declared entities may still expand to in this document.
    private var expansionBudget = 1 << 20
    private(set) var problems: [String] = []

    /// Deepest element nesting passed on. libxml2 stops the whole document past 256
    /// levels (everything after was lost), so start tags deeper than this are
    /// dropped, with their attributes; their text stays in the enclosing element.
    static let maxDepth = 250
    /// Inside a start tag that is dropped for its depth.
    private var droppingTag = false
    private var notedDepthLimit = false

    /// Attributes (and namespace declarations) kept per start tag.
    static let maxAttributes = 256
    private var attributes = 0
    private var droppingAttributes = false
    private var notedAttributeLimit = false
    /// Inside a quoted value that no name and `=` came before (`<generator "a">`):
    /// dropped up to its closing quote.
    private var droppingValue = false
    /// The last byte written of the comment being copied was a '-'.
    private var commentDash = false

    /// Where a start tag's attribute stands. libxml2's recovery from a malformed
    /// attribute (no value, no quotes, a stray value or byte) read the tag, and the
    /// text after it, differently by where a push ended; so an attribute goes out
    /// only once it is `name="value"`, and the rest is mended or dropped.
    private enum AttributePhase {
        /// Between attributes.
        case between
        /// Reading a name (in `attributeName`).
        case name
        /// White space after a name: an '=' may still come.
        case afterName
        /// After the '=': a value follows.
        case equals
        /// Inside a value written without quotes, which goes out quoted.
        case unquotedValue
    }
    private var attributePhase = AttributePhase.between
    /// The name of the attribute being read (its first `attributeNameLength` bytes),
    /// held until its value shows it is one.
    private var attributeName = [UInt8](repeating: 0, count: XMLRepair.maxAttributeName)
    private var attributeNameLength = 0
    static let maxAttributeName = 256

    /// The parser always passes a store. Without one, set-aside texts are written
    /// as CDATA sections in place: the tests read that XML, and check the markers
    /// against it (`SetAsideTextTests`).
    init(setAside: SetAsideText? = nil) {
        self.setAside = setAside
    }

    /// Repairs as much of `input` as can be decided, appends it to `out` and
    /// leaves the undecided tail (a few dozen bytes at most) in `input`.
    /// Repairs what can be decided of `input` in place of a copy; returns the
    /// undecided tail, which the caller passes again with the next input.
    mutating func run(_ input: UnsafeBufferPointer<UInt8>, into out: inout ByteSink, final: Bool) -> ArraySlice<UInt8> {
        let consumed = process(input, into: &out, final: final)
        if final { closeEverything(into: &out) }
        return consumed == input.count ? [] : ArraySlice(input[consumed...])
    }

    mutating func run(_ input: inout [UInt8], into out: inout ByteSink, final: Bool) {
        let consumed = input.withUnsafeBufferPointer { process($0, into: &out, final: final) }
        if consumed == input.count {
            input.removeAll(keepingCapacity: true)
        } else {
            input.removeFirst(consumed)
        }
        if final { closeEverything(into: &out) }
    }

    private mutating func process(_ b: UnsafeBufferPointer<UInt8>, into out: inout ByteSink, final: Bool) -> Int {
        let n = b.count
        out.reserve(n + 64)
        var i = 0
        while i < n {
            switch state {
            case .text:
                let j = ByteScan.next(b, from: i, to: n, 0x3C, 0x26, 0x5D)
                if j > i { out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<j])); i = j; continue }
                if b[i] == 0x5D {
                    // "]]>" may not appear in text, and libxml2's push parser read it with one
                    // bracket or two depending on where a push ended: its '>' goes escaped.
                    guard i + 2 < n else {
                        if !final { return i }
                        out.append(0x5D); i += 1
                        continue
                    }
                    if b[i + 1] == 0x5D && b[i + 2] == 0x3E {
                        out.append(literal: "]]&gt;"); i += 3
                    } else {
                        out.append(0x5D); i += 1
                    }
                    continue
                }
                if b[i] == 0x26 {
                    if entities.isEmpty && !open.isEmpty {
                        if let setAside {
                            guard let used = cdataRun(b, i, &setAside.bytes, final: final, aside: true) else { return i }
                            if used > 0 { Self.writeMarker(setAside.close(), &out); i += used; continue }
                        } else {
                            guard let used = cdataRun(b, i, &out, final: final, aside: false) else { return i }
                            if used > 0 { i += used; continue }
                        }
                    }
                    guard let used = reference(b, i, &out, final: final, inAttribute: false) else { return i }
                    i += used
                    continue
                }
                guard let used = markup(b, i, &out, final: final) else { return i }
                i += used
            case .startTag(let quote):
                let c = b[i]
                if droppingAttributes || droppingTag {
                    // Past the attribute limit: nothing more of this tag goes out but its end.
                    // Past the depth limit: nothing of it at all.
                    i += 1
                    if quote != 0 {
                        if c == quote { state = .startTag(quote: 0) }
                    } else if c == 0x22 || c == 0x27 {
                        state = .startTag(quote: c)
                    } else if c == 0x3E {
                        if !droppingTag {
                            if lastTagByte == 0x2F { out.append(0x2F) }
                            out.append(0x3E)
                        }
                        endStartTag(selfClosing: lastTagByte == 0x2F)
                    } else if c == 0x3C {
                        if !droppingTag { out.append(0x3E) }
                        endStartTag(selfClosing: false)
                        i -= 1  // the '<' opens the next markup
                    } else if c != 0x20 && c != 0x09 && c != 0x0A && c != 0x0D {
                        lastTagByte = c
                    }
                    continue
                }
                if droppingValue {
                    let j = ByteScan.next(b, from: i, to: n, quote)
                    if j == n { i = n; continue }
                    i = j + 1
                    droppingValue = false
                    state = .startTag(quote: 0)
                    continue
                }
                if quote != 0 {
                    // A run of the value that needs nothing: copied at once.
                    let j = ByteScan.next(b, from: i, to: n, quote, 0x3C, 0x26)
                    if j > i {
                        out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<j]))
                        i = j
                        continue
                    }
                    if c == quote {
                        state = .startTag(quote: 0); out.append(c); i += 1
                    } else if c == 0x3C {
                        out.append(literal: "&lt;"); i += 1
                    } else if c == 0x26 {
                        guard let used = reference(b, i, &out, final: final, inAttribute: true) else { return i }
                        i += used
                    } else {
                        out.append(c); i += 1
                    }
                    continue
                }
                if collectingName {
                    // The element's name: name characters only (a quote or a '<' in it,
                    // `<a"b">`, is what follows the name, mended as attributes are).
                    var j = i
                    while j < n, isNameChar(b[j]) { j += 1 }
                    if j > i {
                        let name = UnsafeBufferPointer(rebasing: b[i..<j])
                        open.extendName(name)
                        out.append(contentsOf: name)
                        i = j
                        continue
                    }
                    collectingName = false
                }
                if attributePhase == .unquotedValue {
                    // `url=http://a/b`: copied up to white space or the tag's end, in quotes.
                    var j = i
                    while j < n {
                        let d = b[j]
                        if d == 0x20 || d == 0x3E || d == 0x3C || d == 0x26 || d == 0x22 || d == 0x09 || d == 0x0A || d == 0x0D { break }
                        j += 1
                    }
                    if j > i {
                        out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<j]))
                        i = j
                        continue
                    }
                    if c == 0x26 {
                        guard let used = reference(b, i, &out, final: final, inAttribute: true) else { return i }
                        i += used
                        continue
                    }
                    if c == 0x22 { out.append(literal: "&quot;"); i += 1; continue }
                    out.append(0x22)  // white space or the tag's end: the value is over
                    attributePhase = .between
                    continue
                }
                let isSpace = c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D
                if attributePhase == .equals && !isSpace && c != 0x3E && c != 0x3C && c != 0x22 && c != 0x27 {
                    // A value written without quotes (`url=/a.mp3`) starts here; it goes out quoted.
                    attributePhase = beginAttribute(&out) ? .unquotedValue : .between
                    if attributePhase == .unquotedValue { out.append(0x22) }
                    continue
                }
                if c == 0x3E {
                    i += 1
                    attributePhase = .between  // a name without a value is dropped
                    if lastTagByte == 0x2F { out.append(0x2F) }
                    out.append(c)
                    endStartTag(selfClosing: lastTagByte == 0x2F)
                } else if c == 0x3C {
                    // "<a <b>": the first tag never ended; end it here.
                    attributePhase = .between
                    out.append(0x3E)
                    endStartTag(selfClosing: false)
                } else if isSpace {
                    if attributePhase == .name { attributePhase = .afterName }
                    i += 1
                } else if c == 0x22 || c == 0x27 {
                    state = .startTag(quote: c)
                    i += 1
                    if attributePhase != .equals {
                        // A value with no name and '=' before it: dropped.
                        attributePhase = .between
                        droppingValue = true
                        continue
                    }
                    attributePhase = .between
                    guard beginAttribute(&out) else { continue }
                    out.append(c)
                } else if c == 0x3D {
                    if attributePhase == .name || attributePhase == .afterName { attributePhase = .equals }
                    i += 1
                } else if c == 0x2F {
                    attributePhase = .between
                    lastTagByte = c  // a self-closing tag, if the tag ends next
                    i += 1
                } else if isNameChar(c) {
                    if attributePhase != .name {
                        // A new attribute (one before it without a value is dropped).
                        attributeNameLength = 0
                        guard isNameStart(c) else { i += 1; continue }  // no name starts so: dropped
                        attributePhase = .name
                    }
                    var j = i + 1
                    while j < n, isNameChar(b[j]) { j += 1 }
                    let kept = min(j - i, Self.maxAttributeName - attributeNameLength)
                    if kept > 0 {
                        let at = attributeNameLength
                        attributeName.withUnsafeMutableBufferPointer { name in
                            (name.baseAddress! + at).update(from: b.baseAddress! + i, count: kept)
                        }
                        attributeNameLength += kept
                    }
                    lastTagByte = b[j - 1]
                    i = j
                } else {
                    i += 1  // a byte that can be no part of an attribute (`<title & x="1">`): dropped
                }
            case .comment:
                let (used, complete) = copyComment(b, i, &out, final: final)
                i += used
                if !complete { return i }
            case .cdata:
                let (used, complete) = copyCDATA(b, i, &out, final: final)
                i += used
                if !complete { return i }
            case .processingInstruction:
                let (used, complete) = copy(until: "?>", b, i, &out, final: final)
                i += used
                if !complete { return i }
            case .doctype(let depth, let quote):
                // Read, not passed on: libxml2 gets no DTD to act on.
                let c = b[i]
                i += 1
                if doctypeText.count < 1 << 20 { doctypeText.append(c) }
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
                    readEntityDeclarations()
                }
            }
        }
        return n
    }

    /// Handles the '<' at `i` in text; returns the bytes consumed or `nil` to wait for more input.
    private mutating func markup(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ out: inout ByteSink, final: Bool) -> Int? {
        let n = b.count
        guard i + 1 < n else {
            if !final { return nil }
            out.append(literal: "&lt;")
            return 1
        }
        let c = b[i + 1]
        if c == 0x21 {  // '!'
            if starts(b, i, "<!--") { out.append(literal: "<!--"); state = .comment; commentDash = false; return 4 }
            if starts(b, i, "<![CDATA[") {
                cdataAside = setAside != nil && !open.isEmpty
                if !cdataAside { out.append(literal: "<![CDATA[") }
                state = .cdata
                return 9
            }
            if i + 9 > n && !final { return nil }
            if open.isEmpty && starts(b, i, "<!DOCTYPE") {
                state = .doctype(depth: 0, quote: 0)
                doctypeText = []
                return 9
            }
            out.append(literal: "&lt;")
            return 1
        }
        if c == 0x3F {  // '?'
            guard i + 3 < n || final else { return nil }
            state = .processingInstruction
            if i + 2 < n, b[i + 2] == 0x5F, i + 3 == n || !isNameChar(b[i + 3]) {
                // Target `_`, which set-aside text's markers have: renamed.
                out.append(literal: "<?__")
                return 3
            }
            out.append(literal: "<?")
            return 2
        }
        if c == 0x2F {  // "</": read the whole end tag, then decide
            // The name runs to white space or '>'; the tag, to '>' (in one pass when,
            // as nearly always, the name ends at the '>').
            // A '>' is looked for up to 300 bytes after the '<'.
            let limit = min(n, i + 301)
            var nameEnd = i + 2
            while nameEnd < limit, b[nameEnd] != 0x3E, b[nameEnd] != 0x20, b[nameEnd] != 0x09, b[nameEnd] != 0x0A, b[nameEnd] != 0x0D {
                nameEnd += 1
            }
            var j = nameEnd
            while j < limit, b[j] != 0x3E { j += 1 }
            if j == limit {
                guard n - i > 300 else {
                    if !final { return nil }
                    return n - i  // a truncated end tag: the close at the end does its work
                }
                out.append(literal: "&lt;")
                return 1
            }
            let name = UnsafeBufferPointer(rebasing: b[(i + 2)..<nameEnd])
            if open.innermostIs(name) {
                // The usual case: it closes the element opened last (whose name it is).
                open.dropInnermost()
                Self.writeEndTag(name, &out)
            } else if let k = open.lastIndex(of: name) {
                while open.count > k + 1 { open.popLast { Self.writeEndTag($0, &out) } }
                open.popLast { Self.writeEndTag($0, &out) }
            }
            return j + 1 - i
        }
        if isNameStart(c) {
            if open.count < Self.maxDepth, let used = usualStartTag(b, i, &out) { return used }
            state = .startTag(quote: 0)
            attributes = 0
            droppingAttributes = false
            lastTagByte = 0
            if open.count >= Self.maxDepth {
                droppingTag = true
                if !notedDepthLimit {
                    notedDepthLimit = true
                    problems.append("elements nested more than \(Self.maxDepth) deep: their tags were dropped, their text kept")
                }
                return 1
            }
            out.append(0x3C)
            open.beginName()
            collectingName = true
            return 1
        }
        out.append(literal: "&lt;")
        return 1
    }

    /// A start tag of the usual shape, `<name a="v" b='w'>` or `<name/>`, whole in
    /// `b`: written as the state machine of `process` would write it, in one pass
    /// (byte by byte through that machine, tags cost more than the text between).
    /// Returns the bytes consumed; nil, with nothing written, for any other shape (a
    /// value without quotes or holding '<' or '&', a name without a value, white
    /// space around '=' or inside "/>", stray bytes, a name past 256 bytes) or a tag
    /// the input ends inside: the state machine reads those.
    private mutating func usualStartTag(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ out: inout ByteSink) -> Int? {
        let n = b.count
        var j = i + 1
        while j < n, isNameChar(b[j]) { j += 1 }
        let nameEnd = j
        guard nameEnd - (i + 1) <= OpenElements.maxName else { return nil }
        // The tag is written as it stands when each attribute has one space before it
        // (the state machine writes one), up to the end of the last value.
        var written = nameEnd
        var count = 0
        while j < n {
            let spaceStart = j
            while j < n, b[j] == 0x20 || b[j] == 0x0A || b[j] == 0x09 || b[j] == 0x0D { j += 1 }
            guard j < n else { return nil }
            let c = b[j]
            if c == 0x3E || (c == 0x2F && j + 1 < n && b[j + 1] == 0x3E) {
                let selfClosing = c == 0x2F
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<written]))
                if selfClosing { out.append(literal: "/>") } else { out.append(0x3E) }
                if !selfClosing { open.push(UnsafeBufferPointer(rebasing: b[(i + 1)..<nameEnd])) }
                return (selfClosing ? j + 2 : j + 1) - i
            }
            // An attribute, `name="value"` with nothing between, after one space.
            guard j == spaceStart + 1, b[spaceStart] == 0x20, isNameStart(c), count < Self.maxAttributes else { return nil }
            var e = j + 1
            while e < n, isNameChar(b[e]) { e += 1 }
            guard e - j <= Self.maxAttributeName, e + 1 < n, b[e] == 0x3D, b[e + 1] == 0x22 || b[e + 1] == 0x27 else { return nil }
            let close = ByteScan.next(b, from: e + 2, to: n, b[e + 1], 0x3C, 0x26)
            guard close < n, b[close] == b[e + 1] else { return nil }
            count += 1
            j = close + 1
            written = j
        }
        return nil
    }

    /// Writes " name=" for the attribute read, unless the tag already holds
    /// `maxAttributes`; then the rest of the tag is dropped (returns false).
    private mutating func beginAttribute(_ out: inout ByteSink) -> Bool {
        lastTagByte = 0
        if attributes >= Self.maxAttributes {
            // libxml2 2.9 checks each attribute against all before it: 100,000
            // attributes took seconds. No feed element needs more than this.
            droppingAttributes = true
            if !notedAttributeLimit {
                notedAttributeLimit = true
                problems.append("an element with more than \(Self.maxAttributes) attributes: the rest were dropped")
            }
            return false
        }
        attributes += 1
        out.append(0x20)
        attributeName.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[0..<attributeNameLength])) }
        out.append(0x3D)
        return true
    }

    private mutating func endStartTag(selfClosing: Bool) {
        state = .text
        collectingName = false
        attributes = 0
        droppingAttributes = false
        droppingValue = false
        attributePhase = .between
        if droppingTag {
            droppingTag = false
        } else if !selfClosing {
            open.pushName()
        }
    }

    private static func writeEndTag(_ name: UnsafeBufferPointer<UInt8>, _ out: inout ByteSink) {
        out.append(literal: "</")
        out.append(contentsOf: name)
        out.append(0x3E)
    }

    /// At the end of the input: finish whatever construct is open, then close every element.
    private mutating func closeEverything(into out: inout ByteSink) {
        switch state {
        case .startTag(let quote):
            if !droppingTag {
                if quote != 0 && !droppingValue { out.append(quote) }
                if attributePhase == .unquotedValue { out.append(0x22) }
                out.append(0x3E)
            }
            endStartTag(selfClosing: false)
        case .comment:
            if commentDash { out.append(0x20) }
            out.append(literal: "-->")
        case .cdata:
            if cdataAside, let setAside { Self.writeMarker(setAside.close(), &out) } else { out.append(literal: "]]>") }
        case .processingInstruction: out.append(literal: "?>")
        case .doctype, .text: break
        }
        state = .text
        while open.count > 0 { open.popLast { Self.writeEndTag($0, &out) } }
    }

    @inline(__always) private func isNameStart(_ c: UInt8) -> Bool {
        (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || c == 0x5F || c == 0x3A || c >= 0x80
    }

    /// A letter, digit, '-', '.', '_', ':' or any byte of a non-ASCII character: one
    /// bit test (element and attribute names are read through it a byte at a time).
    @inline(__always) private func isNameChar(_ c: UInt8) -> Bool {
        if c >= 0x80 { return true }
        let bits: UInt64 = c < 64 ? 0x07FF_6000_0000_0000 : 0x07FF_FFFE_87FF_FFFE
        return (bits >> UInt64(c & 63)) & 1 != 0
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
        until terminator: StaticString, _ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ out: inout ByteSink, final: Bool
    ) -> (Int, Bool) {
        let n = b.count
        let len = terminator.utf8CodeUnitCount
        let first = terminator.utf8Start[0]
        var j = i
        while j + len <= n {
            if b[j] != first {
                // On to the next possible start of the terminator.
                guard let hit = memchr(b.baseAddress! + j, Int32(first), n - j) else { j = n; break }
                j = b.baseAddress!.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                continue
            }
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

    /// Copies a comment's text up to and including its "-->" and returns to text,
    /// with a space between two '-' and before a '-' that would end the text: XML
    /// forbids both ("<!-- x --->", "<!-- a -- b -->"), and libxml2's push parser
    /// lost the rest of the document after "--->" when it came in one push, not
    /// when in chunks. A '-' that ends the input waits for the next (it may begin "-->").
    private mutating func copyComment(
        _ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ out: inout ByteSink, final: Bool
    ) -> (Int, Bool) {
        let n = b.count
        guard let base = b.baseAddress, i < n else { return (0, final) }
        var j = i
        while j < n {
            guard let hit = memchr(base + j, 0x2D, n - j) else { break }
            let dash = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if dash > j {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[j..<dash]))
                commentDash = false
            }
            if dash + 3 > n && !final { return (dash - i, false) }
            if starts(b, dash, "-->") {
                if commentDash { out.append(0x20) }
                out.append(literal: "-->")
                commentDash = false
                state = .text
                return (dash + 3 - i, true)
            }
            if commentDash { out.append(0x20) }
            out.append(0x2D)
            commentDash = true
            j = dash + 1
        }
        if j < n {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[j..<n]))
            commentDash = false
        }
        return (n - i, final)
    }

    /// Copies a CDATA section's text up to and including its "]]>" and returns to
    /// text, with line ends made "\n": XML asks for that in CDATA as anywhere, and
    /// libxml2's push parser hands a section's carriage returns on as they are.
    /// Without its end in the input, all but what may begin "]]>" or be the CR of
    /// a CR LF is copied, and the rest waits for the next input.
    /// A section set aside (`cdataAside`) has its text copied to `setAside`, and
    /// a marker takes the place of its end.
    private mutating func copyCDATA(
        _ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ out: inout ByteSink, final: Bool
    ) -> (Int, Bool) {
        guard cdataAside, let setAside else {
            let (used, found) = Self.copySection(b, i, &out, final: final, keepingEnd: true)
            if found { state = .text }
            return (used, found || final)
        }
        let (used, found) = Self.copySection(b, i, &setAside.bytes, final: final, keepingEnd: false)
        if found {
            Self.writeMarker(setAside.close(), &out)
            state = .text
        }
        return (used, found || final)
    }

    /// Copies CDATA text from `i` to its "]]>" (written too if `keepingEnd`), or as far
    /// as can be decided; returns the bytes consumed and whether the "]]>" was.
    private static func copySection(
        _ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ out: inout ByteSink, final: Bool, keepingEnd: Bool
    ) -> (Int, Bool) {
        let n = b.count
        guard let base = b.baseAddress, i < n else { return (0, false) }
        var end = n, found = false
        var j = i
        while j < n, let hit = memchr(base + j, 0x5D, n - j) {
            j = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if j + 2 < n, b[j + 1] == 0x5D, b[j + 2] == 0x3E { end = keepingEnd ? j + 3 : j; found = true; break }
            j += 1
        }
        if !found && !final { end = max(i, n - 2) }
        var from = i
        while from < end, let hit = memchr(base + from, 0x0D, end - from) {
            let r = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if r + 1 == end && end < n && !found { end = r; break }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[from..<r]))
            out.append(0x0A)
            from = r + 1 < n && b[r + 1] == 0x0A ? r + 2 : r + 1
        }
        if from < end { out.append(contentsOf: UnsafeBufferPointer(rebasing: b[from..<end])) }
        return (found ? j + 3 - i : end - i, found)
    }

    /// The marker of set-aside text number `number`: `<?_ 12?>`.
    private static func writeMarker(_ number: Int, _ out: inout ByteSink) {
        out.append(literal: "<?_ ")
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        var v = UInt(number)
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                count += 1
                d[24 - count] = UInt8(truncatingIfNeeded: 0x30 + v % 10)
                v /= 10
            } while v > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: d.assumingMemoryBound(to: UInt8.self)[(24 - count)...]))
        }
        out.append(literal: "?>")
    }

    // MARK: references

    /// What a reference in element text stands for, as `cdataRun` needs it.
    private enum DecodedReference {
        /// The input ends inside what may be a reference.
        case needsMoreInput
        /// Text (UTF-8) and the bytes the reference spans.
        case text(ShortUTF8, Int)
        /// Not a reference: this many bytes are literal text (a bare `&`, an unknown name).
        case literal(Int)
        /// Left to `reference` (a carriage return, which CDATA would not keep, or a `]`).
        case usual
    }

    /// Element text from the `&` at `i` on, written as one CDATA section with its
    /// references decoded. libxml2 reports each reference in a callback of its own,
    /// and escaped HTML (Atom `type="html"`, RSS descriptions) holds dozens; as CDATA
    /// the run is one callback with the same characters. The section ends before
    /// the next markup, a `]` or a carriage return, and at the end of the input; a
    /// `>` decoded right after "]]" is left to `reference`. Returns the bytes
    /// consumed (0 when the reference at `i` is left to `reference`), or `nil`
    /// when more input is needed to read it.
    /// Set `aside`, the text alone goes to `out` (the set-aside store), and the
    /// caller writes its marker.
    private mutating func cdataRun(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ out: inout ByteSink, final: Bool, aside: Bool) -> Int? {
        let n = b.count
        var k = i
        var opened = false
        @inline(__always) func openSection(_ out: inout ByteSink) {
            if !opened {
                if !aside { out.append(literal: "<![CDATA[") }
                opened = true
            }
        }
        scan: while k < n {
            switch b[k] {
            case 0x26:
                if let (value, used) = Self.predefinedReference(b, at: k) {
                    // The common references of escaped HTML, read without the general decoder.
                    // A '>' after "]]" this section holds (from `&#93;&#93;`) would end it: left to
                    // `reference`. (Not after "]]" written before the section, as text: the
                    // section's marker stands between. Looking at those bytes made the result
                    // hang on whether they came in the same push.)
                    if value == 0x3E, !aside, opened, out[out.count - 1] == 0x5D, out[out.count - 2] == 0x5D { break scan }
                    openSection(&out)
                    out.append(value)
                    k += used
                    continue scan
                }
                switch decodeReference(b, k, final: final) {
                case .needsMoreInput:
                    if !opened { return nil }
                    break scan
                case .usual:
                    break scan
                case .text(let value, let used):
                    // A '>' after "]]" in the section would end it: left to `reference`.
                    if value[0] == 0x3E, !aside, opened, out[out.count - 1] == 0x5D, out[out.count - 2] == 0x5D { break scan }
                    openSection(&out)
                    out.append(contentsOf: value)
                    k += used
                case .literal(let used):
                    openSection(&out)
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: b[k..<(k + used)]))
                    k += used
                }
            case 0x3C, 0x0D, 0x5D:
                // Markup; a carriage return, which libxml2's push parser keeps as it is
                // in a CDATA section but reads as a newline in text (as XML asks); or a
                // ']': it could help end the section, and a section whose text ends in
                // "]]" lost a bracket in the push parser when the whole document came in
                // one push. These go through as text.
                break scan
            default:
                let j = ByteScan.next(b, from: k + 1, to: n, 0x26, 0x3C, 0x5D, 0x0D)
                openSection(&out)
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[k..<j]))
                k = j
            }
        }
        if opened && !aside { out.append(literal: "]]>") }
        return k - i
    }

    private enum NumericReference {
        case needsMoreInput
        /// "&#" followed by no digit: the '&' is literal.
        case notAReference
        /// What it stands for (U+FFFD for a character XML forbids) and where it ends.
        case scalar(Unicode.Scalar, end: Int)
    }

    /// Reads `&#…;` or `&#x…;` whose '#' is at `hash` (the ';' may be missing),
    /// with HTML's fix-ups (`HTMLEntities.scalar(forCodePoint:)`).
    private static func numericReference(_ b: UnsafeBufferPointer<UInt8>, hashAt hash: Int, final: Bool) -> NumericReference {
        let n = b.count
        var j = hash + 1
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
        if j >= n && !final { return .needsMoreInput }
        guard j > digitsStart else { return .notAReference }
        if j < n, b[j] == 0x3B { j += 1 }
        let scalar = HTMLEntities.scalar(forCodePoint: value)
        return .scalar(isXMLChar(scalar.value) ? scalar : "\u{FFFD}", end: j)
    }

    /// Reads the reference at `i` as `reference` would write it, without writing.
    private func decodeReference(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, final: Bool) -> DecodedReference {
        let n = b.count
        var j = i + 1
        if j < n, b[j] == 0x23 {  // '#'
            switch Self.numericReference(b, hashAt: j, final: final) {
            case .needsMoreInput: return .needsMoreInput
            case .notAReference: return .literal(1)
            case .scalar(let v, let end):
                if v == "\r" || v == "]" { return .usual }
                return .text(ShortUTF8(v), end - i)
            }
        }
        let nameStart = j
        while j < n, j - nameStart < 64, isNameChar(b[j]) { j += 1 }
        if j >= n && !final && j - nameStart < 64 { return .needsMoreInput }
        guard j > nameStart, j < n, b[j] == 0x3B, isNameStart(b[nameStart]) else { return .literal(1) }
        let nameBytes = UnsafeBufferPointer(rebasing: b[nameStart..<j])
        if let v = Self.predefined(nameBytes) { return .text(ShortUTF8(packed: UInt64(v), count: 1), j + 1 - i) }
        if let v = HTMLEntities.lookupShort(nameBytes) {
            if v.contains(0x0D) || v.contains(0x5D) { return .usual }
            return .text(v, j + 1 - i)
        }
        if nameBytes.count > 10 { return .usual }  // names the packed table cannot hold
        return .literal(j + 1 - i)  // an unknown name stays as written
    }

    /// Writes the reference that starts with '&' at `i` in a form libxml2 reads
    /// the same whatever else is wrong with the document; returns the bytes
    /// consumed, or `nil` when more input is needed to decide.
    private mutating func reference(
        _ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ out: inout ByteSink, final: Bool, inAttribute: Bool
    ) -> Int? {
        let n = b.count
        var j = i + 1
        if j < n, b[j] == 0x23 {  // '#'
            switch Self.numericReference(b, hashAt: j, final: final) {
            case .needsMoreInput: return nil
            case .notAReference: out.append(literal: "&amp;"); return 1
            case .scalar(let v, let end):
                appendCharRef(v.value, &out)
                return end - i
            }
        }
        let nameStart = j
        while j < n, j - nameStart < 64, isNameChar(b[j]) { j += 1 }
        if j >= n && !final && j - nameStart < 64 { return nil }
        guard j > nameStart, j < n, b[j] == 0x3B, isNameStart(b[nameStart]) else {
            out.append(literal: "&amp;")
            return 1
        }
        let nameBytes = UnsafeBufferPointer(rebasing: b[nameStart..<j])
        if entities.isEmpty {
            // The common case, without a String: XML's five, then HTML's names.
            if Self.predefined(nameBytes) != nil {
                // libxml2 reads XML's five itself: passed on as written.
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i...j]))
                return j + 1 - i
            }
            if let v = HTMLEntities.lookupShort(nameBytes) {
                appendEscaped(v, &out, inAttribute: inAttribute)
                return j + 1 - i
            }
        }
        let name = String(decoding: nameBytes, as: UTF8.self)
        if let text = resolve(name, depth: 0) {
            appendEscaped(Array(text.utf8), &out, inAttribute: inAttribute)
        } else if entities[name] != nil {
            // External, or over budget: nothing.
        } else {
            out.append(literal: "&amp;")
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[(i + 1)...j]))
        }
        return j + 1 - i
    }

    /// The text a named reference stands for; `nil` for unknown names, external
    /// entities, loops and anything past the expansion budget.
    private mutating func resolve(_ name: String, depth: Int) -> String? {
        switch name {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos": return "'"
        default: break
        }
        if let declared = entities[name] {
            guard case .text(let raw) = declared, depth < 16 else { return nil }  // a loop, or absurd nesting
            let text: String
            if let cached = expansions[name] {
                text = cached
            } else {
                guard let t = expand(raw, depth: depth + 1) else {
                    noteBudgetExceeded(at: name)
                    return nil
                }
                expansions[name] = t
                text = t
            }
            guard text.utf8.count <= expansionBudget else {
                noteBudgetExceeded(at: name)
                return nil
            }
            expansionBudget -= text.utf8.count
            return text
        }
        return HTMLEntities.lookup(name)
    }

    private mutating func noteBudgetExceeded(at name: String) {
        if !problems.contains(where: { $0.hasPrefix("entity expansion limit") }) {
            problems.append("entity expansion limit (1 MiB) reached at &\(name);; it and larger expansions are dropped")
        }
    }

    /// An entity value with its own references resolved, as text.
    private mutating func expand(_ raw: String, depth: Int) -> String? {
        guard raw.contains("&") else { return raw }
        var out = ""
        var rest = Substring(raw)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            rest = rest[rest.index(after: amp)...]
            guard let semi = rest.firstIndex(of: ";"), rest.distance(from: rest.startIndex, to: semi) <= 64 else {
                out += "&"
                continue
            }
            let ref = String(rest[..<semi])
            rest = rest[rest.index(after: semi)...]
            if ref.hasPrefix("#") {
                let digits = ref.dropFirst()
                let v = digits.first.map { $0 == "x" || $0 == "X" } == true
                    ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
                out.unicodeScalars.append(HTMLEntities.scalar(forCodePoint: v ?? 0xFFFD))
            } else if let t = resolve(ref, depth: depth) {
                out += t
            } else if entities[ref] == nil {
                out += "&" + ref + ";"
            }
            if out.utf8.count > expansionBudget { return nil }
        }
        return out + rest
    }

    /// Reads `<!ENTITY name "value">` and `<!ENTITY name SYSTEM|PUBLIC …>` from the DOCTYPE.
    private mutating func readEntityDeclarations() {
        // On the bytes: Foundation's `range(of:)` on the rest of a Substring copied that
        // rest for every declaration, and 1 MB of them took two seconds.
        let text = doctypeText
        doctypeText = []
        @inline(__always) func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }
        text.withUnsafeBufferPointer { b in
            let n = b.count
            var i = 0
            while i < n {
                guard starts(b, i, "<!ENTITY") else { i += 1; continue }
                i += 8
                while i < n, isSpace(b[i]) { i += 1 }
                if i < n, b[i] == 0x25 { continue }  // '%': parameter entities are for the DTD only
                let nameStart = i
                while i < n, !isSpace(b[i]), b[i] != 0x22, b[i] != 0x27, b[i] != 0x3E { i += 1 }
                let name = String(decoding: UnsafeBufferPointer(rebasing: b[nameStart..<i]), as: UTF8.self)
                while i < n, isSpace(b[i]) { i += 1 }
                guard !name.isEmpty, i < n else { continue }
                let quote = b[i]
                if quote == 0x22 || quote == 0x27 {
                    var j = i + 1
                    while j < n, b[j] != quote { j += 1 }
                    entities[name] = .text(String(decoding: UnsafeBufferPointer(rebasing: b[(i + 1)..<j]), as: UTF8.self))
                    i = j
                } else {
                    entities[name] = .external
                }
            }
        }
    }

    private static func isXMLChar(_ v: UInt32) -> Bool {
        v == 0x9 || v == 0xA || v == 0xD || (v >= 0x20 && v <= 0xD7FF) || (v >= 0xE000 && v <= 0xFFFD)
            || (v >= 0x10000 && v <= 0x10FFFF)
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private func appendCharRef(_ v: UInt32, _ out: inout ByteSink) {
        out.append(literal: "&#x")
        var shift = 28
        while shift > 0 && (v >> UInt32(shift)) & 0xF == 0 { shift -= 4 }
        while shift >= 0 {
            out.append(XMLRepair.hexDigits[Int((v >> UInt32(shift)) & 0xF)])
            shift -= 4
        }
        out.append(0x3B)
    }

    /// The character of `&amp;`, `&lt;`, `&gt;`, `&quot;` or `&apos;`.
    /// `&lt;`, `&gt;`, `&amp;` or `&quot;` at `i`, read as whole words: the byte it
    /// stands for and the reference's length, or nil (then `decodeReference` reads it).
    @inline(__always) private static func predefinedReference(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> (UInt8, Int)? {
        guard i + 4 <= b.count, let base = b.baseAddress else { return nil }
        switch UnsafeRawPointer(base + i).loadUnaligned(as: UInt32.self).littleEndian {
        case 0x3B74_6C26: return (0x3C, 4)  // "&lt;"
        case 0x3B74_6726: return (0x3E, 4)  // "&gt;"
        case 0x706D_6126: return i + 5 <= b.count && b[i + 4] == 0x3B ? (0x26, 5) : nil  // "&amp;"
        case 0x6F75_7126: return i + 6 <= b.count && b[i + 4] == 0x74 && b[i + 5] == 0x3B ? (0x22, 6) : nil  // "&quot;"
        default: return nil
        }
    }

    private static func predefined(_ n: UnsafeBufferPointer<UInt8>) -> UInt8? {
        switch n.count {
        case 2 where n[1] == 0x74:  // lt, gt
            return n[0] == 0x6C ? 0x3C : n[0] == 0x67 ? 0x3E : nil
        case 3 where n[0] == 0x61 && n[1] == 0x6D && n[2] == 0x70: return 0x26
        case 4 where n[0] == 0x71 && n[1] == 0x75 && n[2] == 0x6F && n[3] == 0x74: return 0x22
        case 4 where n[0] == 0x61 && n[1] == 0x70 && n[2] == 0x6F && n[3] == 0x73: return 0x27
        default: return nil
        }
    }

    /// Resolved UTF-8 text written so that libxml2 reads it back unchanged
    /// (characters XML forbids become U+FFFD; the text is valid UTF-8 already).
    private func appendEscaped<S: Sequence<UInt8>>(_ text: S, _ out: inout ByteSink, inAttribute: Bool) {
        for c in text {
            switch c {
            case 0x26: out.append(literal: "&#x26;")
            case 0x3C: out.append(literal: "&#x3C;")
            case 0x3E: out.append(literal: "&#x3E;")
            case 0x22 where inAttribute: out.append(literal: "&#x22;")
            case 0x27 where inAttribute: out.append(literal: "&#x27;")
            case 0x09, 0x0A, 0x0D: out.append(c)
            case 0..<0x20: out.append(contentsOf: [0xEF, 0xBF, 0xBD])
            default: out.append(c)
            }
        }
    }
}

/// The names of the open elements, innermost last, back to back in one buffer
/// (arrays cost an allocation per start tag). The buffer never shrinks: closing
/// an element moves `top` back, where removing the range was a call of its own.
/// A start tag's name is read into place after the innermost open name
/// (`beginName`, `extendName`) and opens with `pushName`.
private struct OpenElements {
    private var bytes: [UInt8] = []
    /// Where each open name starts (its first `depth` entries; later ones are
    /// stale, kept so that a push after a pop writes in place: `popLast` on the
    /// array went through the standard library's generic removal, once per end tag);
    /// the innermost ends at `top`.
    private var starts: [Int] = []
    private var depth = 0
    private var top = 0
    /// The name being read is `bytes[top..<used]`; bytes past `used` are stale.
    private var used = 0

    var count: Int { depth }
    var isEmpty: Bool { depth == 0 }

    /// Starts reading a start tag's name (forgetting one read and never opened).
    mutating func beginName() { used = top }

    /// The bytes of an element's name kept (to match its end tag by).
    static let maxName = 256

    /// Appends to the name being read, up to `maxName` bytes of it.
    mutating func extendName(_ part: UnsafeBufferPointer<UInt8>) {
        let take = min(part.count, Self.maxName - (used - top))
        guard take > 0, let source = part.baseAddress else { return }
        let overwrite = min(take, bytes.count - used)
        if overwrite > 0 {
            let at = used
            bytes.withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: at).update(from: source, count: overwrite) }
        }
        if take > overwrite { bytes.append(contentsOf: UnsafeBufferPointer(start: source + overwrite, count: take - overwrite)) }
        used += take
    }

    /// The name read opens an element (an empty name opens nothing).
    mutating func pushName() {
        guard used > top else { return }
        if depth < starts.count { starts[depth] = top } else { starts.append(top) }
        depth += 1
        top = used
    }

    /// Opens an element named `name` (its first `maxName` bytes; not empty) at once:
    /// `beginName`, `extendName` and `pushName` in one.
    mutating func push(_ name: UnsafeBufferPointer<UInt8>) {
        let take = min(name.count, Self.maxName)
        guard take > 0, let source = name.baseAddress else { return }
        let end = top + take
        if bytes.count < end { bytes.append(contentsOf: repeatElement(0, count: end - bytes.count)) }
        let at = top
        bytes.withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: at).update(from: source, count: take) }
        if depth < starts.count { starts[depth] = top } else { starts.append(top) }
        depth += 1
        top = end
        used = end
    }

    /// Whether the innermost open element has this name (as kept: its first `maxName` bytes).
    func innermostIs(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        guard depth > 0, top - starts[depth - 1] == name.count, let n = name.baseAddress else { return false }
        let start = starts[depth - 1]
        return bytes.withUnsafeBufferPointer { memcmp($0.baseAddress! + start, n, name.count) == 0 }
    }

    /// Removes the innermost name.
    mutating func dropInnermost() {
        guard depth > 0 else { return }
        depth -= 1
        top = starts[depth]
        used = top
    }

    /// Removes the innermost name, handing it to `body` first.
    mutating func popLast(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        guard depth > 0 else { return }
        depth -= 1
        let start = starts[depth]
        let end = top
        bytes.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[start..<end])) }
        top = start
        used = start
    }

    /// The position of the innermost open element with this name.
    func lastIndex(of name: UnsafeBufferPointer<UInt8>) -> Int? {
        bytes.withUnsafeBufferPointer { all in
            var end = top
            for k in stride(from: depth - 1, through: 0, by: -1) {
                let start = starts[k]
                if end - start == name.count, memcmp(all.baseAddress! + start, name.baseAddress!, name.count) == 0 { return k }
                end = start
            }
            return nil
        }
    }
}
