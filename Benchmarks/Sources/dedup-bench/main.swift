import Dedup
import FeedspoolModel
import Foundation
import Store

// Copy detection throughput with a large index, and what the index costs.
//
//   Benchmarks/run-dedup-bench            (builds this, installs datasketch in a venv, runs both)
//   dedup-bench DIR [--index N] [--shared P] [--measure M] [--round R] [--reuse] [--window]
//               [--texts-only] [--turns DIR [--turn-count K]]
//
// Texts are synthetic news-like paragraphs (Zipf-distributed words), made from a
// fixed seed. The first P of the N index items and the M measured items are
// written to DIR/preload.txt and DIR/measure.txt (one item per line, paragraphs
// separated by tabs) so that datasketch runs on the same texts. Of the measured
// items, 30% are edited copies of shared index items (paragraphs cut, a bio
// added, words changed), the rest new stories.
//
// feedspool: fills a SQLite store (DIR/bench.db) with N entries through the real
// decision path, in rounds of 500 items, then times the M measured items, one
// round per R items (20 unless given: as jobs deliver them): fingerprint, candidate lookup,
// verification against the store, insert. The first half of the measured items
// runs on one thread; the second half with each next round's fingerprints made on
// a second thread, as the daemon's workers make them before their turn at the
// decisions. Prints items/s of each, copies found, bytes per item in the store
// and in memory, and peak RSS.

let args = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    if let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) { return v }
    return fallback
}
guard args.count >= 2 else {
    print("usage: dedup-bench DIR [--index N] [--shared P] [--measure M]")
    exit(64)
}
let dir = URL(fileURLWithPath: args[1])
let indexSize = option("--index", 1_000_000)
let shared = min(option("--shared", 100_000), indexSize)
let measured = option("--measure", 20_000)
let measuredRound = option("--round", 20)

struct Generator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// A vocabulary of 30,000 made-up words, and a Zipf sampler over it.
enum Words {
    static let syllables = ["ka", "lo", "mi", "ren", "to", "sa", "vel", "dor", "an", "is", "ber", "qua", "ne", "fi", "gor", "tal", "u", "pe", "ris", "mon"]
    static let vocabulary: [String] = {
        var gen = Generator(state: 42)
        return (0..<30_000).map { _ in
            let n = 1 + gen.below(3)
            return (0..<n).map { _ in syllables[gen.below(syllables.count)] }.joined()
        }
    }()
    static let zipf: [Double] = {
        var c: [Double] = []
        var total = 0.0
        for r in 1...vocabulary.count {
            total += 1 / Double(r)
            c.append(total)
        }
        return c.map { $0 / total }
    }()
}
func word(_ g: inout Generator) -> String {
    let u = g.unit()
    var lo = 0, hi = Words.zipf.count - 1
    while lo < hi {
        let mid = (lo + hi) / 2
        if Words.zipf[mid] < u { lo = mid + 1 } else { hi = mid }
    }
    return Words.vocabulary[lo]
}
func story(_ seed: UInt64) -> [String] {
    var g = Generator(state: seed &* 0x2545_F491_4F6C_DD1D)
    let paragraphs = 4 + g.below(8)
    return (0..<paragraphs).map { _ in
        let words = 20 + g.below(40)
        return (0..<words).map { _ in word(&g) }.joined(separator: " ") + "."
    }
}
let bio = "The author is a staff writer covering regional affairs and has reported from the coast for over a decade for this newspaper."
func copy(of paragraphs: [String], seed: UInt64) -> [String] {
    var g = Generator(state: seed)
    var p = paragraphs
    switch g.below(4) {
    case 0: p = Array(p.prefix(2))  // an excerpt
    case 1: if p.count > 4 { p.remove(at: 2 + g.below(p.count - 3)) }  // a paragraph cut
    case 2: p.append(bio)
    default:  // a few words changed
        p = p.map { para in
            var w = para.split(separator: " ").map(String.init)
            if w.count > 10 { w[g.below(w.count)] = word(&g) }
            return w.joined(separator: " ")
        }
    }
    return p
}

func write(_ lines: [[String]], to url: URL) throws {
    var data = Data()
    for l in lines { data.append(contentsOf: Array((l.joined(separator: "\t") + "\n").utf8)) }
    try data.write(to: url)
}

