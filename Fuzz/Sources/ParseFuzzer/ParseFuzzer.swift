import FeedspoolModel
import FuzzSupport
import Parse

/// One fuzz input: the first byte picks a chunk size, so chunk boundaries
/// (split UTF-8 sequences, references, tags) are fuzzed too; the second picks
/// an HTTP charset and, in its high bits, a small item limit (or none), so that
/// items past the limit are fuzzed too; the rest is the document. A document
/// pushed in chunks must read as it does whole: a difference stops the run.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let chunk = Int(data[0] % 64) + 1
    let charsets: [String?] = [nil, "utf-8", "windows-1251", "shift_jis", "utf-16", "iso-8859-1", "gb2312", "bogus"]
    let options = ParseOptions(charset: charsets[Int(data[1] & 7)], feedID: "fuzz", maxBytes: 1 << 20,
                               maxItems: data[1] >> 3 == 0 ? 10_000 : Int(data[1] >> 3) - 1)  // 0...30
    let body = UnsafeRawBufferPointer(start: data + 2, count: size - 2)
    let whole = parse(body, chunk: body.count, options)
    if let parsed = whole {
        // Touch every string so invalid memory in them would be seen.
        var n = 0
        for item in parsed.items {
            n &+= (item.title?.utf8.count ?? 0) &+ (item.contentHTML?.utf8.count ?? 0) &+ (item.contentText?.utf8.count ?? 0)
        }
        if n == -1 { print(n) }
    }
    if data[0] < 128, body.count > chunk {
        let chunked = parse(body, chunk: chunk, options)
        if chunked?.items != whole?.items || chunked?.feed != whole?.feed {
            fatalError("the document reads differently in chunks of \(chunk) bytes than whole")
        }
    }
    return 0
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
