import Foundation
import Content
@testable import Parse
import Testing

/// Element text the repair step hands past libxml2 (`SetAsideText`), and the
/// markers it leaves in the XML for it.
@Suite struct SetAsideTextTests {
    static func write(_ text: String, to store: SetAsideText) -> Int {
        var t = text
        t.withUTF8 { store.bytes.append(contentsOf: $0) }
        return store.close()
    }

    static func string(_ b: UnsafeBufferPointer<UInt8>?) -> String? {
        b.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func textsAreTakenByNumberInOrder() {
        let store = SetAsideText()
        #expect(Self.write("one", to: store) == 0)
        #expect(Self.write("two", to: store) == 1)
        #expect(Self.write("", to: store) == 2)
        #expect(Self.write("four", to: store) == 3)
        #expect(Self.string(store.take(0)) == "one")
        #expect(store.take(0) == nil, "taken already")
        // Number 1 was never reported (its marker lost): taking 2 skips it.
        #expect(Self.string(store.take(2)) == "")
        #expect(store.take(1) == nil)
        #expect(store.take(9) == nil, "no such text")
        #expect(store.waiting == 1)
        #expect(Self.string(store.take(3)) == "four")
    }

    /// After a push, the bytes of the texts taken go; those not taken yet and the
    /// one being written stay, under their numbers.
    @Test func droppingTakenTextsKeepsTheRest() {
        let store = SetAsideText()
        _ = Self.write("first", to: store)
        _ = Self.write("second", to: store)
        _ = Self.write("third", to: store)
        var open = "open"
        open.withUTF8 { store.bytes.append(contentsOf: $0) }
        #expect(Self.string(store.take(0)) == "first")
        #expect(Self.string(store.take(1)) == "second")
        store.dropTaken()
        #expect(store.bytes.count == "thirdopen".utf8.count)
        #expect(store.waiting == 1)
        open = "-ed"
        open.withUTF8 { store.bytes.append(contentsOf: $0) }
        #expect(store.close() == 3)
        #expect(Self.string(store.take(2)) == "third")
        #expect(Self.string(store.take(3)) == "open-ed")
        store.dropTaken()
        #expect(store.bytes.isEmpty && store.waiting == 0)
        store.dropTaken()
        #expect(Self.write("fifth", to: store) == 4)
        store.discard()
        #expect(store.take(4) == nil && store.bytes.isEmpty)
        #expect(Self.write("sixth", to: store) == 5, "numbers go on after a discard")
        #expect(Self.string(store.take(5)) == "sixth")
    }

    /// `text` repaired with a set-aside store, whole or a byte at a time (then every
    /// section and run is cut at every byte): the XML and the texts in number order.
    static func repaired(_ text: String, byteByByte: Bool) -> (xml: String, texts: [String]) {
        let store = SetAsideText()
        var repair = XMLRepair(setAside: store)
        var out = ByteSink(capacity: 64)
        let bytes = Array(text.utf8)
        if byteByByte {
            var pending: [UInt8] = []
            for (k, b) in bytes.enumerated() {
                pending.append(b)
                repair.run(&pending, into: &out, final: k == bytes.count - 1)
            }
        } else {
            var pending = bytes
            repair.run(&pending, into: &out, final: true)
        }
        var texts: [String] = []
        var n = 0
        while let t = store.take(n) { texts.append(String(decoding: t, as: UTF8.self)); n += 1 }
        return (String(decoding: out.bytes, as: UTF8.self), texts)
    }

    /// The XML with each marker replaced by its text in braces.
    static func expanded(_ xml: String, _ texts: [String]) -> String {
        replacingMarkers(xml, texts.map { "{" + $0 + "}" })
    }

    /// The XML with each marker `<?_ N?>` replaced by `replacements[N]`.
    static func replacingMarkers(_ xml: String, _ replacements: [String]) -> String {
        var out = "", rest = Substring(xml)
        while let start = rest.range(of: "<?_ "), let end = rest[start.upperBound...].range(of: "?>") {
            out += rest[..<start.lowerBound]
            out += replacements[Int(rest[start.upperBound..<end.lowerBound])!]
            rest = rest[end.upperBound...]
        }
        return out + rest
    }

    static let mixed = "<![CDATA[before]]><rss><d><![CDATA[<p>a]] b\r\nc\rd</p>]]></d><e>x &lt;b&gt; &amp; y</e>"
        + "<f><![CDATA[]]></f><?_ source?><?_x kept?><?__ also?></rss><![CDATA[after]]>"

    @Test func elementTextGoesAsideWithAMarkerInItsPlace() {
        let (xml, texts) = Self.repaired(Self.mixed, byteByByte: false)
        #expect(xml == "<![CDATA[before]]><rss><d><?_ 0?></d><e>x <?_ 1?></e><f><?_ 2?></f><?__ source?><?_x kept?><?__ also?></rss><![CDATA[after]]>")
        #expect(texts == ["<p>a]] b\nc\nd</p>", "<b> & y", ""])
    }

    /// A byte at a time, a run of references is cut where the input ends (the text
    /// between references then goes as text); each CDATA section is still one text.
    /// In order, the texts and the XML make what they make whole.
    @Test func elementTextSetAsideAByteAtATimeReadsTheSame() {
        let (xml, texts) = Self.repaired(Self.mixed, byteByByte: true)
        let whole = Self.repaired(Self.mixed, byteByByte: false)
        #expect(Self.expanded(xml, texts) != Self.expanded(whole.xml, whole.texts), "cut into more texts")
        let unmarked = { (s: String) in s.replacingOccurrences(of: "{", with: "").replacingOccurrences(of: "}", with: "") }
        #expect(unmarked(Self.expanded(xml, texts)) == unmarked(Self.expanded(whole.xml, whole.texts)))
        #expect(unmarked(Self.expanded(xml, texts))
            == "<![CDATA[before]]><rss><d><p>a]] b\nc\nd</p></d><e>x <b> & y</e><f></f><?__ source?><?_x kept?><?__ also?></rss><![CDATA[after]]>")
        #expect(texts.first == "<p>a]] b\nc\nd</p>")
    }