/// User and system CPU time of this process so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// A `/proc/self/status` figure in KiB (VmHWM: peak RSS; RssAnon and RssFile: now).
func status(_ field: String) -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
}

try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
// The measured items: copies of shared index items, and new stories.
var mg = Generator(state: 7)
var measure: [[String]] = []
var expectedCopies = 0
var isPlanted: [Bool] = []
for i in 0..<measured {
    isPlanted.append(false)
    if mg.unit() < 0.3 {
        measure.append(copy(of: story(UInt64(mg.below(shared))), seed: UInt64(i)))
        expectedCopies += 1
        isPlanted[i] = true
    } else {
        measure.append(story(UInt64(10_000_000 + i)))
    }
}
try write((0..<shared).map { story(UInt64($0)) }, to: dir.appendingPathComponent("preload.txt"))
try write(measure, to: dir.appendingPathComponent("measure.txt"))
if args.contains("--texts-only") { exit(0) }  // for datasketch to start on them beside this

let dbPath = dir.appendingPathComponent("bench.db").path
// --reuse: measure against DIR/bench.db as it is (a copy of a filled index, when
// trying changes: filling a million items takes over a minute).
let reuse = args.contains("--reuse")
if !reuse { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dbPath + suffix) } }
let store = try SQLiteStore(path: dbPath)
let dedup = Deduplicator(policy: DedupPolicy(threshold: 0.8, window: 14 * 86400, dropCopies: true))
let now = Date()
/// Item ids as the daemon's are (SPEC: hex of a SHA-256 prefix): spread over their
/// range, so that the store's index on them takes each insert at a random place.
@Sendable func id(_ n: Int) -> String {
    var g = Generator(state: UInt64(n) &* 0xD6E8_FEB8_6659_FD93)
    let (a, b) = (String(g.next(), radix: 16), String(g.next(), radix: 16))
    return String(repeating: "0", count: 16 - a.count) + a + String(repeating: "0", count: 16 - b.count) + b
}

/// A measured item: its fingerprint is made here (the timed part starts before this).
@Sendable func candidate(_ name: (item: String, feed: String), _ text: String) -> DedupCandidate {
    DedupCandidate(itemID: name.item, feedID: name.feed, guid: nil, url: nil, text: text)
}

func rounds(_ texts: (Int) -> [String], range: Range<Int>, round: Int, idOffset: Int) throws -> (copies: Int, seconds: Double) {
    var copies = 0
    var fingerprinting: UInt64 = 0
    var i = range.lowerBound
    while i < range.upperBound {
        let end = min(i + round, range.upperBound)
        // Making the texts and the item and feed ids is not measured: the daemon has them already.
        let joined = (i..<end).map { texts($0).joined(separator: "\n\n") }
        let names = (i..<end).map { (item: id(idOffset + $0), feed: "feed\($0 % 2000)") }
        let t0 = DispatchTime.now().uptimeNanoseconds
        // Fingerprinting is part of the measured path.
        let batch = (i..<end).map { n in candidate(names[n - i], joined[n - i]) }
        fingerprinting += DispatchTime.now().uptimeNanoseconds - t0
        measuredNanos += DispatchTime.now().uptimeNanoseconds - t0
        for c in batch { fingerprintChecksum = fingerprintChecksum &* 31 &+ checksum(c.fingerprint) }
        let t1 = DispatchTime.now().uptimeNanoseconds
        defer { measuredNanos += DispatchTime.now().uptimeNanoseconds - t1 }
        try store.recordIntents(feedID: "bench", now: now) { session in
            let decisions = try dedup.decide(batch, session: session, now: now)
            copies += decisions.filter { $0.record.status == .duplicate }.count
            return DeliveryIntents(items: [])
        }
        i = end
    }
    print(String(format: "  fingerprints %.1f µs/item, decisions with the store %.1f µs/item", Double(fingerprinting) / 1e3 / Double(range.count),
                 Double(measuredNanos - fingerprinting) / 1e3 / Double(range.count)))
    let seconds = Double(measuredNanos) / 1e9
    measuredNanos = 0
    return (copies, seconds)
}
nonisolated(unsafe) var measuredNanos: UInt64 = 0  // one thread
/// Every measured fingerprint folded into one number (not timed): a change that
/// should not alter fingerprints must leave it as it was.
nonisolated(unsafe) var fingerprintChecksum: UInt64 = 0
func checksum(_ f: Fingerprint) -> UInt64 {
    var h = UInt64(f.words) &* 0x100_0000_01B3 ^ UInt64(f.shingles) ^ (f.textKey ?? 7)
    for k in f.nearKeys { h = (h ^ k) &* 0x100_0000_01B3 }
    for s in f.sample.hashes { h = (h ^ UInt64(s)) &* 0x100_0000_01B3 }
    return h ^ (f.sample.isWhole ? 1 : 0)
}

