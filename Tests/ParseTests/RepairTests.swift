import Content
@testable import Parse
import Testing

/// The repair step's own output: the bytes libxml2 is given.
@Suite struct RepairTests {
    /// `text` through the repair step in one push.
    static func repairedWhole(_ text: String) -> String {
        var repair = XMLRepair()
        var out = ByteSink(capacity: 64)
        let bytes = Array(text.utf8)
        let tail = bytes.withUnsafeBufferPointer { repair.run($0, into: &out, final: true) }
        #expect(tail.isEmpty)
        return String(decoding: out.bytes, as: UTF8.self)
    }

    /// `text` through the repair step a byte at a time: no tag is ever whole in one
    /// push, so every one goes through the byte-by-byte state machine.
    static func repairedByteByByte(_ text: String) -> String {
        var repair = XMLRepair()
        var out = ByteSink(capacity: 64)
        var pending: [UInt8] = []
        let bytes = Array(text.utf8)
        for (k, b) in bytes.enumerated() {
            pending.append(b)
            repair.run(&pending, into: &out, final: k == bytes.count - 1)
        }
        return String(decoding: out.bytes, as: UTF8.self)
    }

    /// Start tags of the usual shape are written in one step when whole in the input;
    /// every shape must come out as the state machine writes it.
    @Test(arguments: [
        "<item>", "<a/>", "<a />", "<a\n/>", #"<guid isPermaLink="false">x</guid>"#,
        #"<link rel='alternate' type="text/html" href="http://e/a?b=1"/>"#,
        #"<enclosure url="u" length="1" type="audio/mpeg" />"#,
        #"<a  b="1">"#, "<a\tb=\"1\">", "<a\nb=\"1\" >", #"<a b = "1">"#, #"<a b= "1">"#, #"<a b="1"c="2">"#,
        "<a b=1>", "<a b>", #"<a "x">"#, #"<a b="<">"#, #"<a b="&amp;c">"#, #"<a b="1" / >"#, #"<a b="1"/ >"#,
        #"<a:b c:d="e" xmlns:c="u">"#, #"<ä ö="1">"#, #"<a b="x'y" c='x"y'>"#, #"<a b="">"#, "<a/b>", "<a =\"1\">",
        #"<a b="1"#, "<a b", "<a", #"<a b="1" c"#, "<1a>", "<a b=\"1\"\u{0}>",
        "<" + String(repeating: "n", count: 300) + " a=\"1\">",
        "<a " + String(repeating: "n", count: 300) + "=\"1\">",
        "<a" + (0..<300).map { " a\($0)=\"v\"" }.joined() + ">",
    ])
    func usualStartTagsAreWrittenAsTheStateMachineWritesThem(_ tag: String) {
        for doc in ["<r>\(tag)t</r>", "<r>\(tag)<x/>\(tag)</r>"] {
            #expect(Self.repairedWhole(doc) == Self.repairedByteByByte(doc), "\(doc)")
        }
    }

    @Test func tagsPastTheDepthLimitAreDroppedEitherWay() {
        let deep = String(repeating: #"<d a="1">"#, count: XMLRepair.maxDepth + 5) + "t"
        let whole = Self.repairedWhole(deep)
        #expect(whole == Self.repairedByteByByte(deep))
        #expect(whole.components(separatedBy: "<d ").count - 1 == XMLRepair.maxDepth)
    }
}
