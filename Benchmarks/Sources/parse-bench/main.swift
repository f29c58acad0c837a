import CLibXML2Bench
import FeedspoolModel
import Foundation
import Parse

// Parse throughput, feedspool against the ceiling of the same library.
//
//   swift run -c release --package-path Benchmarks parse-bench [--items N] [--runs R] [--rounds K] [--malloc-defaults]
//
// Generates (once, into Benchmarks/data/) a ~50 MB RSS 2.0 file of 50,000
// items with HTML content in CDATA, the same file with the HTML escaped instead
// (libxml2 passes CDATA on almost untouched, so the ceiling differs most between
// these two), and an Atom 1.0 file of the same stories, then for
// each file runs, in a child process of its own so that peak RSS is per pass:
//   ceiling   libxml2's SAX2 push parser with the same options, counting elements
//   feedspool FeedParser: encoding check, repair, SAX2, items with sanitized
//             HTML and plain text, stable ids (everything `feedspool parse` does
//             but print)
// Both read the file from disk in 1 MiB chunks, as `feedspool parse` does.
// Each pass runs R times (default 3) in its process, and each file gets K rounds
// (default 5) of the two processes, ceiling then feedspool, one after the other:
// this VM's speed drifts by a third from minute to minute, so a pass measured
// once, a few seconds after the other, could catch another phase. The best run
// of all rounds counts for each pass; the ratios of the K rounds are printed too
// (median, lowest, highest), each from two passes a second apart.
// Both passes run with the memory policy `feedspool` sets at its start
// (`ProcessMemory.keepFreedMemory`: freed memory stays for the next document);
// --malloc-defaults runs them with glibc's defaults instead.

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    if let i = arguments.firstIndex(of: name), i + 1 < arguments.count, let v = Int(arguments[i + 1]) { return v }
    return fallback
}

/// The SAX2 ceiling: parse and count start tags, nothing else.
final class Counter: @unchecked Sendable {  // used by one thread only
    var elements = 0
}

/// Calls `body` with the file's bytes, 1 MiB at a time (as `feedspool parse` reads).
func readChunks(_ path: String, _ body: (UnsafeRawBufferPointer) -> Void) {
    let fd = open(path, O_RDONLY)
    precondition(fd >= 0, "cannot open \(path)")
    defer { close(fd) }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buffer.deallocate() }
    while true {
        let n = read(fd, buffer.baseAddress, buffer.count)
        if n <= 0 { break }
        body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
    }
}

func ceilingPass(_ path: String) -> Int {
    let counter = Counter()
    var handler = xmlSAXHandler()
    handler.initialized = XML_SAX2_MAGIC
    handler.startElementNs = { ctx, _, _, _, _, _, _, _, _ in
        Unmanaged<Counter>.fromOpaque(ctx!).takeUnretainedValue().elements += 1
    }
    handler.characters = { _, _, _ in }
    let ctxt = xmlCreatePushParserCtxt(&handler, Unmanaged.passUnretained(counter).toOpaque(), nil, 0, nil)!
    let options = Int32(XML_PARSE_RECOVER.rawValue | XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue
        | XML_PARSE_NOWARNING.rawValue | XML_PARSE_NOCDATA.rawValue)
    xmlCtxtUseOptions(ctxt, options)
    readChunks(path) { chunk in
        _ = xmlParseChunk(ctxt, chunk.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(chunk.count), 0)
    }
    xmlParseChunk(ctxt, nil, 0, 1)
    xmlFreeParserCtxt(ctxt)
    return counter.elements
}

func feedspoolPass(_ path: String) -> Int {
    // Every item of the file: the product keeps the first 10,000 of a document
    // (`ParseOptions.maxItems`), and the files hold 50,000.
    let parser = FeedParser(options: ParseOptions(feedID: "bench", maxItems: .max))
    readChunks(path) { chunk in try? parser.push(chunk) }
    return (try? parser.finish())?.items.count ?? -1
}

/// Peak resident memory of this process since its exec (VmHWM; `ru_maxrss` would
/// include the parent's peak, which a child inherits on Linux).
func peakRSSMiB() -> Double {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0
        return kb / 1024
    }
    return 0
}

// MARK: child: one pass, prints "seconds cpuSeconds count firstPeakMiB peakMiB callingThreadCPU"

/// CPU time of this process so far, every thread (the parser finishes items on a second one).
func cpuSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// CPU time of the calling thread so far (the parsing thread; the rest of a
/// run's CPU time is the finishing thread's).
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

