import FeedspoolModel
import Foundation
@testable import Parse
import Testing

@Suite struct EncodingTests {
    @Test(arguments: [
        ("enc-windows-1251.xml", "Привет, мир — новости"),
        ("enc-koi8-r.xml", "Привет, мир"),
        ("enc-iso-8859-1.xml", "Café déjà vu"),
        ("enc-windows-1252.xml", "Café “quoted” — dash"),
        ("enc-iso-8859-2.xml", "Zażółć gęślą jaźń"),
        ("enc-shift_jis.xml", "日本語のニュース"),
        ("enc-euc-jp.xml", "日本語のニュース"),
        ("enc-gb2312.xml", "中文新闻标题"),
        ("enc-big5.xml", "中文新聞標題"),
        ("enc-euc-kr.xml", "한국어 뉴스"),
        ("enc-utf-16le-bom.xml", "Grüße aus Köln ✓"),
        ("enc-utf-16be-bom.xml", "Grüße aus Köln ✓"),
        ("enc-utf-16le-nobom.xml", "Grüße aus Köln ✓"),
        ("enc-utf-32le-bom.xml", "Grüße aus Köln ✓"),
        ("enc-utf-8-bom.xml", "Grüße aus Köln ✓"),
        ("enc-mislabelled-utf8-is-1252.xml", "Café “quoted”"),
    ])
    func decodesTheTitle(file: String, title: String) throws {
        let parsed = try Fixture.parse(file)
        #expect(parsed.items.first?.title == title)
        #expect(parsed.feed.title == "Enc")
    }

    @Test func theHTTPCharsetDecidesWhenTheDocumentIsSilent() throws {
        #expect(try Fixture.parse("enc-nodecl-windows-1251.xml", charset: "windows-1251").items.first?.title == "Привет, мир — новости")
        // Without it the bytes are not UTF-8, so they are read as windows-1252: mojibake, but no failure.
        #expect(try Fixture.parse("enc-nodecl-windows-1251.xml").items.first?.title == "Ïðèâåò, ìèð — íîâîñòè")
    }

    @Test func theXMLDeclarationBeatsADefaultHTTPCharset() throws {
        #expect(try Fixture.parse("enc-windows-1251.xml", charset: "iso-8859-1").items.first?.title == "Привет, мир — новости")
    }

    @Test func invalidBytesInUTF8BecomeReplacementCharacters() throws {
        let parsed = try Fixture.parse("enc-utf8-invalid-bytes.xml")
        #expect(parsed.items.first?.title == "Grüße \u{FFFD}\u{FFFD} bad")
    }

