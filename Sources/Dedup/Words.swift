import Foundation

/// The words of a story as copy detection sees them: Unicode NFKC, case-folded,
/// punctuation dropped (so quote and dash styles do not matter), and British
/// spellings folded to American ones (`organisation` and `organization` are one
/// word). Each word is a stable 64-bit hash; paragraphs are kept apart.
enum Words {
    /// A text's word hashes in order, and where its paragraphs end.
    struct Split {
        var words: [UInt64] = []
        /// The index in `words` just after each paragraph (paragraphs are never empty).
        var paragraphEnds: [Int] = []
    }

    /// The words of `text`, flat, with its paragraph boundaries.
    static func split(_ text: String) -> Split {
        var text = text
        if let fast = text.utf8.withContiguousStorageIfAvailable({ bytes -> Split? in
            // ASCII, the common case: one pass over the bytes, no allocation per word or paragraph.
            guard isASCII(bytes) else { return nil }
            return asciiSplit(bytes)
        }), let result = fast {
            return result
        }
        text.makeContiguousUTF8()
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text.utf8.withContiguousStorageIfAvailable(asciiSplit)! }
        var split = Split()
        for p in unicodeParagraphs(text.precomposedStringWithCompatibilityMapping.lowercased()) {
            split.words += p
            split.paragraphEnds.append(split.words.count)
        }
        return split
    }

    /// Whether every byte is below 0x80, eight at a time.
    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let n = bytes.count
        var any: UInt64 = 0
        var i = 0
        while i + 8 <= n {
            any |= UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            i += 8
        }
        while i < n {
            any |= UInt64(base[i])
            i += 1
        }
        return any & 0x8080_8080_8080_8080 == 0
    }

    /// One byte of FNV-1a, the word hash before `StableHash.mix`.
    @inline(__always) private static func fnv(_ h: UInt64, _ c: UInt8) -> UInt64 { (h ^ UInt64(c)) &* 0x0000_0100_0000_01B3 }

    @inline(__always) private static func lowercased(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c | 0x20 : c }

    @inline(__always) private static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A)
    }

    private static func asciiSplit(_ bytes: UnsafeBufferPointer<UInt8>) -> Split {
        // The tables once per text, not through their lazy globals' accessors per word.
        endingGroups.withUnsafeBufferPointer { groups in
            endings.withUnsafeBufferPointer { endings in
                wordBytes.withUnsafeBufferPointer { wordBytes in
                    asciiSplit(bytes, Tables(groups: groups, endings: endings, wordBytes: wordBytes))
                }
            }
        }
    }

    private struct Tables {
        let groups: UnsafeBufferPointer<UInt16>
        let endings: UnsafeBufferPointer<Ending>
        /// 1 for the bytes `isWordByte` accepts, indexed by byte.
        let wordBytes: UnsafeBufferPointer<UInt8>
    }

    private static let wordBytes: [UInt8] = (0...255).map { isWordByte(UInt8($0)) ? 1 : 0 }

    private static func asciiSplit(_ bytes: UnsafeBufferPointer<UInt8>, _ tables: Tables) -> Split {
        // One pass: each word is hashed while it is scanned (FNV-1a, lowercased: for
        // the bytes of a word, `| 0x20` lowercases a letter and leaves a digit as it is);
        // only a word whose last letter some British ending has is looked at again.
        var split = Split()
        let n = bytes.count
        guard let p = bytes.baseAddress, n > 0 else { return split }
        var paragraphEnds: [Int] = []
        let words = [UInt64](unsafeUninitializedCapacity: n / 2 + 1) { out, count in
            var w = 0
            var i = 0
            var newlines = 0
            var paragraphStart = 0
            let isWord = tables.wordBytes.baseAddress!
            while i < n {
                let b = p[i]
                if isWord[Int(b)] != 0 {
                    let start = i
                    var h: UInt64 = 0xCBF2_9CE4_8422_2325
                    var c = b
                    repeat {
                        h = fnv(h, c | 0x20)
                        i += 1
                        if i == n { break }
                        c = p[i]
                    } while isWord[Int(c)] != 0
                    out[w] = foldedEnding(UnsafeBufferPointer(start: p + start, count: i - start), tables) ?? StableHash.mix(h)
                    w += 1
                    newlines = 0
                    continue
                }
                if b == 0x0A {
                    newlines += 1
                    if newlines == 2, w > paragraphStart {
                        paragraphEnds.append(w)
                        paragraphStart = w
                    }
                } else if b != 0x20 && b != 0x09 && b != 0x0D {
                    newlines = 0
                }
                i += 1
            }
            if w > paragraphStart { paragraphEnds.append(w) }
            count = w
        }
        split.words = words
        split.paragraphEnds = paragraphEnds
        return split
    }

    /// The stable hash of an ASCII word, lowercased, its British ending folded.
    private static func hashWord(_ w: UnsafeBufferPointer<UInt8>) -> UInt64 {
        endingGroups.withUnsafeBufferPointer { groups in
            endings.withUnsafeBufferPointer { endings in
                wordBytes.withUnsafeBufferPointer { wordBytes in hashWord(w, Tables(groups: groups, endings: endings, wordBytes: wordBytes)) }
            }
        }
    }

    @inline(__always) private static func hashWord(_ w: UnsafeBufferPointer<UInt8>, _ tables: Tables) -> UInt64 {
        if let folded = foldedEnding(w, tables) { return folded }
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for c in w { h = fnv(h, lowercased(c)) }
        return StableHash.mix(h)
    }

    /// The hash of a word with its British ending replaced, or nil when it has
    /// none. Inlined for its first check, which turns most words away (shorter than
    /// five letters, or last two letters that no ending has).
    @inline(__always) private static func foldedEnding(_ w: UnsafeBufferPointer<UInt8>, _ tables: Tables) -> UInt64? {
        guard w.count >= 5 else { return nil }
        let group = tables.groups[groupIndex(last: w[w.count - 1], before: w[w.count - 2])]
        return group == 0 ? nil : replacedEnding(w, group: group, tables)
    }

    /// Where a word's last two letters find their endings in `endingGroups`
    /// (five bits of each: a digit shares a slot with some letters, and the full
    /// comparison in `replacedEnding` tells them apart).
    @inline(__always) private static func groupIndex(last: UInt8, before: UInt8) -> Int {
        Int(last & 0x1F) << 5 | Int(before & 0x1F)
    }

    /// `foldedEnding` for a word whose last two letters some endings have: they are tried in turn.
    private static func replacedEnding(_ w: UnsafeBufferPointer<UInt8>, group: UInt16, _ tables: Tables) -> UInt64? {
        let end = w.count
        // The last (up to) eight letters, lowercased, last letter in the low byte.
        var tail: UInt64 = 0
        for k in Swift.max(0, end - 8)..<end { tail = tail << 8 | UInt64(w[k] | 0x20) }
        for g in Int(group >> 8)..<Int(group >> 8 + group & 0xFF) {
            let e = tables.endings[g]
            guard end > e.count + 1, tail & e.mask == e.suffix else { continue }
            var h: UInt64 = 0xCBF2_9CE4_8422_2325
            for k in 0..<(end - e.count) { h = fnv(h, lowercased(w[k])) }
            var left = e.replacementCount
            while left > 0 {  // first letter in the high byte
                left -= 1
                h = fnv(h, UInt8(truncatingIfNeeded: e.replacement >> UInt64(8 * left)))
            }
            return StableHash.mix(h)
        }
        return nil
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

    /// Endings of at most eight letters (they are packed into a `UInt64`), grouped
    /// by their last two letters (a word can only match in its own group; order kept within one).
    private static let endings: [Ending] = [
        ("isation", "ization"), ("isations", "izations"), ("ise", "ize"), ("ised", "ized"), ("ises", "izes"), ("ising", "izing"),
        ("yse", "yze"), ("ysed", "yzed"), ("our", "or"), ("ours", "ors"), ("oured", "ored"), ("ouring", "oring"),
        ("tre", "ter"), ("tres", "ters"), ("ogue", "og"), ("ogues", "ogs"), ("lled", "led"), ("lling", "ling"),
        ("ence", "ense"), ("amme", "am"), ("ammes", "ams"),
    ].map { Ending($0.0, $0.1) }.enumerated().sorted { (groupIndex(of: $0.element), $0.offset) < (groupIndex(of: $1.element), $1.offset) }
        .map(\.element)

    private static func groupIndex(of e: Ending) -> Int {
        groupIndex(last: UInt8(truncatingIfNeeded: e.suffix), before: UInt8(truncatingIfNeeded: e.suffix >> 8))
    }

    /// For each pair of last two letters (`groupIndex`), where its endings start
    /// (high byte) and how many there are (low byte); 0 for the pairs no ending has,
    /// which most words end in.
    private static let endingGroups: [UInt16] = (0..<1024).map { slot in
        guard let first = endings.firstIndex(where: { groupIndex(of: $0) == slot }) else { return 0 }
        let count = endings.filter { groupIndex(of: $0) == slot }.count
        return UInt16(first) << 8 | UInt16(count)
    }
}
