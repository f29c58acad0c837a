import FeedspoolModel
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A delivered file.
public struct SpoolFile: Sendable, Hashable {
    /// `<unix-ms>-<item-id>.json`; no part of it comes from feed content.
    public var name: String
    /// Its path in `new/`.
    public var path: String
}

/// A Maildir-style spool (SPEC section 4): `tmp/` for files being written,
/// `new/` for delivered items, `cur/` for consumers that take them.
///
/// `deliver` writes `tmp/`, `fsync`s the file, `link()`s it into `new/` (which
/// never overwrites), unlinks the temporary name and `fsync`s `new/`: a consumer
/// sees a whole file or none, also after power loss or `kill -9`. Safe to use
/// from many threads and many processes at once.
public final class Spool: Sendable {
    public let root: String
    public let tmp: String
    public let new: String
    public let cur: String
    private let sequence = Atomic<Int>(0)
    private let processID = getpid()
    /// This machine's name as it appears in temporary file names (no dots or slashes).
    private static let host: String = {
        String(ProcessInfo.processInfo.hostName.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
    }()

    /// Opens (creating where missing) the spool at `root` and removes what
    /// crashed writers left in `tmp/`: at once for a process of this machine
    /// that no longer exists, else after `staleAfter` seconds (a spool on a
    /// shared file system may have writers on other machines).
    public init(root: String, staleAfter: TimeInterval = 3600) throws(SpoolError) {
        self.root = root
        tmp = root + "/tmp"
        new = root + "/new"
        cur = root + "/cur"
        for dir in [root, tmp, new, cur] { try FileSystem.makeDirectory(dir, mode: 0o2750) }
        guard access(new, W_OK) == 0, access(tmp, W_OK) == 0 else {
            throw .notWritable(path: root, reason: String(cString: strerror(errno)))
        }
        _ = try cleanTemporaryFiles(olderThan: staleAfter)
    }

    /// The file name for an item delivered at `date`.
    public static func fileName(itemID: String, at date: Date) -> String {
        "\(Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))-\(itemID).json"
    }

    /// Delivers `document` as `new/<name>`. If that file exists already (a
    /// delivery finished before a crash), it is left as it is and returned.
    /// On any failure nothing appears in `new/` and the temporary file is removed.
    ///
    /// With `syncDirectory: false` the caller must call `syncNew()` before it
    /// counts the file as delivered (one directory fsync for a whole job).
    @discardableResult
    public func deliver(_ document: [UInt8], name: String, syncDirectory: Bool = true) throws(SpoolError) -> SpoolFile {
        precondition(!name.contains("/") && !name.hasPrefix("."), "spool file names are made by Spool.fileName")
        let target = new + "/" + name
        let temporary = "\(tmp)/\(name).\(Self.host).\(processID).\(sequence.add(1, ordering: .relaxed).newValue)"
        let fd = try FileSystem.createExclusive(temporary, mode: 0o640)
        do throws(SpoolError) {
            defer { close(fd) }
            try FileSystem.writeAll(fd, document, path: temporary)
            try FileSystem.sync(fd, path: temporary)
        } catch {
            FileSystem.remove(temporary)
            throw error
        }
        defer { FileSystem.remove(temporary) }
        _ = try FileSystem.linkUnlessExists(temporary, target)
        FileSystem.remove(temporary)
        if syncDirectory { try FileSystem.syncDirectory(new) }
        return SpoolFile(name: name, path: target)
    }

    /// Makes every link into `new/` so far durable (`fsync` of the directory).
    public func syncNew() throws(SpoolError) { try FileSystem.syncDirectory(new) }

    /// Whether `name` was delivered: in `new/`, or taken by a consumer into
    /// `cur/` (also with a Maildir info suffix, `name:2,S`).
    public func isDelivered(_ name: String) throws(SpoolError) -> Bool {
        if FileSystem.exists(new + "/" + name) || FileSystem.exists(cur + "/" + name) { return true }
        return try FileSystem.list(cur).contains { $0.hasPrefix(name + ":") }
    }

    /// Files in `new/` that no consumer has taken yet.
    public func backlog() throws(SpoolError) -> Int {
        try FileSystem.list(new).filter { !$0.hasPrefix(".") }.count
    }

    /// Removes files in `tmp/` older than `seconds`, and those of dead processes
    /// of this machine whatever their age; returns how many.
    @discardableResult
    public func cleanTemporaryFiles(olderThan seconds: TimeInterval) throws(SpoolError) -> Int {
        let now = Date().timeIntervalSince1970
        var removed = 0
        for name in try FileSystem.list(tmp) {
            let path = tmp + "/" + name
            if Self.writerIsDead(name) || (FileSystem.age(path, now: now).map { $0 >= seconds } ?? false) {
                FileSystem.remove(path)
                removed += 1
            }
        }
        return removed
    }

    /// `NAME.json.HOST.PID.SEQ` written by a process of this machine that no longer exists.
    private static func writerIsDead(_ temporaryName: String) -> Bool {
        let parts = temporaryName.split(separator: ".")
        guard parts.count >= 5, parts[parts.count - 3] == Substring(host), let pid = Int32(parts[parts.count - 2]) else { return false }
        return pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH
    }
}
