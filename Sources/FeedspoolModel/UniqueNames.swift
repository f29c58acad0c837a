/// Names made unique by a number: the first `x` stays `x`, later ones become
/// `x#2`, `x#3`… (with the separator given). Each base name counts on from the
/// number it last gave, so n repeats cost n steps, not n²/2 (counting from 2 every
/// time made 20,000 identical feed items take 95 s, and 40,000 feeds of one site
/// take seconds to import). A name already taken by something else is skipped.
public struct UniqueNames: Sendable {
    private var taken: Set<String>
    private var next: [String: Int] = [:]
    private let separator: String

    public init(separator: String, taken: Set<String> = []) {
        self.separator = separator
        self.taken = taken
    }

    /// Room for `count` more names without growing the set on the way.
    public mutating func reserveCapacity(_ count: Int) { taken.reserveCapacity(taken.count + count) }

    /// `base` if it is free, else `base`, the separator and the lowest free number
    /// after the last one `base` got (2 at first). The result is taken from then on.
    public mutating func claim(_ base: String) -> String {
        if taken.insert(base).inserted { return base }
        var n = next[base] ?? 2
        while !taken.insert(base + separator + String(n)).inserted { n += 1 }
        next[base] = n + 1
        return base + separator + String(n)
    }
}
