import Foundation

/// What the deduplicator decided about an item (the `dedup` object of SPEC section 4).
public struct DedupRecord: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Codable {
        case original, duplicate
    }

    public enum Method: String, Sendable, Codable, CaseIterable {
        case guid, url
        case contentHash = "content-hash"
        case nearDuplicate = "near-duplicate"
    }

    public var status: Status
    /// The item id of the first copy seen.
    public var cluster: String
    /// For a duplicate, the delivered item it copies.
    public var duplicateOf: String?
    /// In [0, 1], for a duplicate.
    public var similarity: Double?
    public var method: Method?

    public init(status: Status, cluster: String, duplicateOf: String? = nil, similarity: Double? = nil, method: Method? = nil) {
        self.status = status
        self.cluster = cluster
        self.duplicateOf = duplicateOf
        self.similarity = similarity
        self.method = method
    }

    /// As stored: compact JSON.
    public var json: String {
        (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public static func decode(_ json: String?) -> DedupRecord? {
        json.flatMap { try? JSONDecoder().decode(DedupRecord.self, from: Data($0.utf8)) }
    }

    /// An item that is its own cluster's original.
    public static func original(_ itemID: String) -> DedupRecord { DedupRecord(status: .original, cluster: itemID) }
}

/// The feed an item came from, as item files name it.
public struct FeedRef: Sendable, Hashable, Codable {
    public var id: String
    public var url: String
    public var title: String?

    public init(id: String, url: String, title: String? = nil) {
        self.id = id
        self.url = url
        self.title = title
    }
}
