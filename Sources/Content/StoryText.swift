import Foundation

/// Cleans a story's plain text for readers and for copy detection: paragraphs
/// that are page junk (inline CSS or script, share and newsletter lines) are
/// dropped, and an attribution line ("Source: Racurs", "Originally published
/// by …") is taken out and returned as the story's source.
public enum StoryText {
    public struct Cleaned: Sendable, Equatable {
        /// The remaining paragraphs, joined by blank lines.
        public var text: String
        /// The outlet an attribution line names, if one did.
        public var sourceName: String?
    }

    public static func clean(_ text: String) -> Cleaned {
        var paragraphs = split(text)
        paragraphs.removeAll(where: isJunk)
        var source: String?
        // Attribution lines sit near the end (sometimes before a bio), rarely at the top.
        // The last one names the source; a reprint of a reprint carries the first
        // reprinter's line too, and every such line leaves the text.
        for index in paragraphs.indices.reversed() {
            if let name = attribution(paragraphs[index]) {
                if source == nil { source = name }
                paragraphs.remove(at: index)
            }
        }
        return Cleaned(text: paragraphs.joined(separator: "\n\n"), sourceName: source)
    }

    /// Paragraphs of a text as the renderer writes it (blank-line separated).
    public static func split(_ text: String) -> [String] {
        text.components(separatedBy: "\n\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// Inline CSS (`.in_text_content_22 { width: 300px; … }`, `@media(…) {`),
    /// script (`function(`, `document.`, `window.`), and share or newsletter lines.
    public static func isJunk(_ p: String) -> Bool {
        let lower = p.lowercased()
        let braces = p.filter { $0 == "{" || $0 == "}" }.count
        if braces >= 2 {
            let declarations = lower.components(separatedBy: ";").count - 1
            if lower.contains("@media") || declarations >= 2 || lower.range(of: #"[.#][a-z_][\w-]*\s*\{"#, options: .regularExpression) != nil {
                return true
            }
            if lower.contains("function(") || lower.contains("function (") || lower.contains("document.") || lower.contains("window.") {
                return true
            }
        }
        guard p.count < 200 else { return false }
        let prefixes = [
            "share this", "share on ", "tweet this", "follow us on", "sign up for our newsletter", "subscribe to our newsletter",
            "click here to subscribe", "read more", "continue reading", "read the full story", "advertisement", "comments are closed",
            "we use cookies", "this site uses cookies", "print this page", "copyright ©", "copyright (c)", "© ", "all rights reserved",
            "editor's note:", "editor’s note:", "photo:", "image:", "picture:", "this is a developing story",
        ]
        return prefixes.contains { lower.hasPrefix($0) } || lower == "share"
    }

    private static let attributionPatterns: [String] = [
        #"^(?:(?:read more|continue reading|read the full story)\W*\s+)?sources?\s*:\s*(.+)$"#,
        #"^originally (?:published|posted|appeared) (?:by|at|on|in)\s+(.+)$"#,
        #"^this (?:article|story|post) (?:was )?(?:first|originally) (?:appeared|published) (?:on|in|at|by)\s+(.+)$"#,
        #"^(?:re)?(?:printed|published) (?:with permission )?(?:from|by)\s+(.+)$"#,
        #"^read the original (?:article|story|post)?\s*(?:on|at|in)\s+(.+)$"#,
        #"^(?:story |article )?courtesy(?: of)?\s*:?\s+(.+)$"#,
        #"^(?:(?:read more|continue reading|read the full story)\W*\s+)?via\s+(.+)$"#,
    ]

    private static let attributionRegexes: [NSRegularExpression] = attributionPatterns.map {
        try! NSRegularExpression(pattern: $0, options: [.caseInsensitive])  // literals above; a typo fails every test at once
    }

    /// The outlet named by an attribution line, or nil when the paragraph is not one.
    public static func attribution(_ paragraph: String) -> String? {
        let p = paragraph.trimmingCharacters(in: .whitespacesAndNewlines)
        guard p.count <= 160, !p.contains("\n") else { return nil }
        for regex in attributionRegexes {
            guard let m = regex.firstMatch(in: p, range: NSRange(p.startIndex..., in: p)), let r = Range(m.range(at: 1), in: p)
            else { continue }
            var name = String(p[r]).trimmingCharacters(in: .whitespaces)
            while let last = name.last, ".;:,".contains(last) { name.removeLast() }
            // "Source: Racurs" names an outlet; a sentence that merely starts with "via" does not.
            guard !name.isEmpty, name.split(separator: " ").count <= 8 else { continue }
            return name
        }
        return nil
    }

    /// Paragraphs that recur in at least two items of one document (an author
    /// bio, a newsletter plug): the outlet's boilerplate, not the story.
    public static func recurringParagraphs(_ texts: [String]) -> Set<String> {
        guard texts.count >= 2 else { return [] }
        var seen: [String: Int] = [:]
        for t in texts {
            for p in Set(split(t)) where p.count >= 40 { seen[p, default: 0] += 1 }
        }
        return Set(seen.filter { $0.value >= 2 }.keys)
    }
}