print("dedup-bench: filling the index with \(indexSize) items (\(shared) shared with datasketch)…")
if reuse {
    print("  reusing \(dbPath) as it is")
    // Load the in-memory index from the store before timing (a fill leaves it loaded).
    try store.recordIntents(feedID: "bench", now: now) { session in
        _ = try dedup.decide([], session: session, now: now)
        return DeliveryIntents(items: [])
    }
} else {
    let fill = try rounds({ story(UInt64($0)) }, range: 0..<indexSize, round: 500, idOffset: 0)
    print(String(format: "  filled in %.1f s (%.0f items/s), %d copies among the random stories", fill.seconds, Double(indexSize) / fill.seconds, fill.copies))
}
// The fill (or the copy of a filled store) leaves hundreds of MiB of dirty pages,
// which the kernel would write back during the measured part, stalling its writes:
// a running daemon's store is on disk. Written back here, before timing.
let syncStart = DispatchTime.now().uptimeNanoseconds
sync()
print(String(format: "  dirty pages written back in %.1f s (not measured)", Double(DispatchTime.now().uptimeNanoseconds - syncStart) / 1e9))
// The measured phase's CLOCK_MONOTONIC window, for `perf record -k CLOCK_MONOTONIC` and `perf report --time START,END`.
// The first half of the measured items runs on this one thread (fingerprint, then
// decision); the second half as the daemon runs it, where each job's worker thread
// fingerprints its items before it takes its turn at the decisions: here one more
// thread fingerprints the next round while this one decides the current.
let half = measured / 2
/// --turns DIR: the measured items are taken in `turns` slices, and after each this
/// process hands the turn to datasketch (`dedup_datasketch.py --turns`), which
/// measures its own slice before handing it back, through two named pipes in DIR
/// (each waits on a blocking open). Both then see the machine in the same state:
/// on this VM one program's speed moves by a third from one minute to the next.
let turnsDir = args.firstIndex(of: "--turns").flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
let turns = turnsDir == nil ? 1 : max(1, option("--turn-count", 5))
func waitForTurn() {
    guard let dir = turnsDir else { return }
    _ = FileHandle(forReadingAtPath: dir + "/to-feedspool")?.readDataToEndOfFile()
}
func passTurn(_ k: Int) {
    guard let dir = turnsDir, let pipe = FileHandle(forWritingAtPath: dir + "/to-datasketch") else { return }
    pipe.write(Data("\(k)\n".utf8))
    try? pipe.close()
}
/// Slice `k` of `range` when it is cut into `turns` pieces.
func slice(_ range: Range<Int>, _ k: Int) -> Range<Int> {
    let n = range.count
    return (range.lowerBound + n * k / turns)..<(range.lowerBound + n * (k + 1) / turns)
}
fingerprintChecksum = 0
var result = (copies: 0, seconds: 0.0)
var piped = (copies: 0, seconds: 0.0)
var pipedCPU = 0.0
var turnRates: [(one: Double, piped: Double)] = []

