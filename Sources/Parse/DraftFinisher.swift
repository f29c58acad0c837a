import Content
import Dispatch
import FeedspoolModel
import Foundation

/// Finishes item drafts (`ItemAssembler.finish`: rendering, sanitizing, story
/// cleaning) on a second thread while libxml2 reads on, for documents of many items.
///
/// Drafts are handed over in batches. The first batch fills before any goes,
/// so a feed of a few dozen items is finished on the parsing thread, with no
/// thread hop at all. A large document is finished a batch at a time on one
/// serial queue, so items keep document order. At most `maxBatchesInFlight`
/// batches wait there, so batches (each holding its drafts' raw markup) never
/// pile up in memory. When that many wait, the parsing thread finishes the
/// batch itself instead of waiting, and sends the queue its finished items, to
/// be added in their turn: both threads keep working whichever is the faster
/// (libxml2 reads a feed of stories in CDATA faster than they are finished, an
/// Atom feed less so), and the parsing thread is not put to sleep and woken
/// again a batch at a time (with two batches in flight, the benchmark's CDATA
/// file took 0.02-0.03 s longer than the busier thread's CPU time).
///
/// One parse owns it and calls `add` and `takeItems` from one thread at a time.
final class DraftFinisher: @unchecked Sendable {
    /// A batch goes when it holds this many drafts or this many bytes of markup.
    static let batchDrafts = 64
    static let batchBytes = 1 << 18
    static let maxBatchesInFlight = 8

    private let feedID: String
    private let queue = DispatchQueue(label: "feedspool.parse.finish")
    private let room: DispatchSemaphore
    /// Touched only by the owning parse (so, like `captured` and `guids`, not checked
    /// for exclusive access at run time: `add` made two checks a draft).
    @exclusivity(unchecked) private var batch: [FeedBuilder.Draft] = []
    @exclusivity(unchecked) private var batchBytes = 0
    private var sentAny = false

    /// The bytes of the values captured for the batch being filled, back to back:
    /// `FeedBuilder` appends to it directly and its drafts hold `TextSpan`s into it.
    /// It goes with its batch, and an emptied one from a finished batch takes its place.
    /// Touched only by the owning parse (one access at a time: not checked at run time,
    /// where the check cost more than most appends).
    @exclusivity(unchecked) var captured = ByteSink(capacity: 1 << 16)

    /// Finished batches, for the next ones: the same few arrays and buffers go round
    /// instead of new ones per item. Their byte buffers come back emptied, their
    /// drafts not: `send` frees those on the parsing thread (see there).
    private var spares: [Batch] = []
    private let sparesLock = NSLock()
    /// A byte buffer larger than this (a batch with a huge story) is not kept.
    static let maxSpareBytes = 1 << 20

    /// Touched only on `queue` once a batch was sent, then by `takeItems` after it waited for `queue`.
    private var finished: [Item] = []
    /// The queue's renderer buffers, paragraph tally and text arena. Touched only
    /// on `queue`, then by `takeItems` after it waited for `queue`.
    private var queueWork = Finishing()

    /// The guids of the drafts handed over so far. Touched only by the owning parse.
    @exclusivity(unchecked) private var guids = GuidCensus()

    /// The parsing thread's own renderer buffers, tally and text arena, for the
    /// batches it finishes itself (the tally joins the queue's in `takeItems`).
    private var ownWork = Finishing()

    /// Drafts handed over so far.
    private(set) var count = 0

    /// `batchesInFlight`: how many batches may wait for the queue (tests set 0, so
    /// that the parsing thread finishes every batch itself).
    init(feedID: String, batchesInFlight: Int = DraftFinisher.maxBatchesInFlight) {
        self.feedID = feedID
        room = DispatchSemaphore(value: batchesInFlight)
    }

    /// Hands over a finished draft, whose spans are in `captured`.
    func add(_ draft: consuming FeedBuilder.Draft) {
        count += 1
        guids.count(draft)
        batchBytes += draft.markupBytes
        batch.append(draft)
        if batch.count >= Self.batchDrafts || batchBytes >= Self.batchBytes { send() }
    }