    /// A section the input ends in is closed, and its text set aside too.
    @Test func aSectionCutShortIsSetAside() {
        let (xml, texts) = Self.repaired("<rss><d><![CDATA[<p>unfinished", byteByByte: false)
        #expect(xml == "<rss><d><?_ 0?></d></rss>")
        #expect(texts == ["<p>unfinished"])
    }

    /// Over every fixture and demo feed, whole and in pushes of 7 bytes: the XML of
    /// the set-aside mode, each marker replaced by a CDATA section of its text, is
    /// the XML the repair step writes without a store. (The plain mode writes runs
    /// of references as CDATA sections too.)
    @Test func markersStandForTheSectionsThePlainModeWrites() throws {
        let examples = Fixture.folder.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/feeds")
        var files = try FileManager.default.contentsOfDirectory(at: Fixture.folder, includingPropertiesForKeys: nil)
        files += try FileManager.default.contentsOfDirectory(at: examples, includingPropertiesForKeys: nil)
        var sections = 0
        for file in files {
            let bytes = try [UInt8](Data(contentsOf: file))
            for push in [bytes.count, 7] {
                func run(_ store: SetAsideText?) -> [UInt8] {
                    var repair = XMLRepair(setAside: store)
                    var out = ByteSink(capacity: 64)
                    var pending: [UInt8] = []
                    var i = 0
                    repeat {
                        let end = min(bytes.count, i + max(push, 1))
                        pending += bytes[i..<end]
                        i = end
                        repair.run(&pending, into: &out, final: i == bytes.count)
                    } while i < bytes.count
                    return Array(out.bytes)
                }
                let plain = run(nil)
                let store = SetAsideText()
                let aside = run(store)
                var texts: [String] = []
                while let t = store.take(texts.count) { texts.append(String(decoding: t, as: UTF8.self)) }
                sections += texts.count
                let sectioned = Self.replacingMarkers(String(decoding: aside, as: UTF8.self), texts.map { "<![CDATA[" + $0 + "]]>" })
                #expect(sectioned == String(decoding: plain, as: UTF8.self), "\(file.lastPathComponent) in pushes of \(push)")
            }
        }
        #expect(sections > 40)
    }
}
