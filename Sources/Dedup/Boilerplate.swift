import Foundation

/// Per-feed boilerplate (SPEC section 5): a paragraph that earlier items of the
/// same feed already carried (the outlet's author bio, a newsletter plug) is not
/// part of the story. The worker keeps each feed's paragraph hashes in the store.
public enum Boilerplate {
    /// Paragraphs shorter than this are never counted (datelines, "Read more").
    public static let minimumLength = 40

    /// A stable hash of a paragraph, insensitive to case and white space.
    public static func hash(_ paragraph: String) -> Int64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        var space = false
        for b in paragraph.lowercased().utf8 {
            if b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D {
                space = true
                continue
            }
            if space {
                h = (h ^ 0x20) &* 0x0000_0100_0000_01B3
                space = false
            }
            h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3
        }
        return Int64(bitPattern: StableHash.mix(h))
    }

    /// The paragraphs of a text as (text, hash), blank-line separated; short ones have no hash.
    public static func paragraphs(_ text: String) -> [(text: String, hash: Int64?)] {
        text.components(separatedBy: "\n\n").compactMap { raw in
            let p = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !p.isEmpty else { return nil }
            return (p, p.count >= minimumLength ? hash(p) : nil)
        }
    }

    /// The text without the paragraphs in `known`, unless that would leave less
    /// than a third of it (then the "boilerplate" is the story itself, reposted).
    public static func removing(_ known: Set<Int64>, from text: String) -> String {
        let ps = paragraphs(text)
        let kept = ps.filter { p in p.hash.map { !known.contains($0) } ?? true }
        guard kept.count < ps.count else { return text }
        let keptLength = kept.reduce(0) { $0 + $1.text.count }
        let allLength = ps.reduce(0) { $0 + $1.text.count }
        guard keptLength * 3 >= allLength else { return text }
        return kept.map(\.text).joined(separator: "\n\n")
    }
}
