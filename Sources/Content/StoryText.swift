import CByteScan
import Foundation

/// Cleans a story's plain text for readers and for copy detection: paragraphs
/// that are page junk (inline CSS or script, share and newsletter lines) are
/// dropped, and an attribution line ("Source: Racurs", "Originally published
/// by …") is taken out and returned as the story's source.
///
/// Every story of every feed passes through here, so the common case works on
/// the UTF-8 bytes: a paragraph reaches Foundation (regular expressions) only
/// when it already looks like code or starts like an attribution line.
public enum StoryText {
    public struct Cleaned: Sendable, Equatable {
        /// The remaining paragraphs, joined by blank lines.
        public var text: String
        /// The outlet an attribution line names, if one did.
        public var sourceName: String?
    }

    public static func clean(_ text: String) -> Cleaned {
        var text = text
        let cleaned = text.withUTF8 { clean(utf8: $0) }
        return Cleaned(text: cleaned.joined ?? text, sourceName: cleaned.sourceName)
    }

    /// `clean` on UTF-8 bytes (the parser's renderer output, without a String of it).
    public struct CleanedUTF8: Sendable {
        /// The remaining paragraphs joined by blank lines; nil when they are all of
        /// the text as it was given (nothing removed or trimmed).
        public var joined: String?
        /// The outlet an attribution line names, if one did.
        public var sourceName: String?
        /// When `joined` is nil: the paragraphs' ranges in the text as given (for
        /// `ParagraphTally.add(utf8:paragraphs:)`, which would find them again).
        public var paragraphs: [Range<Int>]
    }

    public static func clean(utf8 b: UnsafeBufferPointer<UInt8>) -> CleanedUTF8 {
        var kept = Paragraphs.ranges(b)
        // A paragraph of code has two braces or more, and most stories have none at
        // all: counted once over the story, not paragraph by paragraph.
        let braces = hasTwoBraces(b, 0..<b.count)
        // Most stories have no junk: looked for first, removed (in place) only when found.
        if kept.contains(where: { isJunk(b, $0, mayBeCode: braces) }) { kept.removeAll { isJunk(b, $0, mayBeCode: braces) } }
        var source: String?
        // Attribution lines sit near the end (sometimes before a bio), rarely at the top.
        // The last one names the source; a reprint of a reprint carries the first
        // reprinter's line too, and every such line leaves the text.
        for index in kept.indices.reversed() {
            if let name = attribution(b, kept[index]) {
                if source == nil { source = name }
                kept.remove(at: index)
            }
        }
        let whole = isWhole(b, kept)
        return CleanedUTF8(joined: whole ? nil : joined(b, kept), sourceName: source, paragraphs: whole ? kept : [])
    }

    /// Whether `ranges` joined by blank lines would be all of `b` (nothing was
    /// removed or trimmed): then the text is kept as it is, without a copy.
    private static func isWhole(_ b: UnsafeBufferPointer<UInt8>, _ ranges: [Range<Int>]) -> Bool {
        guard let first = ranges.first, let last = ranges.last, first.lowerBound == 0, last.upperBound == b.count else { return false }
        for k in ranges.indices.dropFirst() where ranges[k].lowerBound != ranges[k - 1].upperBound + 2 { return false }
        return true
    }

    /// The ranges of `b` joined by blank lines, as one String.
    static func joined(_ b: UnsafeBufferPointer<UInt8>, _ ranges: [Range<Int>]) -> String {
        guard !ranges.isEmpty else { return "" }
        let total = ranges.reduce(0) { $0 + $1.count } + 2 * (ranges.count - 1)
        return String(unsafeUninitializedCapacity: total) { out in
            var o = 0
            for (k, r) in ranges.enumerated() {
                if k > 0 {
                    out[o] = 0x0A
                    out[o + 1] = 0x0A
                    o += 2
                }
                _ = UnsafeMutableBufferPointer(rebasing: out[o..<o + r.count]).initialize(from: UnsafeBufferPointer(rebasing: b[r]))
                o += r.count
            }
            return o
        }
    }

    /// Inline CSS (`.in_text_content_22 { width: 300px; … }`, `@media(…) {`),
    /// script (`function(`, `document.`, `window.`), and share or newsletter lines.
    public static func isJunk(_ p: String) -> Bool {
        var p = p
        return p.withUTF8 { b in isJunk(b, Paragraphs.trimmed(b, 0..<b.count)) }
    }

