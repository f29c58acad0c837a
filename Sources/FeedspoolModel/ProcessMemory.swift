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

    /// Gives the process's free memory back to the kernel (every arena, also the
    /// free pages inside a heap, which glibc's own trimming never returns).
    /// Returns whether any was given back.
    @discardableResult
    public static func returnFreedMemory() -> Bool {
        fs_malloc_trim() == 1
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
