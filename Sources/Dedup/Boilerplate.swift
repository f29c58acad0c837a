import Content
import Foundation

/// Per-feed boilerplate (SPEC section 5): a paragraph that earlier items of the
/// same feed already carried (the outlet's author bio, a newsletter plug) is not
/// part of the story. The worker keeps each feed's paragraph hashes in the store.
public enum Boilerplate {
    /// Paragraphs shorter than this are never counted (datelines, "Read more").
    public static let minimumLength = StoryText.minimumRecurringLength

    /// A stable hash of a paragraph, insensitive to case and white space.
    public static func hash(_ paragraph: String) -> Int64 {
        var p = paragraph
        return p.withUTF8 { hash($0) }
    }

    /// The same over UTF-8 bytes; ASCII is lowercased here, anything else by Foundation
    /// (the values are stored, so both ways give what `lowercased()` gives).
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64 {
        if bytes.contains(where: { $0 >= 0x80 }) {
            var lower = String(decoding: bytes, as: UTF8.self).lowercased()
            return lower.withUTF8 { hashLowercased($0) }
        }
        return hashLowercased(bytes)
    }

    private static func hashLowercased(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        var space = false
        for var b in bytes {
            if b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D {
                space = true
                continue
            }
            if space {
                h = (h ^ 0x20) &* 0x0000_0100_0000_01B3
                space = false
            }
            if b >= 0x41, b <= 0x5A { b |= 0x20 }
            h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3
        }
        return Int64(bitPattern: StableHash.mix(h))
    }

    /// The paragraphs of a text as (text, hash), blank-line separated; short ones have no hash.
    public static func paragraphs(_ text: String) -> [(text: String, hash: Int64?)] {
        var text = text
        return text.withUTF8 { b in
            Paragraphs.ranges(b).map { r in
                let p = UnsafeBufferPointer(rebasing: b[r])
                return (String(decoding: p, as: UTF8.self), Paragraphs.hasAtLeast(minimumLength, charactersIn: b, r) ? hash(p) : nil)
            }
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
