import FeedspoolModel
import FuzzSupport
import Parse

/// One fuzz input: the first byte picks a chunk size, so chunk boundaries
/// (split UTF-8 sequences, references, tags) are fuzzed too; the second picks
/// an HTTP charset and, in its high bits, a small item limit (or none), so that
/// items past the limit are fuzzed too; the rest is the document. A document
/// pushed in chunks must read as it does whole, and its items must pass
/// `ItemCheck` (HTML safe, text clean, ids well formed): a failure stops the run.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let chunk = Int(data[0] % 64) + 1
    let charsets: [String?] = [nil, "utf-8", "windows-1251", "shift_jis", "utf-16", "iso-8859-1", "gb2312", "bogus"]
    let options = ParseOptions(charset: charsets[Int(data[1] & 7)], feedID: "fuzz", maxBytes: 1 << 20,
                               maxItems: data[1] >> 3 == 0 ? 10_000 : Int(data[1] >> 3) - 1)  // 0...30
    let body = UnsafeRawBufferPointer(start: data + 2, count: size - 2)
    let whole = parse(body, chunk: body.count, options)
    for item in whole?.items ?? [] {
        if let problem = ItemCheck.problem(in: item) { fatalError("item \(item.key): \(problem)") }
    }
    if data[0] < 128, body.count > chunk {
        let chunked = parse(body, chunk: chunk, options)
        if chunked?.items != whole?.items || chunked?.feed != whole?.feed {
            fatalError("the document reads differently in chunks of \(chunk) bytes than whole")
        }
    }
    return 0
}

/// What an item's fields promise (SPEC: the item JSON), checked apart from the
/// code that makes them; reading every string also shows invalid memory in them.
enum ItemCheck {
    static func problem(in item: Item) -> String? {
        // As stored: item JSON is written from these bytes in place, and reading a field
        // as a String would hide bytes that are not UTF-8 behind U+FFFD.
        for field in Item.TextField.allCases {
            if item.withUTF8(field, { String(validating: $0, as: UTF8.self) == nil }) == true { return "\(field) is not well-formed UTF-8" }
        }
        var badName = false
        for list in [Item.TextList.authors, .categories] {
            item.forEachUTF8(list) { if String(validating: $0, as: UTF8.self) == nil { badName = true } }
        }
        if badName { return "an author or category name is not well-formed UTF-8" }
        if let html = item.contentHTML, let p = SafeHTML.problem(in: html) { return "content_html: \(p)" }
        if let title = item.title, let p = oneLineProblem(title) { return "title: \(p)" }
        for (name, text) in [("summary", item.summary), ("content_text", item.contentText)] {
            // Text read as plain text (Atom type="text") keeps its author's spacing: only
            // the ends and the characters are checked.
            if let text, let p = textProblem(text) { return "\(name): \(p)" }
        }
        guard item.id.utf8.count == 32, item.id.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            return "id \(item.id) is not 32 lowercase hex digits"
        }
        if item.key.isEmpty { return "an empty key" }
        return nil
    }

    /// A title: one line, words apart by one space, nothing at the ends.
    static func oneLineProblem(_ s: String) -> String? {
        if s.isEmpty { return "empty (it should be null)" }
        if let p = textProblem(s) { return p }
        if s.utf8.contains(where: { $0 < 0x20 }) { return "a line break or tab" }
        if s.contains("  ") { return "two spaces" }
        return nil
    }

    /// Text: no C0 control character but tab and line feed, no white space at the ends.
    static func textProblem(_ s: String) -> String? {
        let b = Array(s.utf8)
        if let c = b.first(where: { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A }) { return "control character \(c)" }
        if let f = b.first, f == 0x20 || f == 0x09 || f == 0x0A { return "white space at the start" }
        if let l = b.last, l == 0x20 || l == 0x09 || l == 0x0A { return "white space at the end" }
        return nil
    }
}

private func parse(_ body: UnsafeRawBufferPointer, chunk: Int, _ options: ParseOptions) -> ParsedFeed? {
    let parser = FeedParser(options: options)
    var i = 0
    while i < body.count {
        let end = min(body.count, i + chunk)
        do { try parser.push(UnsafeRawBufferPointer(rebasing: body[i..<end])) } catch { return nil }
        i = end
    }
    return try? parser.finish()
}

/// libFuzzer's entry (see `runLibFuzzer`).
@_cdecl("ParseFuzzer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data, size) }
}
