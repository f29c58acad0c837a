import CMalloc
import Foundation

/// What a feedspool process does with memory it frees (glibc's malloc; on other
/// systems nothing here has an effect).
///
/// glibc hands freed memory back to the kernel as soon as the top of a heap is
/// free (beyond 128 KiB), and a thread's heap whose memory is all free goes back
/// whole. Parsing frees a document's items at once when they are delivered, so
/// the next document faulted the same memory in again, page by page: a 50 MB
/// feed parsed three times in one process took about 19,000 page faults a parse
/// after the first, some 20 ms of a 0.17 s parse, on the benchmark machine (each
/// fault about 1.2 us; `MADV_POPULATE_WRITE` in advance was no cheaper). Fetched
/// bodies did the same: about 6 faults per 30 KB feed.
///
/// So a feedspool process keeps what it frees while it works
/// (`keepFreedMemory`), and the daemon gives it back when it has had nothing to
/// do for a while (`returnFreedMemory`). A one-shot command exits instead.
public enum ProcessMemory {
    /// The policy, set once at the start of the process, before threads allocate:
    /// freed memory stays with the process (a trim threshold of 1 GiB: a heap is
    /// never handed back while it works), and allocations up to 32 MiB (glibc's
    /// most) come from the heaps, where they can be reused, not from an mmap of
    /// their own, unmapped when freed. Returns whether glibc took it.
    @discardableResult
    public static func keepFreedMemory() -> Bool {
        fs_malloc_keep(1 << 30, 32 << 20) == 1
    }

    /// Gives the process's free memory back to the kernel: every arena's free
    /// pages, also those inside a heap (which glibc's own trimming never returns),
    /// and the free tops of thread arenas (which `malloc_trim` leaves: glibc trims
    /// such a top only in `free`, above the trim threshold `keepFreedMemory`
    /// raised, and only from a thread using that arena). Returns how many
    /// arenas still have a large free top (1 MiB or more).
    ///
    /// The calling thread's arena is trimmed, and those of threads that have
    /// ended, through an `ArenaTrimChain`; those of other threads still alive are
    /// not. Call it when the process is idle, and again from another thread of a
    /// pool while some are left.
    @discardableResult
    public static func returnFreedMemory() -> Int {
        fs_malloc_trim_eagerly(1)
        defer { fs_malloc_trim_eagerly(0) }
        fs_malloc_trim()
        fs_malloc_trim_thread_arena()
        var largeTops = 0
        let arenas = fs_malloc_arenas(ArenaTrimChain.largeTop, &largeTops)
        guard arenas > 1, largeTops > 0 else { return max(largeTops, 0) }
        return ArenaTrimChain(arenas: arenas, largeTops: largeTops).run()
    }

    /// How many arenas glibc's malloc has made (one per thread that allocated at
    /// the same time as others, at most 8 per core), or nil where it cannot tell.
    public static func arenaCount() -> Int? {
        let count = fs_malloc_arenas(0, nil)
        return count < 0 ? nil : count
    }

    /// The process's resident memory in bytes (`VmRSS`), or nil where there is no `/proc`.
    public static func residentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }
}

/// Trims the tops of the arenas of threads that have ended. glibc keeps those
/// arenas on a free list and gives them to new threads first, so each link of
/// the chain is a new thread whose first malloc takes one and whose large free
/// then trims its top; the link then starts the next and waits, so that the
/// next takes another arena, until the chain ends and all exit (their arenas
/// go back to the list). The chain ends when no arena has a large top left, or
/// after as many links as the list can hold: the arenas less the live threads
/// (each holds at most one, the main thread the main arena), so that no link
/// finds the list empty and makes a new arena.
private final class ArenaTrimChain: @unchecked Sendable {
    /// A top this large is worth a thread to trim (glibc leaves 128 KiB, M_TOP_PAD).
    static let largeTop = 1 << 20
    private let condition = NSCondition()
    private let arenas: Int
    // Guarded by `condition`.
    private var linksLeft: Int
    private var running = 0
    private var finished = false
    private var largeTopsLeft: Int
    /// How long a link waits for the rest before it ends regardless.
    private static let patience: TimeInterval = 2

    init(arenas: Int, largeTops: Int) {
        self.arenas = arenas
        largeTopsLeft = largeTops
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? arenas
        linksLeft = max(0, arenas - threads)
    }

    /// Runs the chain to its end; returns how many arenas still have a large top.
    func run() -> Int {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(Self.patience)
        startNextLink()
        while (!finished || running > 0) && condition.wait(until: deadline) {}
        finished = true
        return largeTopsLeft
    }

    /// Called with the lock held.
    private func startNextLink() {
        guard linksLeft > 0, !finished else {
            finished = true
            condition.broadcast()
            return
        }
        linksLeft -= 1
        running += 1
        Thread.detachNewThread { self.link() }
    }

    private func link() {
        fs_malloc_trim_thread_arena()
        var largeTops = 0
        let count = fs_malloc_arenas(Self.largeTop, &largeTops)
        condition.lock()
        defer { condition.unlock() }
        largeTopsLeft = max(largeTops, 0)
        // More arenas than before: some thread found the list empty (one started
        // meanwhile took an arena), so this link holds a new one; nothing more to take.
        if count < 0 || count > arenas || largeTops == 0 {
            finished = true
            condition.broadcast()
        } else {
            startNextLink()
        }
        let deadline = Date().addingTimeInterval(Self.patience)
        while !finished && condition.wait(until: deadline) {}
        running -= 1
        condition.broadcast()
    }
}