/// The second half: fingerprints of round k+1 made on another thread while round k is decided.
func pipelined(_ texts: [String], range: Range<Int>, round: Int, idOffset: Int) throws -> (copies: Int, seconds: Double) {
    let starts = Array(stride(from: range.lowerBound, to: range.upperBound, by: round))
    guard !starts.isEmpty else { return (0, 0) }  // --measure 0: only the fill was asked for
    let names = range.map { (item: id(idOffset + $0), feed: "feed\($0 % 2000)") }  // not measured, as above
    @Sendable func candidates(_ k: Int) -> [DedupCandidate] {
        (starts[k]..<min(starts[k] + round, range.upperBound)).map { n in
            candidate(names[n - range.lowerBound], texts[n - range.lowerBound])
        }
    }
    final class Slot: @unchecked Sendable {  // written before `done` is signalled, read after
        var batch: [DedupCandidate] = []
        let done = DispatchSemaphore(value: 0)
    }
    var copies = 0
    let t0 = DispatchTime.now().uptimeNanoseconds
    var current = candidates(0)
    for k in starts.indices {
        let next = Slot()
        if k + 1 < starts.count {
            DispatchQueue.global().async {
                next.batch = candidates(k + 1)
                next.done.signal()
            }
        }
        try store.recordIntents(feedID: "bench", now: now) { session in
            let decisions = try dedup.decide(current, session: session, now: now)
            copies += decisions.filter { $0.record.status == .duplicate }.count
            return DeliveryIntents(items: [])
        }
        if k + 1 < starts.count {
            next.done.wait()
            current = next.batch
        }
    }
    return (copies, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
}
let windowStart = DispatchTime.now().uptimeNanoseconds
for k in 0..<turns {
    waitForTurn()
    let one = try rounds({ measure[$0] }, range: slice(0..<half, k), round: measuredRound, idOffset: 50_000_000)
    result.copies += one.copies
    result.seconds += one.seconds
    let second = slice(half..<measured, k)
    let cpuBefore = cpuSeconds()
    let p = try pipelined(
        second.map { measure[$0].joined(separator: "\n\n") },  // not measured, as above
        range: second, round: measuredRound, idOffset: 50_000_000)
    pipedCPU += cpuSeconds() - cpuBefore
    piped.copies += p.copies
    piped.seconds += p.seconds
    turnRates.append((Double(slice(0..<half, k).count) / one.seconds, Double(second.count) / p.seconds))
    passTurn(k)
}
let windowEnd = DispatchTime.now().uptimeNanoseconds
print(String(format: "  fingerprints of the first half: checksum %016llx", fingerprintChecksum))
if args.contains("--window") {
    print(String(format: "  measured window (CLOCK_MONOTONIC): %.6f,%.6f", Double(windowStart) / 1e9, Double(windowEnd) / 1e9))
}
for (k, r) in turnRates.enumerated() where turns > 1 {
    print(String(format: "TURN %d feedspool_items_per_s=%.0f feedspool_pipelined_items_per_s=%.0f", k, r.one, r.piped))
}

let stats = try store.dedupStats()
let fileBytes = (try? FileManager.default.attributesOfItem(atPath: dbPath)[.size] as? Int) ?? 0
let memory = dedup.memoryFootprint
let planted = isPlanted[0..<half].filter { $0 }.count
print(String(format: "feedspool, one thread: %d items decided in %.2f s: %.0f items/s; copies found %d of %d planted", half, result.seconds,
             Double(half) / result.seconds, result.copies, planted))
print(String(format: "feedspool, fingerprints on a second thread (as the daemon's workers make them): %d items in %.2f s: %.0f items/s, "
             + "%.0f µs of CPU per item; copies found %d of %d planted", measured - half, piped.seconds, Double(measured - half) / piped.seconds,
             pipedCPU * 1e6 / Double(measured - half), piped.copies, expectedCopies - planted))
print("feedspool: index \(stats.entries) items; store \(stats.indexBytes / stats.entries) bytes/item in dedup_entry rows "
      + "(database file \(fileBytes / stats.entries) bytes/item); memory \(memory.bytes / max(memory.entries, 1)) bytes/item; peak RSS \(status("VmHWM") / 1024) MiB "
    + "(now \(status("RssAnon") / 1024) MiB anonymous + \(status("RssFile") / 1024) MiB of mapped files)")
print(String(format: "RESULT feedspool_items_per_s=%.0f", Double(half) / result.seconds))
print(String(format: "RESULT feedspool_pipelined_items_per_s=%.0f", Double(measured - half) / piped.seconds))
