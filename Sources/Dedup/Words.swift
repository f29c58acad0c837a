import Foundation

/// The words of a story as copy detection sees them: Unicode NFKC, case-folded,
/// punctuation dropped (so quote and dash styles do not matter), and British
/// spellings folded to American ones (`organisation` and `organization` are one
/// word). Each word is a stable 64-bit hash; paragraphs are kept apart.
enum Words {
    /// Word hashes per paragraph (paragraphs are separated by blank lines).
    static func paragraphs(_ text: String) -> [[UInt64]] {
        var out: [[UInt64]] = []
        let isASCII = text.utf8.allSatisfy { $0 < 0x80 }
        let normalized = isASCII ? text : text.precomposedStringWithCompatibilityMapping.lowercased()
        var current: [UInt64] = []
        var word: [UInt8] = []
        word.reserveCapacity(32)
        var newlines = 0
        func endWord() {
            guard !word.isEmpty else { return }
            current.append(hash(folding: &word))
            word.removeAll(keepingCapacity: true)
        }
        func endParagraph() {
            endWord()
            if !current.isEmpty { out.append(current) }
            current.removeAll(keepingCapacity: true)
        }
        if isASCII {
            for b in normalized.utf8 {
                if b == 0x0A {
                    endWord()
                    newlines += 1
                    if newlines == 2 { endParagraph() }
                    continue
                }
                if b == 0x20 || b == 0x09 || b == 0x0D {
                    endWord()
                    continue
                }
                newlines = 0
                if (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) {
                    word.append(b | (b >= 0x41 ? 0x20 : 0))
                } else {
                    endWord()
                }
            }
        } else {
            for scalar in normalized.unicodeScalars {
                let v = scalar.value
                if v == 0x0A {
                    endWord()
                    newlines += 1
                    if newlines == 2 { endParagraph() }
                    continue
                }
                if v == 0x20 || v == 0x09 || v == 0x0D {
                    endWord()
                    continue
                }
                newlines = 0
                if v < 0x80 {
                    let b = UInt8(v)
                    if (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) { word.append(b | (b >= 0x41 ? 0x20 : 0)) } else { endWord() }
                } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                    word.append(contentsOf: String(scalar).utf8)
                } else {
                    endWord()
                }
            }
        }
        endParagraph()
        return out
    }

    /// The hash of a lowercase word after folding British endings to American.
    @inline(__always) private static func hash(folding w: inout [UInt8]) -> UInt64 {
        if w.count >= 5, let last = w.last, last < 0x80, foldable[Int(last)] { fold(&w) }
        return StableHash.bytes(w)
    }

    private static let endings: [([UInt8], [UInt8])] = [
        ("isation", "ization"), ("isations", "izations"), ("ise", "ize"), ("ised", "ized"), ("ises", "izes"), ("ising", "izing"),
        ("yse", "yze"), ("ysed", "yzed"), ("our", "or"), ("ours", "ors"), ("oured", "ored"), ("ouring", "oring"),
        ("tre", "ter"), ("tres", "ters"), ("ogue", "og"), ("ogues", "ogs"), ("lled", "led"), ("lling", "ling"),
        ("ence", "ense"), ("amme", "am"), ("ammes", "ams"),
    ].map { (Array($0.0.utf8), Array($0.1.utf8)) }

    /// Last letters some ending has (most words can be skipped on their last byte).
    private static let foldable: [Bool] = (0..<128).map { b in endings.contains { $0.0.last == UInt8(b) } }

    private static func fold(_ w: inout [UInt8]) {
        guard w.allSatisfy({ $0 < 0x80 }) else { return }
        let n = w.count
        for (uk, us) in endings where n > uk.count + 1 {
            var match = true
            var i = uk.count - 1, j = n - 1
            while i >= 0 {
                if w[j] != uk[i] {
                    match = false
                    break
                }
                i -= 1
                j -= 1
            }
            if match {
                w.removeLast(uk.count)
                w.append(contentsOf: us)
                return
            }
        }
    }
}
