import CLibXML2
import Content
import Foundation
import Synchronization

/// The element names and attributes of one SAX event, valid only during the callback.
struct XMLElementName {
    let tag: Tag
    let namespace: Namespace
    fileprivate let local: UnsafePointer<xmlChar>

    /// The local name's bytes (no prefix).
    var localBytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: local, count: strlen(local)) }
    var localName: String { String(cString: local) }
}

private let xmlNamespaceURI: StaticString = "http://www.w3.org/XML/1998/namespace"

struct XMLAttributes {
    fileprivate let base: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
    let count: Int

    /// The value of the attribute with this local name (any namespace but `xml:`).
    /// (A static name: compared as C bytes, with no String made for the comparison.)
    func value(_ local: StaticString) -> String? {
        guard let p = find(local, xmlNamespace: false) else { return nil }
        return Self.text(p[3]!, p[4]!)
    }

    /// An attribute value as text. Without entity substitution (which stays off),
    /// libxml2 hands every '&' of a value on as "&#38;" (`&amp;` in a link's query
    /// came out as "?a=1&#38;b=2"): made '&' again here.
    private static func text(_ start: UnsafePointer<xmlChar>, _ end: UnsafePointer<xmlChar>) -> String {
        let bytes = UnsafeBufferPointer(start: start, count: end - start)
        guard memchr(start, 0x26, bytes.count) != nil else { return String(decoding: bytes, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        decodeAmpersands(bytes) { out.append(contentsOf: $0) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Calls `body` with the runs of `bytes` that make the value, each "&#38;" read as '&'.
    fileprivate static func decodeAmpersands(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        let amp: StaticString = "&"
        var i = 0, from = 0
        while i < bytes.count {
            if bytes[i] == 0x26, i + 5 <= bytes.count, bytes[i + 1] == 0x23, bytes[i + 2] == 0x33, bytes[i + 3] == 0x38, bytes[i + 4] == 0x3B {
                body(UnsafeBufferPointer(rebasing: bytes[from..<i]))
                body(UnsafeBufferPointer(start: amp.utf8Start, count: 1))
                i += 5
                from = i
            } else {
                i += 1
            }
        }
        body(UnsafeBufferPointer(rebasing: bytes[from..<bytes.count]))
    }

    /// The value's bytes, valid only during the callback.
    func valueBytes(_ local: StaticString) -> UnsafeBufferPointer<UInt8>? {
        guard let p = find(local, xmlNamespace: false) else { return nil }
        return UnsafeBufferPointer(start: p[3]!, count: p[4]! - p[3]!)
    }

    /// Whether the element has this attribute (any namespace but `xml:`).
    func has(_ local: StaticString) -> Bool { find(local, xmlNamespace: false) != nil }

    /// The value of `xml:base` or `xml:lang`. Asked of every element, and most have
    /// no attributes: that answer is inlined where it is asked (the call cost 0.7%
    /// of a parse of the CDATA bench file).
    @inline(__always) func xml(_ local: StaticString) -> String? {
        guard count > 0, let p = find(local, xmlNamespace: true) else { return nil }
        return Self.text(p[3]!, p[4]!)
    }

    /// libxml2's five pointers (local name, prefix, URI, value start, value end) of the attribute.
    private func find(_ local: StaticString, xmlNamespace: Bool) -> UnsafeMutablePointer<UnsafePointer<xmlChar>?>? {
        guard let base, count > 0 else { return nil }
        let wanted = UnsafeRawPointer(local.utf8Start).assumingMemoryBound(to: CChar.self)
        let xmlURI = UnsafeRawPointer(xmlNamespaceURI.utf8Start).assumingMemoryBound(to: CChar.self)
        for i in 0..<count {
            let p = base + 5 * i
            guard let name = p[0], p[3] != nil, p[4] != nil else { continue }
            let inXML = p[2].map { strcmp($0, xmlURI) == 0 } ?? false
            if inXML == xmlNamespace, strcmp(name, wanted) == 0 { return p }
        }
        return nil
    }

    /// Writes ` name="value"` for each attribute, values escaped, as markup.
    func serialize(into out: inout ByteSink) {
        guard let base else { return }
        for i in 0..<count {
            let p = base + 5 * i
            guard let name = p[0], let start = p[3], let end = p[4] else { continue }
            out.append(0x20)
            out.append(contentsOf: UnsafeBufferPointer(start: name, count: strlen(name)))
            out.append(literal: "=\"")
            Self.decodeAmpersands(UnsafeBufferPointer(start: start, count: end - start)) { run in
                for b in run {
                    switch b {
                    case 0x26: out.append(literal: "&amp;")
                    case 0x3C: out.append(literal: "&lt;")
                    case 0x22: out.append(literal: "&quot;")
                    default: out.append(b)
                    }
                }
            }
            out.append(0x22)
        }
    }
}

/// What receives the SAX events of `XMLStreamParser`.
protocol SAXDelegate: AnyObject {
    func start(_ name: XMLElementName, attributes: XMLAttributes)
    func end(_ name: XMLElementName)
    func text(_ bytes: UnsafeBufferPointer<UInt8>)
}

/// libxml2's SAX2 push parser, configured for untrusted documents.
///
/// Options: recover from errors, no network, no DTD loading, no entity
/// substitution (`XML_PARSE_NOENT` and `XML_PARSE_HUGE` are never set). The
/// caller feeds clean UTF-8 without a DOCTYPE and with every reference already
/// resolved (see `InputNormalizer`), and `getEntity` refuses any that is left.
///
/// Not thread safe: one parse owns it, on one thread at a time.
final class XMLStreamParser {
    private var ctxt: xmlParserCtxtPtr?
    let builder: any SAXDelegate
    /// Element text the repair step set aside, reported where libxml2 reports its marker.
    private let setAside: SetAsideText
    private var nameCache: [NameKey: (Tag, Namespace)] = [:]
    private var uriCache: [UnsafeRawPointer: Namespace] = [:]
    private(set) var problems: [String] = []
    private(set) var fatal = false

    private struct NameKey: Hashable {
        let local: UnsafeRawPointer
        let uri: UnsafeRawPointer?
    }

    init(builder: any SAXDelegate, setAside: SetAsideText) {
        self.builder = builder
        self.setAside = setAside
        XMLStreamParser.initializeOnce
        var handler = xmlSAXHandler()
        handler.initialized = XML_SAX2_MAGIC
        // The parser outlives every callback (libxml2 calls back only from `push` and
        // `finish`), so the callbacks borrow it without retaining it.
        handler.startElementNs = { ctx, local, _, uri, _, _, nbAttributes, _, attributes in
            guard let ctx, let local else { return }
            Unmanaged<XMLStreamParser>.fromOpaque(ctx)._withUnsafeGuaranteedRef { me in
                let (tag, ns) = me.classify(local: local, uri: uri)
                me.builder.start(
                    XMLElementName(tag: tag, namespace: ns, local: local),
                    attributes: XMLAttributes(base: attributes, count: Int(nbAttributes)))
            }
        }
        handler.endElementNs = { ctx, local, _, uri in
            guard let ctx, let local else { return }
            Unmanaged<XMLStreamParser>.fromOpaque(ctx)._withUnsafeGuaranteedRef { me in
                let (tag, ns) = me.classify(local: local, uri: uri)
                me.builder.end(XMLElementName(tag: tag, namespace: ns, local: local))
            }
        }
        handler.characters = { ctx, ch, len in
            guard let ctx, let ch, len > 0 else { return }
            Unmanaged<XMLStreamParser>.fromOpaque(ctx)._withUnsafeGuaranteedRef {
                $0.builder.text(UnsafeBufferPointer(start: ch, count: Int(len)))
            }
        }
        handler.cdataBlock = handler.characters
        handler.ignorableWhitespace = handler.characters
        // The markers of set-aside text (`<?_ 12?>`); every other processing instruction is ignored.
        handler.processingInstruction = { ctx, target, data in
            guard let ctx, let target, target[0] == 0x5F, target[1] == 0, let data else { return }
            Unmanaged<XMLStreamParser>.fromOpaque(ctx)._withUnsafeGuaranteedRef { me in
                guard let number = XMLStreamParser.markerNumber(data) else { return }
                if let text = me.setAside.take(number), text.count > 0 { me.builder.text(text) }
            }
        }
        // Every reference was resolved before libxml2 sees the bytes (XMLRepair);
        // whatever is left is refused here, so libxml2 never expands or loads an entity.
        handler.getEntity = { _, _ in nil }
        handler.serror = { ctx, error in
            guard let ctx, let error else { return }
            Unmanaged<XMLStreamParser>.fromOpaque(ctx).takeUnretainedValue().record(error.pointee)
        }
        let me = Unmanaged.passUnretained(self).toOpaque()
        ctxt = xmlCreatePushParserCtxt(&handler, me, nil, 0, nil)
        if let ctxt {
            let options: Int32 =
                Int32(XML_PARSE_RECOVER.rawValue) | Int32(XML_PARSE_NONET.rawValue)
                | Int32(XML_PARSE_NOERROR.rawValue) | Int32(XML_PARSE_NOWARNING.rawValue)
                | Int32(XML_PARSE_NOCDATA.rawValue) | Int32(XML_PARSE_IGNORE_ENC.rawValue)
            xmlCtxtUseOptions(ctxt, options)
        }
    }

    deinit {
        if let ctxt {
            if let doc = ctxt.pointee.myDoc { xmlFreeDoc(doc) }
            xmlFreeParserCtxt(ctxt)
        }
    }

    /// libxml2's global initialisation, once per process before any parse.
    private static let initializeOnce: Void = { xmlInitParser() }()

    func push(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let ctxt, !fatal else {
            // No marker will be reported any more: the texts are not kept.
            setAside.discard()
            return
        }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var offset = 0
        while offset < bytes.count {
            let n = min(bytes.count - offset, 1 << 20)
            let rc = base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                xmlParseChunk(ctxt, $0 + offset, Int32(n), 0)
            }
            if rc != 0 && ctxt.pointee.disableSAX != 0 {
                fatal = true
                setAside.discard()
                return
            }
            offset += n
        }
        setAside.dropTaken()
    }

    func finish() {
        guard let ctxt else { return }
        xmlParseChunk(ctxt, nil, 0, 1)
    }

    /// The number in a marker's data: decimal digits only, at most 18.
    private static func markerNumber(_ data: UnsafePointer<xmlChar>) -> Int? {
        var value = 0, i = 0
        while i < 19 {
            let c = data[i]
            if c == 0 { return i > 0 ? value : nil }
            guard c >= 0x30 && c <= 0x39, i < 18 else { return nil }
            value = value * 10 + Int(c - 0x30)
            i += 1
        }
        return nil
    }

    /// The last names classified, by their (interned) local-name pointer: a hit
    /// costs a few loads, where the dictionary below hashes the pair. Two ways a set
    /// (slots `2k` and `2k + 1`, the newer first): with one, two of an item's nine
    /// names in the same slot (nearly every other feed) put each other out, twice an
    /// item, and each miss hashed its name in the dictionary.
    /// Not checked for exclusive access at run time: only `classify` touches it, from
    /// one SAX callback at a time (the check cost more than the lookup).
    @exclusivity(unchecked) private var recentNames = [RecentName](repeating: RecentName(), count: 128)

    private struct RecentName {
        var local: UnsafeRawPointer?
        var uri: UnsafeRawPointer?
        var tag: Tag = .other
        var namespace: Namespace = .none
    }

    private func classify(local: UnsafePointer<xmlChar>, uri: UnsafePointer<xmlChar>?) -> (Tag, Namespace) {
        let localPointer = UnsafeRawPointer(local), uriPointer = uri.map(UnsafeRawPointer.init)
        // libxml2 interns element names in its dictionary, so one name is one pointer.
        // Hashed, not masked: names sit a few bytes apart in the dictionary's pool, and
        // the address bits alone put an Atom entry's names in the same slots (six misses an item).
        let slot = Int(truncatingIfNeeded: (UInt(bitPattern: localPointer) &* 0x9E37_79B9_7F4A_7C15) >> 58) << 1
        let newer = recentNames[slot]
        if newer.local == localPointer && newer.uri == uriPointer { return (newer.tag, newer.namespace) }
        let older = recentNames[slot + 1]
        if older.local == localPointer && older.uri == uriPointer { return (older.tag, older.namespace) }
        let found = classifyUncached(local: local, uri: uri)
        recentNames[slot + 1] = newer
        recentNames[slot] = RecentName(local: localPointer, uri: uriPointer, tag: found.0, namespace: found.1)
        return found
    }

    private func classifyUncached(local: UnsafePointer<xmlChar>, uri: UnsafePointer<xmlChar>?) -> (Tag, Namespace) {
        let key = NameKey(local: UnsafeRawPointer(local), uri: uri.map(UnsafeRawPointer.init))
        if let hit = nameCache[key] { return hit }
        let ns: Namespace
        if let uri {
            if let known = uriCache[UnsafeRawPointer(uri)] { ns = known } else {
                ns = Namespace(uri: String(cString: uri))
                uriCache[UnsafeRawPointer(uri)] = ns
            }
        } else {
            ns = .none
        }
        let result = (Tag(namespace: ns, local: String(cString: local)), ns)
        if nameCache.count < 4096 { nameCache[key] = result }
        return result
    }

    private func record(_ error: xmlError) {
        guard problems.count < 20 else { return }
        let message = error.message.map { String(cString: $0) }?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown error"
        problems.append("line \(error.line): \(message)")
    }
}
