#if canImport(Glibc)
    import Glibc
#endif

/// The system calls the spool makes, wrapped once: each retries on EINTR and
/// turns errno into a `SpoolError` naming the path and the operation.
enum FileSystem {
    static func fail(_ path: String, _ operation: String) -> SpoolError {
        let e = errno
        if e == ENOSPC || e == EDQUOT { return .noSpace(path: path) }
        if e == EACCES || e == EPERM || e == EROFS { return .notWritable(path: path, reason: String(cString: strerror(e))) }
        return .io(path: path, operation: operation, errno: e)
    }

    /// Creates a new file that must not exist (`O_EXCL`), for writing.
    static func createExclusive(_ path: String, mode: mode_t) throws(SpoolError) -> Int32 {
        while true {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw fail(path, "open") }
        }
    }

    /// Writes every byte, however many `write(2)` calls it takes.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(SpoolError) {
        var failure: SpoolError?
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = fail(path, "write")
                    return
                }
                offset += n
            }
        }
        if let failure { throw failure }
    }

    static func sync(_ fd: Int32, path: String) throws(SpoolError) {
        while fsync(fd) != 0 {
            if errno != EINTR { throw fail(path, "fsync") }
        }
    }

    /// fsync of a directory, so that a link or unlink in it is on disk.
    static func syncDirectory(_ path: String) throws(SpoolError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw fail(path, "open directory") }
        defer { close(fd) }
        try sync(fd, path: path)
    }

    /// `link(2)`: false when `to` exists already (never overwritten).
    static func linkUnlessExists(_ from: String, _ to: String) throws(SpoolError) -> Bool {
        if link(from, to) == 0 { return true }
        if errno == EEXIST { return false }
        throw fail(to, "link")
    }

    static func remove(_ path: String) { _ = unlink(path) }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    static func makeDirectory(_ path: String, mode: mode_t) throws(SpoolError) {
        if mkdir(path, mode) == 0 || errno == EEXIST { return }
        throw fail(path, "mkdir")
    }

    /// Names in a directory (not `.` and `..`).
    static func list(_ path: String) throws(SpoolError) -> [String] {
        guard let dir = opendir(path) else { throw fail(path, "opendir") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Seconds since the file was last modified; nil if it is gone.
    static func age(_ path: String, now: Double) -> Double? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return now - (Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
    }
}
