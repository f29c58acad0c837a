import Foundation
@testable import Parse
import FeedspoolModel

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

func rss(_ items: String, channel: String = "<title>T</title>") -> String {
    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>\(channel)\(items)</channel></rss>"
}