    /// The finisher checks a story's markup, not the renderer's two outputs, for
    /// well-formed UTF-8: it relies on the parser making its input well-formed, and
    /// on the renderer writing references as scalars. Invalid bytes and references
    /// to surrogates, in a story in CDATA, escaped, and in an attribute, must come
    /// out as U+FFFD in the item's stored bytes, in any chunking.
    @Test func storiesWithInvalidBytesAreStoredAsWellFormedUTF8() throws {
        func item(_ n: Int, _ content: [UInt8]) -> [UInt8] {
            Array("<item><guid>g\(n)</guid><content:encoded>".utf8) + content + Array("</content:encoded></item>".utf8)
        }
        let bad: [UInt8] = [0xFF, 0xC3, 0x28, 0xE2, 0x82]
        var bytes = Array(#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T</title>"#.utf8)
        bytes += item(1, Array("<![CDATA[<p>a “b” ".utf8) + bad + Array(" c &#xD800; d</p>]]>".utf8))
        bytes += item(2, Array("&lt;p&gt;a “b” ".utf8) + bad + Array(" c &amp;#xDFFF; &#xD800; d&lt;/p&gt;".utf8))
        bytes += item(3, Array("<![CDATA[<p><img alt=\"x ".utf8) + bad + Array(" &#xD800;\" src=\"https://e.example/i.png\">a</p>]]>".utf8))
        bytes += Array("</channel></rss>".utf8)
        let whole = try FeedParser.parse(bytes, options: ParseOptions(feedID: "test"))
        #expect(whole.items.count == 3)
        for it in whole.items {
            for field in Item.TextField.allCases {
                let ok = it.withUTF8(field) { String(validating: $0, as: UTF8.self) != nil }
                #expect(ok != false, "\(it.key): \(field) is not well-formed UTF-8")
            }
        }
        #expect(whole.items[0].contentText?.contains("\u{FFFD}") == true)
        #expect(whole.items[1].contentText?.contains("\u{FFFD}") == true)
        #expect(whole.items[2].contentHTML?.contains("\u{FFFD}") == true)
        for size in [1, 2, 3, 5, 64] {
            #expect(try parseInChunks(bytes, size: size).items == whole.items, "chunks of \(size)")
        }
    }

    @Test(arguments: [1, 7, 1000])
    func chunkedInputGivesTheSameResult(chunk: Int) throws {
        for file in ["enc-utf-16le-bom.xml", "enc-windows-1251.xml", "enc-shift_jis.xml", "enc-utf8-invalid-bytes.xml",
                     "enc-mislabelled-utf8-is-1252.xml", "atom-text-constructs.xml", "broken-bare-ampersand.xml",
                     "hostile-xxe.xml"] {
            let bytes = try Fixture.bytes(file)
            let whole = try FeedParser.parse(bytes, options: ParseOptions(feedID: "test"))
            let chunked = try parseInChunks(bytes, size: chunk)
            #expect(chunked.items == whole.items, "\(file) in \(chunk)-byte chunks")
            #expect(chunked.feed == whole.feed, "\(file) in \(chunk)-byte chunks")
        }
    }

    /// Every encoding fixture, with a comment put before its root element so that
    /// its text lies past the first kilobyte (from which the encoding is chosen),
    /// reads the same in chunks of any size: a sequence split between two chunks
    /// is joined, never replaced or moved.
    @Test(arguments: [1, 2, 3, 5, 7, 64, 1000])
    func sequencesSplitBetweenChunksAreJoined(chunk: Int) throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Fixture.folder.path).filter { $0.hasPrefix("enc-") }
        #expect(files.count >= 18)
        for file in files.sorted() {
            let bytes = padded(try Fixture.bytes(file), file: file)
            let whole = try FeedParser.parse(bytes, options: ParseOptions(feedID: "test"))
            #expect(!whole.items.isEmpty, "\(file)")
            let chunked = try parseInChunks(bytes, size: chunk)
            #expect(chunked.items == whole.items, "\(file) in \(chunk)-byte chunks")
            #expect(chunked.feed == whole.feed, "\(file) in \(chunk)-byte chunks")
        }
    }

    /// `bytes` with a 2 KB comment after the XML declaration, in the file's code units.
    private func padded(_ bytes: [UInt8], file: String) -> [UInt8] {
        let (unit, bigEndian) = file.contains("utf-16le") ? (2, false) : file.contains("utf-16be") ? (2, true)
            : file.contains("utf-32le") ? (4, false) : (1, false)
        func encode(_ ascii: String) -> [UInt8] {
            ascii.utf8.flatMap { c -> [UInt8] in
                var u = [UInt8](repeating: 0, count: unit)
                u[bigEndian ? unit - 1 : 0] = c
                return u
            }
        }
        let declarationEnd = encode("?>")
        var at = 0
        for i in 0..<(bytes.count - declarationEnd.count) where Array(bytes[i..<(i + declarationEnd.count)]) == declarationEnd {
            at = i + declarationEnd.count
            break
        }
        var out = bytes
        out.insert(contentsOf: encode("<!--" + String(repeating: "padding ", count: 256) + "-->"), at: at)
        return out
    }

    /// A long UTF-8 document of everything the normalizer mends (multi-byte text,
    /// characters XML forbids, invalid bytes, bare ampersands, a tag longer than
    /// the repair step's first look past a chunk's end), split at every kind of place.
    @Test func mendedUTF8ReadsTheSameInAnyChunking() throws {
        let long = String(repeating: "ключ=значение; ", count: 700)  // a 10 KB attribute
        var items = ""
        for i in 0..<40 {
            items += "<item><title>Новость \(i) — «цитата» € 😀 \u{1}\u{8} a & b</title>"
                + "<description a=\"\(i == 7 ? long : "x")\">Текст, 中文, ελληνικά &amp; &nbsp;x</description></item>"
        }
        var bytes = Array(rss(items).utf8)
        // Invalid bytes after valid multi-byte text: each becomes U+FFFD.
        let mark = Array("Новость 20".utf8)
        let at = try #require((0..<(bytes.count - mark.count)).first { Array(bytes[$0..<($0 + mark.count)]) == mark })
        bytes.insert(contentsOf: [0xFF, 0xC3, 0x28, 0xE2, 0x82], at: at)
        let whole = try FeedParser.parse(bytes, options: ParseOptions(feedID: "test"))
        #expect(whole.items.count == 40)
        #expect(whole.items[20].title == "\u{FFFD}\u{FFFD}(\u{FFFD}\u{FFFD}Новость 20 — «цитата» € 😀 a & b")
        #expect(whole.items[7].contentText == "Текст, 中文, ελληνικά & x")
        for size in [1, 2, 3, 4, 5, 1023, 1024, 1025, 4095, 4096, 4097, 5000, 9999, 16384] {
            let chunked = try parseInChunks(bytes, size: size)
            #expect(chunked.items == whole.items, "chunks of \(size)")
        }
    }
}

