/// How an item is identified across fetches, and its SPEC id.
public enum ItemKey {
    /// The item id of SPEC section 4: 32 hex digits of SHA-256 over the feed id and the key.
    public static func itemID(feedID: String, key: String) -> String {
        var h = SHA256()
        h.update(feedID)
        h.update(byte: 0)
        h.update(key)
        return h.finalizeHex(bytes: 16)
    }

    /// Calls `body` with the item id's 32 bytes (as `itemID` spells them), from
    /// the stack: for an id copied into an item at once (a String of it was an
    /// allocation and a free per item).
    public static func withItemID<R>(feedID: String, key: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        var h = SHA256()
        h.update(feedID)
        h.update(byte: 0)
        h.update(key)
        var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        return try withUnsafeMutableBytes(of: &digits) { raw in
            let out = raw.bindMemory(to: UInt8.self)
            h.finalizeHex(into: out)
            return try body(UnsafeBufferPointer(out))
        }
    }
}
