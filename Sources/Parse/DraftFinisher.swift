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
/// batches wait there: when they do, the parsing thread waits for one to be
/// done, so drafts (each holding its raw markup) never pile up in memory.
///
/// One parse owns it and calls `add` and `takeItems` from one thread at a time.
final class DraftFinisher: @unchecked Sendable {
    /// A batch goes when it holds this many drafts or this many bytes of markup.
    static let batchDrafts = 64
    static let batchBytes = 1 << 18
    static let maxBatchesInFlight = 4

    private let feedID: String
    private let queue = DispatchQueue(label: "feedspool.parse.finish")
    private let room = DispatchSemaphore(value: DraftFinisher.maxBatchesInFlight)
    /// Touched only by the owning parse.
    private var batch: [FeedBuilder.Draft] = []
    private var batchBytes = 0
    private var sentAny = false
    /// Touched only on `queue` once a batch was sent, then by `takeItems` after it waited for `queue`.
    private var finished: [Item] = []
    /// The renderer's output buffers, kept from item to item. Touched only on `queue`.
    private var buffers = HTMLRenderBuffers()
    /// The finished stories' paragraphs, counted as they are made (for recurring paragraphs).
    private var tally = StoryText.ParagraphTally()

    /// The byte buffers of finished drafts, emptied, for the parsing thread's next
    /// captures: freed on the finishing thread, each went back to the parsing
    /// thread's malloc arena under that arena's lock, which both threads then
    /// contended for, and each capture allocated a new one.
    private var recycled: [[UInt8]] = []
    private let recycledLock = NSLock()
    /// Taken from `recycled` a batch at a time. Touched only by the owning parse.
    private var stash: [[UInt8]] = []
    /// At most this many wait in `recycled`, each of at most `maxRecycledBytes` (8 MiB in
    /// all; as many again may be in `stash`).
    static let maxRecycled = 512
    static let maxRecycledBytes = 16 << 10

    /// The guids of the drafts handed over so far. Touched only by the owning parse.
    private var guids = GuidCensus()

    /// Drafts handed over so far.
    private(set) var count = 0

    init(feedID: String) {
        self.feedID = feedID
    }

    /// An empty buffer with room, from a finished draft, if one is waiting.
    func recycledBuffer() -> [UInt8]? {
        guard sentAny else { return nil }  // nothing was finished on the queue yet
        if stash.isEmpty {
            recycledLock.withLock { swap(&stash, &recycled) }
        }
        return stash.popLast()
    }

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
        // The last, partial batch is finished here while the queue finishes the ones before.
        var buffers = HTMLRenderBuffers()
        let rest = batch.map { ItemAssembler.finish($0, feedID: feedID, buffers: &buffers) }
        batch = []
        batchBytes = 0
        if sentAny { queue.sync {} }
        sentAny = false
        var items = finished
        finished = []
        var tally = tally
        self.tally = StoryText.ParagraphTally()
        for item in rest { tally.add(item) }
        items.append(contentsOf: rest)
        let guids = guids
        self.guids = GuidCensus()
        return (items, tally, guids)
    }

    private func send() {
        guard !batch.isEmpty else { return }
        let drafts = Batch(batch)
        // Room for a whole batch at once: grown from empty, the array was made again
        // seven times a batch, each time copying its drafts.
        batch = []
        batch.reserveCapacity(Self.batchDrafts)
        batchBytes = 0
        sentAny = true
        room.wait()
        let feedID = feedID
        queue.async {
            // Each item appended as it is made: mapping to an array and appending that
            // copied every item once more.
            var buffers: [[UInt8]] = []
            buffers.reserveCapacity(drafts.drafts.count * 3)
            // Read through a buffer pointer: `drafts.drafts[i]` copied each draft out of
            // the class (retaining its every string) to pass it.
            drafts.drafts.withUnsafeMutableBufferPointer { list in
                for i in list.indices {
                    let item = ItemAssembler.finish(list[i], feedID: feedID, buffers: &self.buffers)
                    self.tally.add(item)
                    self.finished.append(item)
                    list[i].giveBuffers(to: &buffers)
                }
            }
            drafts.drafts = []
            for i in buffers.indices { buffers[i].removeAll(keepingCapacity: true) }
            self.recycledLock.withLock {
                let room = max(0, Self.maxRecycled - self.recycled.count)
                self.recycled.append(contentsOf: buffers.prefix(room))
            }
            self.room.signal()
        }
    }
}

/// A batch of drafts the finishing queue changes in place (a captured array is
/// a constant: taking its buffers would have copied it). Used by one batch at a time.
private final class Batch: @unchecked Sendable {
    var drafts: [FeedBuilder.Draft]
    init(_ drafts: [FeedBuilder.Draft]) { self.drafts = drafts }
}

extension FeedBuilder.Draft {
    /// Moves the draft's markup buffers into `buffers`, but for small and large ones.
    mutating func giveBuffers(to buffers: inout [[UInt8]]) {
        func give(_ bytes: inout [UInt8]) {
            guard bytes.capacity >= 128 && bytes.capacity <= DraftFinisher.maxRecycledBytes else { return }
            var taken: [UInt8] = []
            swap(&taken, &bytes)
            buffers.append(taken)
        }
        if title != nil { give(&title!.0.bytes) }
        if summary != nil { give(&summary!.0.bytes) }
        if content != nil { give(&content!.bytes) }
    }

    /// Roughly how much raw markup the draft holds.
    var markupBytes: Int {
        (title?.0.bytes.count ?? 0) + (summary?.0.bytes.count ?? 0) + (content?.bytes.count ?? 0)
    }
}

extension StoryText.ParagraphTally {
    /// The items' cleaned stories counted.
    init(_ items: [Item]) {
        self.init()
        for item in items { add(item) }
    }

    /// Counts the item's cleaned story, if it has one.
    mutating func add(_ item: Item) {
        item.withUTF8(.contentText) { add(utf8: $0) }
    }
}