/// `feedspool_xml_clean_utf8_prefix` (C, sixteen bytes a step) against the rule
/// it implements, written out byte by byte: printable ASCII, tab, LF and CR, and
/// well-formed multi-byte sequences but U+FFFE and U+FFFF.
@Suite struct CleanUTF8PrefixTests {
    static func reference(_ b: [UInt8]) -> (end: Int, multibyte: Bool) {
        var i = 0, multibyte = false
        while i < b.count {
            let c = b[i]
            if (c >= 0x20 && c < 0x80) || c == 0x09 || c == 0x0A || c == 0x0D { i += 1; continue }
            guard c >= 0x80 else { return (i, multibyte) }
            // The lead byte says how long its sequence is; the standard library says whether it is well-formed.
            let length = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0
            guard length > 0, i + length <= b.count, String(validating: b[i..<(i + length)], as: UTF8.self) != nil,
                !(length == 3 && c == 0xEF && b[i + 1] == 0xBF && b[i + 2] >= 0xBE)
            else { return (i, multibyte) }
            multibyte = true
            i += length
        }
        return (b.count, multibyte)
    }

    @Test func agreesWithTheRuleByteByByte() {
        let pieces: [[UInt8]] = [
            Array("plain text, long enough for a whole block ".utf8), Array("é".utf8), Array("“".utf8), Array("😀".utf8),
            [0x09], [0x0A], [0x0D], [0x00], [0x01], [0x1F], [0x7F], [0xEF, 0xBF, 0xBE], [0xEF, 0xBF, 0xBF], [0xEF, 0xBF, 0xBD],
            [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80], [0xC3], [0xE2, 0x82], [0xFF],
        ]
        var rng = SystemRandomNumberGenerator()
        var stopped = 0, whole = 0
        for _ in 0..<4000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...10, using: &rng) {
                bytes += Int.random(in: 0..<10, using: &rng) < 7 ? pieces[Int.random(in: 0..<4, using: &rng)] : pieces.randomElement(using: &rng)!
            }
            let start = bytes.isEmpty ? 0 : Int.random(in: 0...bytes.count, using: &rng)
            let got = bytes.withUnsafeBytes { InputNormalizer.cleanUTF8Prefix($0, from: start) }
            let expected = Self.reference(Array(bytes[start...]))
            #expect(got.end == start + expected.end && got.multibyte == expected.multibyte, "\(bytes) from \(start)")
            if expected.end == bytes.count - start { whole += 1 } else { stopped += 1 }
        }
        #expect(stopped > 500 && whole > 500)
    }
}
