/// What the renderer knows about an HTML element or attribute name.
struct TagTraits: OptionSet, Sendable {
    let rawValue: UInt16
    /// Kept in sanitized HTML.
    static let keep = TagTraits(rawValue: 1 << 0)
    /// Has no end tag.
    static let void = TagTraits(rawValue: 1 << 1)
    /// Starts and ends a paragraph in plain text.
    static let block = TagTraits(rawValue: 1 << 2)
    /// A line break in plain text (`br`, `li`).
    static let line = TagTraits(rawValue: 1 << 3)
    /// Removed with everything inside it.
    static let drop = TagTraits(rawValue: 1 << 4)
    /// Its content is raw text up to its end tag (`script`, `style`).
    static let raw = TagTraits(rawValue: 1 << 5)
    /// A table cell: a space in plain text.
    static let cell = TagTraits(rawValue: 1 << 6)
}

/// Packs an ASCII name (letters, digits, `-`) case-insensitively into 60 bits,
/// six bits a character, so that tag and attribute lookups need no String.
/// Names longer than ten characters or with other bytes pack to 0 (unknown).
@inline(__always)
func packName(_ buf: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> UInt64 {
    let n = end - start
    guard n > 0 && n <= 10 else { return 0 }
    var key: UInt64 = 0
    for i in start..<end {
        let c = buf[i] | 0x20
        let v: UInt64
        if c >= 0x61 && c <= 0x7A {
            v = UInt64(c - 0x60)  // 1...26
        } else if buf[i] >= 0x30 && buf[i] <= 0x39 {
            v = UInt64(buf[i] - 0x30 + 27)  // 27...36
        } else if buf[i] == UInt8(ascii: "-") {
            v = 37
        } else {
            return 0
        }
        key = key << 6 | v
    }
    return key
}

func packName(_ s: String) -> UInt64 {
    let bytes = Array(s.utf8)
    return bytes.withUnsafeBufferPointer { packName($0, 0, $0.count) }
}

enum HTMLTags {
    static let traits: PackedTable<TagTraits> = {
        var t: [(UInt64, TagTraits)] = []
        func set(_ names: String, _ traits: TagTraits) {
            for n in names.split(separator: " ") { t.append((packName(String(n)), traits)) }
        }
        set("p div h1 h2 h3 h4 h5 h6 blockquote pre ul ol dl dt dd table thead tbody tfoot tr caption figure figcaption section article aside header footer address details summary", [.keep, .block])
        set("li", [.keep, .line])
        set("hr", [.keep, .block, .void])
        set("br", [.keep, .void, .line])
        set("td th", [.keep, .cell])
        set("a abbr acronym b bdi bdo big cite code del dfn em i ins kbd mark q s samp small span strike strong sub sup time tt u var rp rt ruby colgroup audio video picture", [.keep])
        set("img wbr col source track", [.keep, .void])
        set("script style textarea xmp title noembed noframes", [.drop, .raw])
        set("frameset template svg math head select button form", [.drop])
        // Removed, but what they hold is kept (and sanitized): fallback content and text.
        set("iframe object applet canvas noscript font center", [])
        set("embed frame input meta link base param", [.drop, .void])
        set("center main nav fieldset legend hgroup dir menu body html", [.block])
        return PackedTable(t)
    }()

    /// Attributes kept on every allowed element.
    static let globalAttributes: Set<UInt64> = Set(["title", "lang", "dir"].map(packName))

    /// Attributes kept on one element, beyond the global ones.
    static let elementAttributes: [UInt64: Set<UInt64>] = {
        var m: [UInt64: Set<UInt64>] = [:]
        func set(_ tags: String, _ attrs: String) {
            let a = Set(attrs.split(separator: " ").map { packName(String($0)) })
            for tag in tags.split(separator: " ") { m[packName(String(tag)), default: []].formUnion(a) }
        }
        set("a", "href hreflang")
        set("img", "src alt width height")
        set("blockquote q del ins", "cite")
        set("td th", "colspan rowspan headers scope")
        set("ol", "start reversed type")
        set("li", "value")
        set("time", "datetime")
        set("audio", "src controls")
        set("video", "src controls poster width height")
        set("source", "src type")
        set("track", "src kind srclang label")
        set("col colgroup", "span")
        return m
    }()

    /// The elements that have attributes of their own, each with one bit, so that
    /// an attribute's policy is a plain value (no set to retain and release per lookup).
    static let elementBits: PackedTable<UInt64> = {
        let keys = Set(elementAttributes.keys).sorted()
        precondition(keys.count <= 64)
        return PackedTable(keys.enumerated().map { ($0.element, UInt64(1) << UInt64($0.offset)) })
    }()

    /// Where an attribute may appear, and whether it holds a URL: one lookup per attribute.
    struct AttributePolicy: Sendable {
        var global: Bool
        /// The bits (`elementBits`) of the elements it is kept on.
        var elements: UInt64
        var isURL: Bool

        /// `elementBit` is the element's bit in `elementBits`, or 0.
        @inline(__always) func isAllowed(onElementBit elementBit: UInt64) -> Bool { global || elements & elementBit != 0 }
    }

    static let attributePolicy: PackedTable<AttributePolicy> = {
        var m: [UInt64: AttributePolicy] = [:]
        for a in globalAttributes { m[a, default: AttributePolicy(global: false, elements: 0, isURL: false)].global = true }
        for (element, attrs) in elementAttributes {
            for a in attrs { m[a, default: AttributePolicy(global: false, elements: 0, isURL: false)].elements |= elementBits[element]! }
        }
        for a in urlAttributes { m[a]?.isURL = true }
        return PackedTable(m.map { ($0.key, $0.value) })
    }()

    /// Attributes whose value is a URL: checked against the scheme allowlist and made absolute.
    static let urlAttributes: Set<UInt64> = Set(["href", "src", "cite", "poster"].map(packName))
    static let href = packName("href")
    static let a = packName("a")
}
