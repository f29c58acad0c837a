@testable import FeedspoolModel
import Foundation
import Testing

@Suite struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (String(repeating: "a", count: 200), "c2a908d98f5df987ade41b5fce213067efbcc21ef2240212a41e54b5e7c28ae5"),
        (String(repeating: "Grüße", count: 13), "089ad8c3894b9a2ebe16cd1499b06e879bd70be2560d5c2fb3249af5c0f3dc2f"),
        // Around the padding's edges: the length fits in the last block or needs one more.
        (String(repeating: "a", count: 55), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        (String(repeating: "a", count: 56), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
        (String(repeating: "a", count: 57), "f13b2d724659eb3bf47f2dd6af1accc87b81f09f59f2b75e5c0bed6589dfe8c6"),
        (String(repeating: "a", count: 63), "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
        (String(repeating: "a", count: 64), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
        (String(repeating: "a", count: 119), "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"),
        (String(repeating: "a", count: 120), "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"),
    ])
    func knownDigests(input: String, expected: String) {
        #expect(SHA256.hex(input) == expected)
        for accelerated in [false, true] {
            var h = SHA256(accelerated: accelerated)
            h.update(input)
            #expect(Hex.encode(h.finalize()) == expected, "accelerated: \(accelerated)")
        }
    }

    /// The SHA extensions' path and the portable rounds agree on every length
    /// around the block and padding edges, fed whole or in uneven pieces, and on
    /// a megabyte of pseudo-random bytes (many blocks in one call).
    @Test(.enabled(if: SHA256.cpuHasSHAExtensions, "this CPU has no SHA extensions: only the portable rounds run here"))
    func theSHAExtensionsAgreeWithThePortableRounds() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        let bytes = (0..<(1 << 20)).map { _ -> UInt8 in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
        func digest(_ accelerated: Bool, _ input: ArraySlice<UInt8>, piece: Int) -> [UInt8] {
            var h = SHA256(accelerated: accelerated)
            var i = input.startIndex
            while i < input.endIndex {
                let end = min(input.endIndex, i + piece)
                h.update(input[i..<end])
                i = end
            }
            return h.finalize()
        }
        for length in Array(0...300) + [1 << 20] {
            for piece in [1 << 20, 7, 64, 65] where piece <= max(length, 1) || piece == 1 << 20 {
                let input = bytes[0..<length]
                #expect(digest(true, input, piece: piece) == digest(false, input, piece: piece), "length \(length), pieces of \(piece)")
            }
        }
    }

    /// The hex digest and its prefixes are the bytes' hex, and a separator byte
    /// hashes like a one-byte array.
    @Test func hexDigestsAndSeparatorBytes() {
        var a = SHA256(), b = SHA256()
        a.update("feed"); a.update(byte: 0); a.update("guid:1")
        b.update("feed"); b.update([0]); b.update("guid:1")
        let bytes = b.finalize()
        #expect(a.finalizeHex(bytes: 16) == Hex.encode(bytes.prefix(16)))
        for n in [0, 1, 31, 32] {
            var h = SHA256()
            h.update("abc")
            #expect(h.finalizeHex(bytes: n) == String("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".prefix(2 * n)))
        }
    }

    @Test func incrementalUpdatesEqualOneShot() {
        var h = SHA256()
        for chunk in ["Gr", "ü", "ße", String(repeating: "x", count: 130)] { h.update(chunk) }
        #expect(Hex.encode(h.finalize()) == SHA256.hex("Grüße" + String(repeating: "x", count: 130)))
    }

    @Test func itemIDsAreStableAndSeparatedByFeed() {
        let a = ItemKey.itemID(feedID: "racurs", key: "guid:42")
        #expect(a == ItemKey.itemID(feedID: "racurs", key: "guid:42"))
        #expect(a.count == 32 && a.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(a != ItemKey.itemID(feedID: "bunatimes", key: "guid:42"))
        // The separator keeps "ab"+"c" and "a"+"bc" apart.
        #expect(ItemKey.itemID(feedID: "ab", key: "c") != ItemKey.itemID(feedID: "a", key: "bc"))
        // SPEC: the first 16 bytes of SHA-256 over feed id, a zero byte and the key, in hex
        // (Python: hashlib.sha256(b"racurs\x00guid:42").hexdigest()[:32]).
        #expect(a == "10cc5ffcfde552e0488eeae31ed8dd0b")
        // The id written from the stack (as the parser gives it to items) is the same.
        #expect(ItemKey.withItemID(feedID: "racurs", key: "guid:42") { String(decoding: $0, as: UTF8.self) } == a)
        let long = "link:https://example.org/" + String(repeating: "ü", count: 100)
        #expect(ItemKey.withItemID(feedID: "f", key: long) { String(decoding: $0, as: UTF8.self) } == ItemKey.itemID(feedID: "f", key: long))
    }
}

@Suite struct TimestampTests {
    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00Z"),
        (1_691_575_200, "2023-08-09T10:00:00Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (-86_401, "1969-12-30T23:59:59Z"),
        (1_691_575_200.999, "2023-08-09T10:00:00Z"),
    ])
    func formatsUTC(seconds: Double, expected: String) {
        #expect(Timestamp.rfc3339(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test func daysRoundTrip() {
        #expect(Timestamp.days(year: 1970, month: 1, day: 1) == 0)
        #expect(Timestamp.days(year: 2000, month: 3, day: 1) == 11_017)
        #expect(Timestamp.days(year: 1969, month: 12, day: 31) == -1)
    }
}