    /// Every item so far, finished and in document order, with their stories'
    /// paragraphs and their guids counted; the finisher starts over empty.
    func takeItems() -> (items: [Item], tally: StoryText.ParagraphTally, guids: GuidCensus) {
        // The last, partial batch is finished here once the queue is done with the
        // ones before (they count into the same tally).
        if sentAny { queue.sync {} }
        sentAny = false
        var items = finished
        finished = []
        items.reserveCapacity(items.count + batch.count)
        batch.withUnsafeBufferPointer { queueWork.finish($0, bytes: captured.bytes, feedID: feedID, into: &items) }
        // Taken before the merge, so that the merge does not copy a table still shared.
        var tally = queueWork.tally
        queueWork.tally = StoryText.ParagraphTally()
        tally.merge(ownWork.tally)
        ownWork.tally = StoryText.ParagraphTally()
        batch = []
        batchBytes = 0
        captured.removeAll()
        let guids = guids
        self.guids = GuidCensus()
        return (items, tally, guids)
    }

    private func send() {
        guard !batch.isEmpty else { return }
        guard room.wait(timeout: .now()) == .success else {
            finishHere()
            return
        }
        // A finished batch's array and emptied buffer, or new ones. Its drafts go
        // here, on the thread that made their strings: freed on the queue's thread,
        // they went back to this thread's malloc arena from the other core, and its
        // allocations missed its thread cache (perf: 20% more CPU for the same work
        // than with both threads on one core, most of it in malloc, free, retain and
        // the functions that make the drafts' strings).
        let sent = sparesLock.withLock { spares.popLast() } ?? Batch()
        swap(&sent.drafts, &batch)
        batch.removeAll(keepingCapacity: true)
        swap(&sent.bytes, &captured)
        captured.removeAll()
        if batch.capacity < Self.batchDrafts {
            // Room for a whole batch at once: grown from empty, the array was made
            // again seven times a batch, each time copying its drafts.
            batch.reserveCapacity(Self.batchDrafts)
        }
        batchBytes = 0
        sentAny = true
        let feedID = feedID
        queue.async {
            // Read through buffer pointers: `sent.drafts[i]` copied each draft out of
            // the class (retaining its every string) to pass it.
            sent.drafts.withUnsafeBufferPointer { self.queueWork.finish($0, bytes: sent.bytes.bytes, feedID: feedID, into: &self.finished) }
            if sent.bytes.allocatedCount > Self.maxSpareBytes {
                sent.bytes = ByteSink(capacity: 1 << 16)
            } else {
                sent.bytes.removeAll()
            }
            self.sparesLock.withLock { self.spares.append(sent) }
            self.room.signal()
        }
    }
}

extension DraftFinisher {
    /// Finishes the batch being filled on the parsing thread, and has the queue add
    /// its items after those of the batches sent before.
    private func finishHere() {
        var items: [Item] = []
        items.reserveCapacity(batch.count)
        batch.withUnsafeBufferPointer { ownWork.finish($0, bytes: captured.bytes, feedID: feedID, into: &items) }
        batch.removeAll(keepingCapacity: true)
        captured.removeAll()
        batchBytes = 0
        sentAny = true
        let done = items
        queue.async { self.finished.append(contentsOf: done) }
    }
}

/// What one thread finishes items with: the renderer's output buffers (kept from
/// item to item), the count of the stories' paragraphs, and the blocks the items'
/// texts go in. One value per thread, reached once a batch (one exclusivity check,
/// not three an item). `FeedParser` uses one too, for a JSON Feed's drafts.
struct Finishing: ~Copyable {
    var buffers = HTMLRenderBuffers()
    var tally = StoryText.ParagraphTally()
    var arena = ItemTextArena()

    /// Finishes `drafts` in order, appending each item as it is made (mapping to an
    /// array and appending that copied every item once more). The drafts are read
    /// where they lie (see `ItemAssembler.finish`).
    mutating func finish(
        _ drafts: UnsafeBufferPointer<FeedBuilder.Draft>, bytes: UnsafeBufferPointer<UInt8>, feedID: String, into items: inout [Item]
    ) {
        guard let first = drafts.baseAddress else { return }
        for i in 0..<drafts.count {
            items.append(ItemAssembler.finish(first + i, bytes: bytes, feedID: feedID, buffers: &buffers, tally: &tally, arena: &arena))
        }
    }
}

/// A batch of drafts and the bytes their spans point into, handed to the
/// finishing queue and back when done (its bytes emptied there, its drafts freed
/// by the parsing thread when it takes the batch again). Used by one side at a time:
/// the parsing thread until it is sent, the queue until it is back among the spares.
private final class Batch: @unchecked Sendable {
    var drafts: [FeedBuilder.Draft] = []
    var bytes = ByteSink(capacity: 1 << 16)
}

extension FeedBuilder.Draft {
    /// Roughly how much raw markup the draft holds.
    var markupBytes: Int {
        (title?.0.count ?? 0) + (summary?.0.count ?? 0) + (content?.count ?? 0)
    }
}
