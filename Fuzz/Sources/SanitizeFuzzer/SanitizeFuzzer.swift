import Content
import FuzzSupport
import Foundation

/// One fuzz input is an HTML fragment (read as UTF-8, invalid bytes as U+FFFD).
/// Its sanitized HTML must pass `SafeHTML.problem` (an allowlist check written
/// apart from the renderer, reading URLs as browsers do) and must sanitize to
/// itself again, with and without a base URL; its plain text must pass
/// `PlainText.problem`.
/// A failure stops the run with the fragment in Fuzz/artifacts/.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let html = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let base = URL(string: "https://b.example/dir/page.html")
    for baseURL in [nil, base] {
        let once = Sanitizer.sanitize(html, baseURL: baseURL)
        if let problem = SafeHTML.problem(in: once) {
            fatalError("sanitized HTML is not safe: \(problem)\n\(once)")
        }
        let twice = Sanitizer.sanitize(once, baseURL: baseURL)
        if twice != once {
            fatalError("sanitized HTML changes when sanitized again:\n\(once)\n\(twice)")
        }
    }
    let text = TextExtractor.text(fromHTML: html)
    if let problem = PlainText.problem(in: text) { fatalError("plain text: \(problem)\n\(text.debugDescription)") }
    return 0
}

/// libFuzzer's entry (see `runLibFuzzer`).
@_cdecl("SanitizeFuzzer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data, size) }
}