if let i = arguments.firstIndex(of: "--child") {
    let mode = arguments[i + 1], path = arguments[i + 2], runs = option("--runs", 3)
    if !arguments.contains("--malloc-defaults") { ProcessMemory.keepFreedMemory() }
    // The passes run on a thread of their own, not the process's main thread: the
    // daemon parses on Dispatch's worker threads, and glibc treats the main
    // thread's heap differently (it hands freed memory at its top back to the
    // system, which the next run then faults in again).
    let parsing = Thread {
        var best = Double.infinity, bestCPU = 0.0, bestThreadCPU = 0.0
        var count = 0
        var firstPeak = 0.0
        for run in 0..<runs {
            let t0 = DispatchTime.now().uptimeNanoseconds, c0 = cpuSeconds(), m0 = threadCPUSeconds()
            count = mode == "ceiling" ? ceilingPass(path) : feedspoolPass(path)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            if seconds < best { best = seconds; bestCPU = cpuSeconds() - c0; bestThreadCPU = threadCPUSeconds() - m0 }
            if run == 0 { firstPeak = peakRSSMiB() }
        }
        print(best, bestCPU, count, firstPeak, peakRSSMiB(), bestThreadCPU)
        exit(0)
    }
    parsing.stackSize = 8 << 20
    parsing.start()
    while true { pause() }
}

// MARK: data

let words = """
    the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were
    her she there been one all we their has would when if so no will more about can said what up into out them some
    grain port river terminal barge wheat council city night bus route insurers director tonnes capacity ministry export
    """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)

struct Rng { var s: UInt64; mutating func next() -> Int { s = s &* 6364136223846793005 &+ 1442695040888963407; return Int(s >> 33) } }

func sentence(_ r: inout Rng, _ n: Int) -> String {
    var out: [String] = []
    for _ in 0..<n { out.append(words[r.next() % words.count]) }
    let text = out.joined(separator: " ")
    return text.prefix(1).uppercased() + text.dropFirst()
}

func story(_ r: inout Rng, _ i: Int) -> (title: String, html: String, summary: String) {
    var html = ""
    for p in 0..<3 {
        html += "<p>\(sentence(&r, 16)) &ldquo;\(sentence(&r, 5))&rdquo; <a href=\"/story/\(i)/\(p)\">more</a>.</p>\n"
    }
    html += "<p><img src=\"https://img.example/\(i).jpg\" alt=\"photo\"> <em>\(sentence(&r, 8))</em> &amp; so on.</p>\n"
    return (sentence(&r, 8), html, sentence(&r, 20))
}

func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
}

/// The files, made once: RSS with the stories in CDATA (as WordPress writes them),
/// the same RSS with them escaped (as many other feeds carry them), and Atom.
func generate(items: Int, dir: URL) throws -> [URL] {
    let rssURL = dir.appendingPathComponent("large-\(items).rss")
    let escapedURL = dir.appendingPathComponent("large-\(items)-escaped.rss")
    let atomURL = dir.appendingPathComponent("large-\(items).atom")
    let urls = [rssURL, escapedURL, atomURL]
    if urls.allSatisfy({ FileManager.default.fileExists(atPath: $0.path) }) { return urls }
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    var rss = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
    rss += #"<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Bench</title><link>https://bench.example/</link><description>generated</description>"# + "\n"
    var escaped = rss
    var atom = #"<?xml version="1.0" encoding="utf-8"?>"# + "\n"
    atom += #"<feed xmlns="http://www.w3.org/2005/Atom"><title>Bench</title><link href="https://bench.example/"/><id>urn:bench</id><updated>2023-08-09T10:00:00Z</updated>"# + "\n"
    var r = Rng(s: 42)
    for i in 0..<items {
        let s = story(&r, i)
        let day = 1 + i % 28
        let head = """
            <item><title>\(escape(s.title))</title><link>https://bench.example/story/\(i)</link><guid isPermaLink="false">bench-\(i)</guid>
            <pubDate>Wed, \(day) Aug 2023 10:\(i % 60 < 10 ? "0" : "")\(i % 60):00 +0000</pubDate><dc:creator>Reporter \(i % 50)</dc:creator><category>Topic \(i % 20)</category>
            <description>\(escape(s.summary))</description>

            """
        rss += head + "<content:encoded><![CDATA[\(s.html)]]></content:encoded></item>\n"
        escaped += head + "<content:encoded>\(escape(s.html))</content:encoded></item>\n"
        atom += """
            <entry><title>\(escape(s.title))</title><link href="https://bench.example/story/\(i)"/><id>urn:bench:\(i)</id>
            <updated>2023-08-\(day < 10 ? "0" : "")\(day)T10:00:00Z</updated><author><name>Reporter \(i % 50)</name></author><category term="Topic \(i % 20)"/>
            <summary>\(escape(s.summary))</summary>
            <content type="html">\(escape(s.html))</content></entry>

            """
    }
    rss += "</channel></rss>\n"
    escaped += "</channel></rss>\n"
    atom += "</feed>\n"
    try Data(rss.utf8).write(to: rssURL)
    try Data(escaped.utf8).write(to: escapedURL)
    try Data(atom.utf8).write(to: atomURL)
    return urls
}

