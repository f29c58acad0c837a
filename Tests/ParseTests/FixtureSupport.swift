import Foundation
@testable import Parse
import FeedspoolModel
import Testing

enum Fixture {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
    }

    static func parse(_ name: String, charset: String? = nil, feedID: String = "test") throws -> ParsedFeed {
        try FeedParser.parse(bytes(name), options: ParseOptions(charset: charset, feedID: feedID))
    }
}

/// Parses `text` as a document.
func parse(_ text: String, base: String? = nil, feedID: String = "test") throws -> ParsedFeed {
    try FeedParser.parse(Array(text.utf8), options: ParseOptions(baseURL: base.flatMap(URL.init(string:)), feedID: feedID))
}

/// Parses `bytes` pushed in chunks of `size` bytes.
func parseInChunks(_ bytes: [UInt8], size: Int, charset: String? = nil) throws -> ParsedFeed {
    let p = FeedParser(options: ParseOptions(charset: charset, feedID: "test"))
    var i = 0
    while i < bytes.count {
        let end = min(bytes.count, i + size)
        try bytes[i..<end].withUnsafeBytes { (b: UnsafeRawBufferPointer) in try p.push(b) }
        i = end
    }
    return try p.finish()
}

/// Padding that puts what follows it past the first kilobyte, which the parser
/// holds whole to choose the encoding (the bytes after it are read as they come).
let pastFirstKilobyte = String(repeating: "Padding so that the text lies past the first kilobyte. ", count: 20)

/// `text` parsed whole, once it was checked to read the same, items and feed,
/// pushed in chunks of each of `sizes` bytes.
func parseWholeAndInChunks(
    _ text: String, sizes: ClosedRange<Int> = 1...40, sourceLocation: SourceLocation = #_sourceLocation
) throws -> ParsedFeed {
    let whole = try parse(text)
    for size in sizes {
        let chunked = try parseInChunks(Array(text.utf8), size: size)
        #expect(chunked.items == whole.items && chunked.feed == whole.feed, "chunks of \(size)", sourceLocation: sourceLocation)
    }
    return whole
}

func rss(_ items: String, channel: String = "<title>T</title>") -> String {
    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>\(channel)\(items)</channel></rss>"
}