    /// `mayBeCode`: false when the text the paragraph is in has fewer than two braces.
    static func isJunk(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, mayBeCode: Bool = true) -> Bool {
        if mayBeCode, hasTwoBraces(b, r), isCode(String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self)) { return true }
        // The first byte rules out most paragraphs before any comparing, and a prefix
        // that matches (rarely) before the length is counted.
        guard let candidates = junkPrefixesByFirstByte[firstByte(b, r)] else { return false }
        guard candidates.contains(where: { hasPrefix(b, r, $0) }) || (r.count == 5 && hasPrefix(b, r, share)) else { return false }
        return !Paragraphs.hasAtLeast(200, charactersIn: b, r)
    }

    private static let share = Array("share".utf8)

    /// The paragraph's first byte, lowercased if an ASCII letter (256 if empty).
    @inline(__always) private static func firstByte(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Int {
        guard !r.isEmpty else { return 256 }
        var c = b[r.lowerBound]
        if c >= 0x41, c <= 0x5A { c |= 0x20 }
        return Int(c)
    }

    /// The junk prefixes by their first byte (index 256, an empty paragraph: none).
    /// ("share" alone is junk too; "share this" puts 's' in the table.)
    private static let junkPrefixesByFirstByte = byFirstByte(junkPrefixes)

    /// Lowercase prefixes by their first byte (index 256, an empty paragraph: none):
    /// a paragraph is compared only with those that can match it.
    private static func byFirstByte(_ prefixes: [[UInt8]]) -> [[[UInt8]]?] {
        var table = [[[UInt8]]?](repeating: nil, count: 257)
        for p in prefixes { table[Int(p[0])] = (table[Int(p[0])] ?? []) + [p] }
        return table
    }

    private static let attributionOpeningsByFirstByte = byFirstByte(attributionOpenings)

    /// Whether the bytes in `r` hold at least two of `{` and `}` (sixteen bytes a
    /// step, in C: prose rarely has any).
    private static func hasTwoBraces(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Bool {
        guard let base = b.baseAddress, r.count >= 2 else { return false }
        return feedspool_brace_count(base + r.lowerBound, r.count, 2) >= 2
    }

    /// A paragraph with braces that is a style sheet or a script, not prose.
    private static func isCode(_ p: String) -> Bool {
        let lower = p.lowercased()
        let declarations = lower.components(separatedBy: ";").count - 1
        if lower.contains("@media") || declarations >= 2 || lower.range(of: #"[.#][a-z_][\w-]*\s*\{"#, options: .regularExpression) != nil {
            return true
        }
        return lower.contains("function(") || lower.contains("function (") || lower.contains("document.") || lower.contains("window.")
    }

    private static let junkPrefixes: [[UInt8]] = [
        "share this", "share on ", "tweet this", "follow us on", "sign up for our newsletter", "subscribe to our newsletter",
        "click here to subscribe", "read more", "continue reading", "read the full story", "advertisement", "comments are closed",
        "we use cookies", "this site uses cookies", "print this page", "copyright ©", "copyright (c)", "© ", "all rights reserved",
        "editor's note:", "editor’s note:", "photo:", "image:", "picture:", "this is a developing story",
    ].map { Array($0.utf8) }

    /// Whether the bytes in `r` start with `prefix` (lowercase), ASCII letters compared without case.
    @inline(__always) static func hasPrefix(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, _ prefix: [UInt8]) -> Bool {
        guard r.count >= prefix.count else { return false }
        var i = r.lowerBound
        for p in prefix {
            var c = b[i]
            if c >= 0x41, c <= 0x5A { c |= 0x20 }
            if c != p { return false }
            i += 1
        }
        return true
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

    /// Every way an attribution pattern above can begin (lowercase): a paragraph
    /// that starts otherwise is not one, and skips the regular expressions.
    private static let attributionOpenings: [[UInt8]] = [
        "source", "originally ", "this article", "this story", "this post", "printed", "reprinted", "published", "republished",
        "read ", "continue reading", "story courtesy", "article courtesy", "courtesy", "via",
    ].map { Array($0.utf8) }

    private static let attributionRegexes: [NSRegularExpression] = attributionPatterns.map {
        try! NSRegularExpression(pattern: $0, options: [.caseInsensitive])  // literals above; a typo fails every test at once
    }

    static func attribution(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> String? {
        guard r.count <= 160 * 4, let candidates = attributionOpeningsByFirstByte[firstByte(b, r)],
            candidates.contains(where: { hasPrefix(b, r, $0) })
        else { return nil }
        return attribution(String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self))
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

    /// Paragraphs (of at least `minimumRecurringLength` characters) that recur in
    /// at least two items of one document (an author bio, a newsletter plug): the
    /// outlet's boilerplate, not the story.
    public static func recurringParagraphs(_ texts: [String]) -> RecurringParagraphs {
        var tally = ParagraphTally()
        for t in texts { tally.add(t) }
        return tally.recurring(in: texts)
    }

    /// Counts, by a 64-bit hash of their bytes, how many of a document's stories
    /// hold each paragraph long enough to be boilerplate; one story at a time, so
    /// that the counting can go along as stories are made (no String per paragraph).
    public struct ParagraphTally: Sendable {
        private var counts = HashCounts(expected: 64)
        private var stories = 0
        /// The last story's paragraph hashes (each once), not yet in `counts`: their
        /// slots were prefetched when they were hashed, and they are counted with the
        /// next story. A document's table outgrows the cache (50,000 stories: 4 MB),
        /// and counting at once waited for a slot from memory, paragraph by paragraph.
        private var pending: [UInt64] = []

        public init() {}

        public mutating func add(_ text: String) {
            var t = text
            t.withUTF8 { add(utf8: $0) }
        }

        /// Counts one story given as UTF-8.
        public mutating func add(utf8 b: UnsafeBufferPointer<UInt8>) {
            add(utf8: b, paragraphs: Paragraphs.ranges(b))
        }

        /// Counts one story given as UTF-8 whose paragraphs' ranges are known
        /// (`Paragraphs.ranges(b)`, as `StoryText.clean(utf8:)` returns them).
        public mutating func add(utf8 b: UnsafeBufferPointer<UInt8>, paragraphs: [Range<Int>]) {
            stories += 1
            countPending()
            for r in paragraphs where isLongEnough(b, r) {
                let h = FastHash.hash(b, r)
                guard !pending.contains(h) else { continue }  // a handful per story: a list beats a set
                pending.append(h)
                counts.prefetch(h)
            }
        }

        private mutating func countPending() {
            for h in pending { counts.increment(h) }
            pending.removeAll(keepingCapacity: true)
        }

        /// Adds the counts of `other` (stories counted apart, in the same document).
        public mutating func merge(_ other: ParagraphTally) {
            stories += other.stories
            countPending()
            counts.merge(other.counts)
            for h in other.pending { counts.increment(h) }
        }

        /// The paragraphs in at least two of `texts`, which must be the stories added
        /// (in any order). Only paragraphs whose hash was counted twice are compared
        /// by text, so a collision changes nothing.
        public func recurring(in texts: some Sequence<String>) -> RecurringParagraphs {
            guard stories >= 2 else { return RecurringParagraphs([]) }
            var suspects = counts.keys(countedAtLeast: 2)
            // The last story's paragraphs, one count each, are not in `counts` yet.
            for h in pending where counts.count(h) >= 1 { suspects.insert(HashCounts.key(h)) }
            guard !suspects.isEmpty else { return RecurringParagraphs([]) }
            var exact: [String: Int] = [:]
            for t in texts {
                var t = t
                let candidates: Set<String> = t.withUTF8 { b in
                    var s = Set<String>()
                    for r in Paragraphs.ranges(b) where isLongEnough(b, r) && suspects.contains(HashCounts.key(FastHash.hash(b, r))) {
                        s.insert(String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self))
                    }
                    return s
                }
                for p in candidates { exact[p, default: 0] += 1 }
            }
            return RecurringParagraphs(Set(exact.compactMap { $0.value >= 2 ? $0.key : nil }))
        }
    }

    /// A document's recurring paragraphs, with their byte hashes computed once
    /// (computed per story, they made removal quadratic in the document).
    public struct RecurringParagraphs: Sendable {
        public let paragraphs: Set<String>
        let hashes: Set<UInt64>

        public var isEmpty: Bool { paragraphs.isEmpty }

        public init(_ paragraphs: Set<String>) {
            self.paragraphs = paragraphs
            hashes = Set(paragraphs.map { p -> UInt64 in
                var p = p
                return p.withUTF8 { FastHash.hash($0) }
            })
        }

        /// `text` without these paragraphs; nil when nothing was removed or nothing would be left.
        public func removing(from text: String) -> String? {
            guard !paragraphs.isEmpty else { return nil }
            var text = text
            return text.withUTF8 { b in
                let all = Paragraphs.ranges(b)
                let kept = all.filter { r in
                    !(hashes.contains(FastHash.hash(b, r))
                        && paragraphs.contains(String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self)))
                }
                guard !kept.isEmpty, kept.count < all.count else { return nil }
                return StoryText.joined(b, kept)
            }
        }
    }

    /// Paragraphs shorter than this never count as boilerplate (datelines, "Read more").
    public static let minimumRecurringLength = 40

    @inline(__always) private static func isLongEnough(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Bool {
        Paragraphs.hasAtLeast(minimumRecurringLength, charactersIn: b, r)
    }
}

/// Counts of 64-bit hashes (already well mixed) in an open-addressed table: no
/// SipHash per insert, as `Dictionary` would run. Each slot is one word: the
/// hash's top 56 bits and a count that stops at 255 in the low 8 (so a slot in
/// use is never 0). Separate arrays of keys and counts cost two cache misses per
/// paragraph counted in a large document's table; one word costs one. Two hashes
/// that share their top 56 bits count as one: callers compare what is counted
/// twice by its text in the end.
public struct HashCounts: Sendable {
    private var slots: [UInt64]
    private var used = 0

    /// The part of a hash the table keeps: compare `keys(countedAtLeast:)` with `key(hash)`.
    @inline(__always) public static func key(_ hash: UInt64) -> UInt64 { hash & ~0xFF }

    public init(expected: Int) {
        var size = 16
        while size < expected * 2 { size <<= 1 }
        slots = [UInt64](repeating: 0, count: size)
    }

    /// Counts `hash` once more; true when its key was not counted before.
    @discardableResult
    public mutating func increment(_ hash: UInt64) -> Bool {
        add(Self.key(hash), 1)
    }

    /// Adds the counts of `other` (each stops at 255, as in `increment`).
    public mutating func merge(_ other: HashCounts) {
        for s in other.slots where s != 0 { _ = add(Self.key(s), s & 0xFF) }
    }

    /// Counts `key` (see `key(_:)`) `n` more times, stopping at 255; true when it
    /// was not counted before.
    @inline(__always) private mutating func add(_ key: UInt64, _ n: UInt64) -> Bool {
        if (used + 1) * 2 > slots.count { grow() }
        let inserted = slots.withUnsafeMutableBufferPointer { t in
            let mask = t.count - 1
            var slot = Self.home(key, mask)
            while t[slot] != 0 {
                if Self.key(t[slot]) == key {
                    t[slot] = key | min(0xFF, (t[slot] & 0xFF) + n)
                    return false
                }
                slot = (slot + 1) & mask
            }
            t[slot] = key | n
            return true
        }
        if inserted { used += 1 }
        return inserted
    }

    /// How many times `hash`'s key was counted (at most 255).
    public func count(_ hash: UInt64) -> Int {
        let key = Self.key(hash)
        return slots.withUnsafeBufferPointer { t in
            let mask = t.count - 1
            var slot = Self.home(key, mask)
            while t[slot] != 0 {
                if Self.key(t[slot]) == key { return Int(t[slot] & 0xFF) }
                slot = (slot + 1) & mask
            }
            return 0
        }
    }

    /// Asks for the slot where `hash` would be counted, to be counted a little later
    /// without waiting for memory (a slot moves only if the table grows before).
    @inline(__always) public func prefetch(_ hash: UInt64) {
        slots.withUnsafeBufferPointer { t in
            feedspool_prefetch_for_write(t.baseAddress! + Self.home(Self.key(hash), t.count - 1))
        }
    }

    /// The keys (see `key(_:)`) counted at least `n` times (`n` at most 255).
    public func keys(countedAtLeast n: Int) -> Set<UInt64> {
        var out = Set<UInt64>()
        for s in slots where s != 0 && Int(s & 0xFF) >= n { out.insert(Self.key(s)) }
        return out
    }

    @inline(__always) private static func home(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: key >> 8) & mask
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        slots.withUnsafeMutableBufferPointer { t in
            let mask = t.count - 1
            for s in old where s != 0 {
                var slot = Self.home(Self.key(s), mask)
                while t[slot] != 0 { slot = (slot + 1) & mask }
                t[slot] = s
            }
        }
    }
}
