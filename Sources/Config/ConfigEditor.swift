import FeedspoolModel
import Foundation

/// Adds feeds to config.json's text without reformatting the rest: new entries
/// go at the end of the `feeds` array, one per line, in the indentation the file uses.
public enum ConfigEditor {
    public struct NewFeed: Sendable, Hashable {
        public var id: String
        public var url: String
        public var tags: [String]

        public init(id: String, url: String, tags: [String] = []) {
            self.id = id
            self.url = url
            self.tags = tags
        }
    }

    /// The text with `feeds` appended; nil when the text is not a JSON object.
    public static func appending(_ feeds: [NewFeed], to text: String) -> String? {
        guard !feeds.isEmpty else { return text }
        let chars = Array(text.unicodeScalars)
        // Find the top-level object and, in it, the "feeds" array.
        var depth = 0
        var i = 0
        var inString = false
        var stringStart = 0
        var lastKey: String?
        var objectEnd: Int?
        var arrayStart: Int?
        var arrayEnd: Int?
        var arrayDepth = 0
        while i < chars.count {
            let c = chars[i]
            if inString {
                if c == "\\" { i += 2; continue }
                if c == "\"" {
                    inString = false
                    if depth == 1 { lastKey = String(String.UnicodeScalarView(chars[(stringStart + 1)..<i])) }
                }
                i += 1
                continue
            }
            switch c {
            case "\"": inString = true; stringStart = i
            case "{", "[":
                depth += 1
                if c == "[", depth == 2, lastKey == "feeds", arrayStart == nil { arrayStart = i; arrayDepth = depth }
            case "}", "]":
                if c == "]", arrayStart != nil, arrayEnd == nil, depth == arrayDepth { arrayEnd = i }
                depth -= 1
                if depth == 0 && c == "}" { objectEnd = i }
            case ",": if depth == 1 { lastKey = nil }
            default: break
            }
            i += 1
        }
        guard let objectEnd, chars.first(where: { !$0.properties.isWhitespace }) == "{" else { return nil }
        let indent = detectIndent(chars, arrayStart: arrayStart)
        let lines = feeds.map { indent + "  " + entry($0) }
        var out = String.UnicodeScalarView()
        if let start = arrayStart, let end = arrayEnd {
            var last = end - 1
            while last > start, chars[last].properties.isWhitespace { last -= 1 }
            let isEmpty = last == start
            out.append(contentsOf: chars[...last])
            let joined = lines.joined(separator: ",\n")
            out.append(contentsOf: ((isEmpty ? "\n" : ",\n") + joined + (isEmpty ? "\n" + indent : "")).unicodeScalars)
            out.append(contentsOf: chars[(isEmpty ? end : last + 1)...])
        } else {
            var last = objectEnd - 1
            while last > 0, chars[last].properties.isWhitespace { last -= 1 }
            let isEmpty = chars[last] == "{"
            out.append(contentsOf: chars[...last])
            out.append(contentsOf: ((isEmpty ? "\n" : ",\n") + indent + "\"feeds\": [\n" + lines.joined(separator: ",\n") + "\n" + indent + "]\n").unicodeScalars)
            out.append(contentsOf: chars[objectEnd...])
        }
        return String(out)
    }

    /// The indentation of the `feeds` key's line, or two spaces.
    private static func detectIndent(_ chars: [Unicode.Scalar], arrayStart: Int?) -> String {
        guard let start = arrayStart else { return "  " }
        var lineStart = start
        while lineStart > 0, chars[lineStart - 1] != "\n" { lineStart -= 1 }
        var indent = ""
        var j = lineStart
        while j < chars.count, chars[j] == " " || chars[j] == "\t" { indent.unicodeScalars.append(chars[j]); j += 1 }
        return indent
    }

    private static func entry(_ f: NewFeed) -> String {
        var s = "{ \"id\": \(quote(f.id)), \"url\": \(quote(f.url))"
        if !f.tags.isEmpty { s += ", \"tags\": [" + f.tags.map(quote).joined(separator: ", ") + "]" }
        return s + " }"
    }

    private static func quote(_ s: String) -> String {
        var w = JSONWriter()
        w.value(s)
        return w.string
    }
}
