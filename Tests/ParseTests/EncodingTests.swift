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
}
