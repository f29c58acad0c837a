import Dispatch
import Foundation
import GRDBSQLite
import Synchronization

/// Copies the write-ahead log back into the database file on its own connection
/// and thread, so that the writer seldom waits for it.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses its
/// threshold: that commit (one job's dedup round, which holds the serialized
/// decisions) then copies the pages and pays two fsyncs, about 60 ms at 4,000
/// pages here, and every other job waits behind it.
///
/// Here the WAL hook sees each commit's WAL size. Once `every` frames are not yet
/// copied, it starts a PASSIVE checkpoint on this object's connection, which never
/// takes the write lock: commits go on meanwhile. But the WAL only starts over
/// from its beginning when a writer begins a transaction while every frame in it
/// has been copied (<https://www.sqlite.org/wal.html>), and under steady writes
/// the frames committed during a background copy are always left. So once the WAL
/// holds `limit` frames, the first commit that finds fewer than `every` of them
/// not yet copied checkpoints itself, as SQLite's own hook would (a short copy),
/// and the next transaction starts the WAL over. Under a load the background
/// copies cannot keep that close to, at twice `limit` the commit checkpoints
/// itself whatever is left: the WAL stays bounded.
final class SQLiteCheckpointer: Sendable {
    let path: String
    /// Frames not yet copied after which a background checkpoint starts.
    let every: Int32
    /// Frames in the WAL from which the committing connection checkpoints itself
    /// once the background copies are close behind (and at twice this, in any case).
    let limit: Int32
    private let queue = DispatchQueue(label: "feedspool.store.checkpoint", qos: .utility)
    private let pending = Atomic<Bool>(false)
    /// Frames of the WAL the last background checkpoint found copied.
    private let copied = Atomic<Int32>(0)
    private let state = Mutex(State())

    private struct State: @unchecked Sendable {  // the connection is only used on `queue`
        var connection: OpaquePointer?
        var closed = false
        var completed = 0
        /// Frames found copied at the end of each completed checkpoint, added up.
        var copiedFrames = 0
        var lastError: String?
    }

    init(path: String, every: Int32, limit: Int32) {
        self.path = path
        self.every = every
        self.limit = limit
    }

    /// Checkpoints this object ran to the end, the frames they found copied (added
    /// up), and the last failure (tests, stats).
    var progress: (completed: Int, copiedFrames: Int, lastError: String?) { state.withLock { ($0.completed, $0.copiedFrames, $0.lastError) } }

    /// Installs the WAL hook on a writing connection. `self` must outlive it:
    /// the store closes its connection before it releases this object.
    func watch(_ connection: OpaquePointer) {
        sqlite3_wal_hook(
            connection,
            { context, db, _, walPages in
                let me = Unmanaged<SQLiteCheckpointer>.fromOpaque(context!).takeUnretainedValue()
                var copied = me.copied.load(ordering: .acquiring)
                if copied > walPages { copied = 0 }  // the WAL started over since
                let behind = walPages - copied
                if walPages >= 2 * me.limit || (walPages >= me.limit && behind < me.every) {
                    // PASSIVE, as SQLite's own hook: the frames no reader still needs.
                    var rc = sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
                    if rc == SQLITE_BUSY && walPages >= 2 * me.limit {
                        // The background checkpoint holds the checkpoint lock. At twice the
                        // limit the commit waits for it, then copies what is left: when its
                        // thread got little CPU, the WAL grew past three times the limit.
                        me.drain()
                        rc = sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
                    }
                    if rc == SQLITE_OK {
                        me.copied.store(0, ordering: .releasing)  // the WAL starts over at the next transaction
                    }
                } else if behind >= me.every {
                    me.request()
                }
                return SQLITE_OK
            }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Starts a checkpoint unless one is running or waiting.
    func request() {
        guard !pending.exchange(true, ordering: .acquiringAndReleasing) else { return }
        queue.async { self.run() }
    }

    /// Waits for a running checkpoint (tests, closing).
    func drain() { queue.sync {} }

    /// Closes the checkpoint connection; later requests do nothing.
    func close() {
        queue.sync {
            state.withLock { s in
                s.closed = true
                if let c = s.connection { sqlite3_close_v2(c) }
                s.connection = nil
            }
        }
    }

    private func run() {
        pending.store(false, ordering: .releasing)  // a commit from now on may ask again
        state.withLock { s in
            guard !s.closed else { return }
            if s.connection == nil {
                var c: OpaquePointer?
                let rc = sqlite3_open_v2(path, &c, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil)
                guard rc == SQLITE_OK, let c else {
                    s.lastError = "cannot open \(path) to checkpoint it: \(String(cString: sqlite3_errstr(rc)))"
                    if let c { sqlite3_close_v2(c) }
                    return
                }
                sqlite3_busy_timeout(c, 10_000)
                // A connection that has read nothing does not know the file is in WAL
                // mode: its checkpoint would return OK having done nothing (-1 frames).
                var message: UnsafeMutablePointer<CChar>?
                if sqlite3_exec(c, "SELECT 1 FROM sqlite_schema LIMIT 1", nil, nil, &message) != SQLITE_OK {
                    s.lastError = "cannot read \(path) to checkpoint it: \(message.map { String(cString: $0) } ?? "?")"
                    sqlite3_free(message)
                    sqlite3_close_v2(c)
                    return
                }
                s.connection = c
            }
            var done: Int32 = 0  // frames copied, of the WAL as this checkpoint found it
            let rc = sqlite3_wal_checkpoint_v2(s.connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, &done)
            if rc == SQLITE_OK && done >= 0 {
                s.completed += 1
                s.copiedFrames += Int(done)
                s.lastError = nil
                copied.store(done, ordering: .releasing)
            } else if rc == SQLITE_OK {
                s.lastError = "checkpoint of \(path) did not run (the connection does not see a WAL)"
            } else if rc == SQLITE_BUSY {
                // The writer is checkpointing (at `limit` it does so itself), so this
                // one's work is being done: not a failure to report.
            } else {
                // Kept for stats; the next commit tries again, and at `limit` the writer
                // checkpoints itself.
                s.lastError = "checkpoint of \(path): \(String(cString: sqlite3_errmsg(s.connection)))"
            }
        }
    }
}
