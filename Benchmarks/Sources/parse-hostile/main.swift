// Hostile document shapes: does parse time grow with size, or faster?
//
// Each shape is built at 1 MiB and 4 MiB and parsed twice, pushed in chunks of
// 1 MiB (`feedspool parse` reading a file) and of 4 KiB (curl's write callback).
// Linear work grows about 4x from the small size to the large one; quadratic
// work 16x. A shape whose time grows more than 8x, or that takes over 5 s at
// 1 MiB, is flagged, and the run exits 1.
//
// Run: swift run -c release --package-path Benchmarks parse-hostile [SHAPE]
import Foundation
import Parse

struct Shape {
    let name: String
    /// The whole document for a payload of about `n` bytes.
    let document: (Int) -> String
}

func rss(_ items: String) -> String {
    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>\(items)</channel></rss>"
}

func item(_ body: String) -> String { rss("<item><title>a</title>\(body)</item>") }

func description(_ text: String) -> String { item("<description>\(text)</description>") }

func repeated(_ s: String, toFill n: Int) -> String { String(repeating: s, count: max(1, n / s.utf8.count)) }

let shapes: [Shape] = [
    Shape(name: "comment") { item("<!--" + repeated("x", toFill: $0) + "-->") },
    Shape(name: "attribute") { item("<x a=\"" + repeated("x", toFill: $0) + "\"/>") },
    Shape(name: "attr-unclosed") { item("<x a=\"" + repeated("x", toFill: $0)) },
    Shape(name: "many-attributes") { item("<x " + repeated("a=\"1\" ", toFill: $0) + "/>") },
    Shape(name: "cdata") { description("<![CDATA[" + repeated("x", toFill: $0) + "]]>") },
    Shape(name: "cdata-unclosed") { description("<![CDATA[" + repeated("x", toFill: $0)) },
    Shape(name: "text") { description(repeated("x ", toFill: $0)) },
    Shape(name: "bare-ampersands") { description(repeated("&", toFill: $0)) },
    Shape(name: "bare-less-thans") { description(repeated("<", toFill: $0)) },
    Shape(name: "references") { description(repeated("&amp;&#x201C;&ldquo;", toFill: $0)) },
    Shape(name: "unknown-entities") { description(repeated("&foo;", toFill: $0)) },
    Shape(name: "long-reference") { description("&" + repeated("a", toFill: $0) + ";") },
    Shape(name: "instruction") { item("<?pi " + repeated("x", toFill: $0) + "?>") },
    Shape(name: "long-tag-name") { item("<" + repeated("x", toFill: $0) + "/>") },
    Shape(name: "stray-end-tags") { item(repeated("</x>", toFill: $0)) },
    Shape(name: "unclosed-tags") { item(repeated("<x>", toFill: $0)) },
    Shape(name: "mismatched-tags") { item(repeated("<a><b></a>", toFill: $0)) },
    Shape(name: "child-markup") { description(repeated("<b c=\"d\">x</b>", toFill: $0)) },
    Shape(name: "xhtml-children") {
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title><entry><id>e</id><title>t</title>"
            + "<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">" + repeated("<b>x</b>", toFill: $0)
            + "</div></content></entry></feed>"
    },
    Shape(name: "escaped-html") { description(repeated("&lt;p&gt;&lt;a href=\"/x\"&gt;y&lt;/a&gt;&lt;/p&gt;", toFill: $0)) },
    Shape(name: "html-unclosed") { description(repeated("&lt;div&gt;&lt;span&gt;x", toFill: $0)) },
    Shape(name: "html-attributes") { description("&lt;a " + repeated("h=\"v\" ", toFill: $0) + "&gt;x") },
    Shape(name: "paragraphs") { description(repeated("&lt;p&gt;a b c&lt;/p&gt;", toFill: $0)) },
    Shape(name: "items") { rss(repeated("<item><title>a</title></item>", toFill: $0)) },
    Shape(name: "items-same-text") { rss(repeated("<item><description>same &lt;p&gt;line&lt;/p&gt;</description></item>", toFill: $0)) },
    Shape(name: "categories") { item(repeated("<category>c</category>", toFill: $0)) },
    Shape(name: "whitespace") { item(repeated(" ", toFill: $0)) },
    Shape(name: "nuls") { description(repeated("\u{0}", toFill: $0)) },
    Shape(name: "carriage-returns") { description(repeated("\r", toFill: $0)) },
    Shape(name: "cdata-ends") { description(repeated("]]>", toFill: $0)) },
    Shape(name: "braces-paragraph") { description(repeated("a{b} c ", toFill: $0)) },
    Shape(name: "css-paragraph") { description(repeated(".x_1 { width: 1px; } ", toFill: $0)) },
    Shape(name: "css-paragraphs") { description(repeated(".x_1 { width: 1px; }&lt;p&gt;", toFill: $0)) },
    Shape(name: "source-lines") { description(repeated("Source: Racurs&lt;p&gt;", toFill: $0)) },
    Shape(name: "long-source-line") { description("Source: " + repeated("Racurs ", toFill: $0)) },
    Shape(name: "non-ascii-text") { description(repeated("\u{201C}Привет\u{00A0}мир\u{201D} ", toFill: $0)) },
    Shape(name: "json-items") {
        #"{"version":"https://jsonfeed.org/version/1.1","title":"t","items":["#
            + String(repeated(#"{"id":"i","content_text":"x"},"#, toFill: $0).dropLast()) + "]}"
    },
    Shape(name: "json-tags") {
        #"{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"i","tags":["#
            + String(repeated(#""tag","#, toFill: $0).dropLast()) + "]}]}"
    },
    Shape(name: "entity-declarations") {
        "<!DOCTYPE rss [" + repeated("<!ENTITY e \"x\">", toFill: $0) + "]><rss><channel><item><title>&e;</title></item></channel></rss>"
    },
]

/// Seconds to parse `bytes` pushed in chunks of `size`, and the items found.
func parse(_ bytes: [UInt8], chunk size: Int) -> (seconds: Double, items: Int) {
    let started = DispatchTime.now().uptimeNanoseconds
    let parser = FeedParser(options: ParseOptions(charset: nil, feedID: "hostile"))
    var i = 0
    while i < bytes.count {
        let end = min(bytes.count, i + size)
        do {
            try bytes[i..<end].withUnsafeBytes { try parser.push($0) }
        } catch {
            break  // refused (over a limit): the time so far is what it cost
        }
        i = end
    }
    let items = (try? parser.finish())?.items.count ?? -1
    return (Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9, items)
}

let only = CommandLine.arguments.dropFirst().first
let selected = shapes.filter { only == nil || $0.name == only }
guard !selected.isEmpty else {
    print("no shape named \(only!); shapes: \(shapes.map(\.name).joined(separator: ", "))")
    exit(2)
}
print("shape                 1 MiB: 1M chunks  4K chunks   4 MiB: 1M chunks  4K chunks   growth  items")
var flagged: [String] = []
for shape in selected {
    let small = Array(shape.document(1 << 20).utf8), large = Array(shape.document(4 << 20).utf8)
    let s1 = parse(small, chunk: 1 << 20), s2 = parse(small, chunk: 4096)
    let smallWorst = max(s1.seconds, s2.seconds)
    var line = shape.name.padding(toLength: 22, withPad: " ", startingAt: 0)
        + String(format: "%15.3fs %9.3fs", s1.seconds, s2.seconds)
    if smallWorst > 5 {
        flagged.append(shape.name)
        print(line + "   (4 MiB skipped: too slow)  FLAGGED")
        continue
    }
    let l1 = parse(large, chunk: 1 << 20), l2 = parse(large, chunk: 4096)
    // Below a few milliseconds the ratio is noise; the floor keeps it from flagging.
    let growth = max(l1.seconds, l2.seconds) / max(smallWorst, 0.005)
    line += String(format: "%18.3fs %9.3fs %8.1fx  %d", l1.seconds, l2.seconds, growth, l2.items)
    if growth > 8 {
        flagged.append(shape.name)
        line += "  FLAGGED"
    }
    print(line)
}
if !flagged.isEmpty {
    print("grows faster than linear: \(flagged.joined(separator: ", "))")
    exit(1)
}
print("all \(selected.count) shapes grow linearly (at most 8x for 4x the bytes)")