// MARK: parent

let items = option("--items", 50_000)
let runs = option("--runs", 3)
let rounds = max(1, option("--rounds", 5))
let mallocDefaults = arguments.contains("--malloc-defaults")
let dataDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../data").standardizedFileURL
let files = try generate(items: items, dir: dataDir)

struct Pass {
    var seconds: Double, cpu: Double, count: Int, firstPeak: Double, peak: Double, callingThreadCPU: Double
}

func child(_ mode: String, _ file: URL) -> Pass {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    p.arguments = ["--child", mode, file.path, "--runs", String(runs)] + (mallocDefaults ? ["--malloc-defaults"] : [])
    let out = Pipe()
    p.standardOutput = out
    try! p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    let f = text.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
    return Pass(
        seconds: Double(f[0])!, cpu: Double(f[1])!, count: Int(f[2])!, firstPeak: Double(f[3])!, peak: Double(f[4])!,
        callingThreadCPU: Double(f[5])!)
}

print("parse-bench: \(ProcessInfo.processInfo.activeProcessorCount) cores; per file \(rounds) rounds of the two passes, each pass")
print("  \(runs) runs in a process of its own; the best run of all rounds is shown")
print("  CPU s: CPU time of that run, all threads, then the calling (parsing) thread's share; feedspool")
print("         finishes items on a second thread, which has the rest")
print("  peak RSS: after the first run, and after all \(runs) (freed memory that malloc keeps for reuse)")
print("  rounds: the ratio of each round's two passes (best run each): median [lowest, highest]")
print(mallocDefaults
    ? "  memory: glibc's defaults (--malloc-defaults)"
    : "  memory: feedspool's policy (freed memory kept for the next run, as `feedspool` keeps it; --malloc-defaults: glibc's)")
print("file                     MB  pass        seconds    CPU s (parsing)     MB/s    items/s   peak RSS 1st / all   vs ceiling   rounds")
for file in files {
    let size = Double((try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0) / 1_000_000
    var ceilings: [Pass] = [], ours: [Pass] = []
    for _ in 0..<rounds {
        ceilings.append(child("ceiling", file))
        ours.append(child("feedspool", file))
    }
    let ceiling = ceilings.min { $0.seconds < $1.seconds }!
    let best = ours.min { $0.seconds < $1.seconds }!
    let ratios = zip(ceilings, ours).map { $0.seconds / $1.seconds }.sorted()
    let spread = String(format: "%.2fx [%.2f, %.2f]", ratios[ratios.count / 2], ratios.first!, ratios.last!)
    for (name, r) in [("ceiling", ceiling), ("feedspool", best)] {
        let rate = size / r.seconds
        let itemsPerSecond = name == "feedspool" ? String(format: "%9.0f", Double(r.count) / r.seconds) : "        -"
        let ratio = name == "feedspool" ? String(format: "%.2fx", ceiling.seconds / r.seconds) + "        " + spread : ""
        print(String(format: "%-22@ %5.1f  %-9@ %8.3f %8.3f (%5.3f) %8.1f  %@  %6.1f / %6.1f MiB   %@",
                     file.lastPathComponent as NSString, size, name as NSString, r.seconds, r.cpu, r.callingThreadCPU, rate,
                     itemsPerSecond as NSString, r.firstPeak, r.peak, ratio as NSString))
    }
    if let wrong = ours.first(where: { $0.count != items }) {
        print("  warning: feedspool found \(wrong.count) items, expected \(items)")
    }
}