@Suite struct JSONWriterTests {
    @Test func escapesAndRoundTrips() throws {
        var w = JSONWriter()
        let nasty = "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} del \u{7F} emoji 🗞 ünï"
        w.beginObject()
        w.key("s"); w.value(nasty)
        w.key("n"); w.value(Int64(-12))
        w.key("d"); w.value(0.8)
        w.key("null"); w.value(nil as String?)
        w.key("list"); w.value(["a", "b"])
        w.key("empty"); w.beginArray(); w.endArray()
        w.key("t"); w.value(true)
        w.endObject()
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any])
        #expect(obj["s"] as? String == nasty)
        #expect(obj["n"] as? Int == -12)
        #expect(obj["d"] as? Double == 0.8)
        #expect(obj["null"] is NSNull)
        #expect(obj["list"] as? [String] == ["a", "b"])
        #expect((obj["empty"] as? [Any])?.isEmpty == true)
        #expect(obj["t"] as? Bool == true)
        #expect(w.string.hasPrefix("{\"s\":"))  // keys in the order written
    }

    /// The writer escapes runs at once; this spells every byte out, RFC 8259's way.
    static func escapedOneByOne(_ s: String) -> [UInt8] {
        var out = Array("\"".utf8)
        for b in s.utf8 {
            switch b {
            case 0x22: out += Array("\\\"".utf8)
            case 0x5C: out += Array("\\\\".utf8)
            case 0x0A: out += Array("\\n".utf8)
            case 0x0D: out += Array("\\r".utf8)
            case 0x09: out += Array("\\t".utf8)
            case 0..<0x20, 0x7F: out += Array(("\\u00" + (b < 0x10 ? "0" : "") + String(b, radix: 16)).utf8)
            default: out.append(b)
            }
        }
        return out + Array("\"".utf8)
    }

    @Test(arguments: [
        "", "plain", "\"", "\"\"", "\\\n", "ends with a quote\"", "\u{1}starts with a control", "a\u{7F}b\tc\rd",
        "mid \"quoted\" words and \\ back\\slashes\n\n", String(repeating: "x\"", count: 50), "ünï\u{1F}🗞\"",
    ])
    func escapesRunsAsOneByteAtATime(_ s: String) {
        var w = JSONWriter()
        w.value(s)
        #expect(w.bytes == Self.escapedOneByOne(s))
    }

    @Test func escapedUTF8StaysWhole() throws {
        let s = "ünï «🗞» \u{2028} 中文\"\u{0}"
        var w = JSONWriter()
        w.value(s)
        #expect(try JSONSerialization.jsonObject(with: Data(w.bytes), options: .fragmentsAllowed) as? String == s)
    }

    @Test func bytesTakenOutJoinIntoTheWholeDocument() {
        var whole = JSONWriter(), parts = JSONWriter()
        var taken: [UInt8] = []
        for w in [0, 1] {
            var x = w == 0 ? whole : parts
            x.beginObject()
            x.key("a"); x.value("1")
            if w == 1 { taken += x.takeBytes() }
            x.key("b"); x.beginArray(); x.value("2")
            if w == 1 { taken += x.takeBytes() }
            x.value("3"); x.endArray()
            x.endObject()
            if w == 0 { whole = x } else { taken += x.takeBytes(); parts = x }
        }
        #expect(taken == whole.bytes)
        #expect(parts.bytes.isEmpty)
    }

    @Test func itemFieldsFollowTheSpecOrder() {
        var w = JSONWriter()
        w.beginObject()
        w.writeFields(of: Item(id: "x", guid: "g", title: "t", enclosures: [Enclosure(url: "u", length: 3)],
                               source: ItemSource(name: "Racurs", url: nil, evidence: .text)))
        w.endObject()
        let keys = ["id", "guid", "url", "title", "authors", "published", "updated", "summary", "content_html",
                    "content_text", "language", "categories", "enclosures", "source"]
        var last = w.string.startIndex
        for k in keys {
            let r = w.string.range(of: "\"\(k)\":")
            #expect(r != nil, "missing \(k)")
            if let r { #expect(r.lowerBound >= last, "\(k) out of order"); last = r.lowerBound }
        }
        #expect(w.string.contains("\"source\":{\"name\":\"Racurs\",\"url\":null,\"evidence\":\"text\"}"))
    }
}

@Suite struct UniqueNamesTests {
    @Test func repeatsAreNumberedPastNamesAlreadyTaken() {
        var names = UniqueNames(separator: "-", taken: ["a", "a-2"])
        #expect(names.claim("a") == "a-3")
        #expect(names.claim("a") == "a-4")
        #expect(names.claim("b") == "b")
        #expect(names.claim("b") == "b-2")
        #expect(names.claim("a-4") == "a-4-2")
    }
}

@Suite struct ProcessMemoryTests {
    /// glibc takes the policy (its tunables are reached through CMalloc, whose
    /// glibc check must see glibc's headers), and the process can read its RSS.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/status"), "no /proc: not Linux"))
    func glibcTakesThePolicy() {
        #expect(ProcessMemory.keepFreedMemory())
        #expect((ProcessMemory.residentBytes() ?? 0) > 1 << 20)
        // Whether any was free to give back depends on what other tests hold; it must not fail or crash.
        _ = ProcessMemory.returnFreedMemory()
    }
}
