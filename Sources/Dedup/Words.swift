import Foundation

/// The words of a story as copy detection sees them: Unicode NFKC, case-folded,
/// punctuation dropped (so quote and dash styles do not matter), and British
/// spellings folded to American ones (`organisation` and `organization` are one
/// word). Each word is a stable 64-bit hash; paragraphs are kept apart.
enum Words {
    /// Word hashes per paragraph (paragraphs are separated by blank lines).
    static func paragraphs(_ text: String) -> [[UInt64]] {
        var text = text
        if let fast = text.utf8.withContiguousStorageIfAvailable({ bytes -> [[UInt64]]? in
            // ASCII, the common case: one pass over the bytes, no allocation per word.
            for b in bytes where b >= 0x80 { return nil }
            return asciiParagraphs(bytes)
        }), let result = fast {
            return result
        }
        text.makeContiguousUTF8()
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text.utf8.withContiguousStorageIfAvailable(asciiParagraphs)! }
        return unicodeParagraphs(text.precomposedStringWithCompatibilityMapping.lowercased())
    }

    @inline(__always) private static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A)
    }

    private static func asciiParagraphs(_ bytes: UnsafeBufferPointer<UInt8>) -> [[UInt64]] {
        var out: [[UInt64]] = []
        var current: [UInt64] = []
        current.reserveCapacity(64)
        var i = 0
        let n = bytes.count
        var newlines = 0
        while i < n {
            let b = bytes[i]
            if isWordByte(b) {
                var j = i + 1
                while j < n, isWordByte(bytes[j]) { j += 1 }
                current.append(hashWord(UnsafeBufferPointer(rebasing: bytes[i..<j])))
                newlines = 0
                i = j
                continue
            }
            if b == 0x0A {
                newlines += 1
                if newlines == 2, !current.isEmpty {
                    out.append(current)
                    current.removeAll(keepingCapacity: true)
                }
            } else if b != 0x20 && b != 0x09 && b != 0x0D {
                newlines = 0
            }
            i += 1
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// The stable hash of an ASCII word, lowercased, its British ending folded.
    @inline(__always) private static func hashWord(_ w: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var end = w.count
        var replacement: UInt64 = 0
        var replacementCount = 0
        if end >= 5, foldable[Int(w[end - 1] | 0x20)] {
            // The last (up to) eight letters, lowercased, last letter in the low byte.
            var tail: UInt64 = 0
            for k in Swift.max(0, end - 8)..<end { tail = tail << 8 | UInt64(w[k] | 0x20) }
            for e in endings where end > e.count + 1 && tail & e.mask == e.suffix {
                end -= e.count
                replacement = e.replacement
                replacementCount = e.replacementCount
                break
            }
        }
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for k in 0..<end {
            let c = w[k]
            h = (h ^ UInt64(c >= 0x41 && c <= 0x5A ? c | 0x20 : c)) &* 0x0000_0100_0000_01B3
        }
        while replacementCount > 0 {  // first letter in the high byte
            replacementCount -= 1
            h = (h ^ (replacement >> UInt64(8 * replacementCount) & 0xFF)) &* 0x0000_0100_0000_01B3
        }
        return StableHash.mix(h)
    }

    /// A British ending and its American replacement, packed into integers (last
    /// letter in the low byte) so that matching one is a mask and a compare.
    private struct Ending {
        let suffix: UInt64, mask: UInt64, count: Int
        let replacement: UInt64, replacementCount: Int

        init(_ uk: String, _ us: String) {
            suffix = uk.utf8.reduce(0) { $0 << 8 | UInt64($1) }
            count = uk.utf8.count
            mask = count >= 8 ? .max : (1 << UInt64(8 * count)) - 1
            replacement = us.utf8.reduce(0) { $0 << 8 | UInt64($1) }
            replacementCount = us.utf8.count
        }
    }

    private static func unicodeParagraphs(_ normalized: String) -> [[UInt64]] {
        var out: [[UInt64]] = []
        var current: [UInt64] = []
        var word: [UInt8] = []
        var newlines = 0
        func endWord() {
            guard !word.isEmpty else { return }
            current.append(word.allSatisfy { $0 < 0x80 } ? word.withUnsafeBufferPointer(hashWord) : StableHash.bytes(word))
            word.removeAll(keepingCapacity: true)
        }
        for scalar in normalized.unicodeScalars {
            let v = scalar.value
            if v == 0x0A {
                endWord()
                newlines += 1
                if newlines == 2, !current.isEmpty {
                    out.append(current)
                    current.removeAll(keepingCapacity: true)
                }
                continue
            }
            if v == 0x20 || v == 0x09 || v == 0x0D {
                endWord()
                continue
            }
            newlines = 0
            if v < 0x80 {
                let b = UInt8(v)
                if isWordByte(b) { word.append(b | (b >= 0x41 ? 0x20 : 0)) } else { endWord() }
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                word.append(contentsOf: String(scalar).utf8)
            } else {
                endWord()
            }
        }
        endWord()
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// Endings of at most eight letters (they are packed into a `UInt64`).
    private static let endings: [Ending] = [
        ("isation", "ization"), ("isations", "izations"), ("ise", "ize"), ("ised", "ized"), ("ises", "izes"), ("ising", "izing"),
        ("yse", "yze"), ("ysed", "yzed"), ("our", "or"), ("ours", "ors"), ("oured", "ored"), ("ouring", "oring"),
        ("tre", "ter"), ("tres", "ters"), ("ogue", "og"), ("ogues", "ogs"), ("lled", "led"), ("lling", "ling"),
        ("ence", "ense"), ("amme", "am"), ("ammes", "ams"),
    ].map { Ending($0.0, $0.1) }

    /// Last letters some ending has (most words can be skipped on their last byte).
    private static let foldable: [Bool] = (0..<128).map { b in endings.contains { $0.suffix & 0xFF == UInt64(b) } }
}
