/// Why a spool operation failed, with what to do about it.
public enum SpoolError: Error, Sendable, Hashable {
    /// The file system is full (ENOSPC, EDQUOT): nothing was delivered; retry once there is space.
    case noSpace(path: String)
    /// The spool folder is missing or not writable by this user.
    case notWritable(path: String, reason: String)
    /// Any other system call failure.
    case io(path: String, operation: String, errno: Int32)

    public var message: String {
        switch self {
        case .noSpace(let p): return "\(p): no space left on the device; the item stays queued and is delivered once there is space"
        case .notWritable(let p, let r): return "\(p): the spool is not writable (\(r)); check that the folder exists and belongs to the daemon's user"
        case .io(let p, let op, let e): return "\(p): \(op) failed: \(String(cString: strerror(e)))"
        }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
