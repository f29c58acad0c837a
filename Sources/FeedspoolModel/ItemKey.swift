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
}
