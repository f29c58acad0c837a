import Foundation

/// The strings of one item (its id, key, guid, link, title, summary, content,
/// content text, author and category names) as UTF-8 in one heap block.
///
/// As separate `String`s an item held eight heap objects, made on the parser's
/// finishing thread and released wherever the item is dropped, long after the
/// cache forgot them: freeing the 50,000 items of a large document took about
/// 50 ms, a fifth of parsing it. One block per item takes a fifth of that.
///
/// Immutable once made; a change makes a new block (`replacing`). Reading a
/// field as a `String` copies it out; `withUTF8` reads it in place.
///
/// Items made one after another with an `ItemTextArena` (the parser's) share
/// blocks of 64 KiB: one allocation and one free for dozens of items, where a
/// block each cost a malloc and a free per item (dropping the 50,000 items of
/// the benchmark's RSS file took 12.7-13.8 ms, most of it in glibc's free; with
/// shared blocks, 5.4-6.6 ms). A block lives while any item in it does: an item
/// kept alone keeps its neighbours' texts in memory too (at most 64 KiB).
///
/// @unchecked Sendable: an item's part of a block is written once, in `init`,
/// before anything else can see it, and only read after (ManagedBuffer itself is
/// not Sendable).
struct ItemTexts: @unchecked Sendable {
    /// The single texts, in storage order.
    typealias Slot = Item.TextField
    typealias List = Item.TextList

    struct Header {
        /// Bit n set: slot n holds a text (unset: nil).
        var present: UInt8
        var authors: UInt32
        var categories: UInt32
        var byteCount: UInt32
        var slotCount: Int { Slot.allCases.count + Int(authors) + Int(categories) }
    }

    /// Memory for the texts of one item or of several made one after another:
    /// 8-byte words (`capacity` of them). At an item's offset: its `Header`, one
    /// UInt32 end offset per slot (singles, then authors, then categories), then
    /// the UTF-8 bytes of them all, back to back.
    final class Block: ManagedBuffer<Void, UInt64> {}

    private let block: Block
    /// Where this item's header is in `block`, in bytes (a multiple of 8).
    private let offset: Int

    /// Bytes an item's texts take in a block: header, ends, bytes, rounded up to 8.
    static func footprint(slots: Int, bytes: Int) -> Int {
        (MemoryLayout<Header>.stride + 4 * slots + bytes + 7) & ~7
    }

    /// More than this many bytes in one item cannot be stored (offsets are 32 bits);
    /// the parser's size limit keeps items far below it.
    static let maxBytes = Int(UInt32.max)

    /// The texts in `Slot` order, then the names of the lists.
    init(
        _ id: String, _ key: String, _ guid: String?, _ url: String?, _ title: String?, _ summary: String?,
        _ contentHTML: String?, _ contentText: String?, authors: [String], categories: [String]
    ) {
        self.init(
            .string(id), .string(key), guid.map(Item.Text.string), url.map(Item.Text.string), title.map(Item.Text.string),
            summary.map(Item.Text.string), contentHTML.map(Item.Text.string), contentText.map(Item.Text.string),
            authors: authors, categories: categories)
    }

    /// The texts in `Slot` order, each a String or bytes that are valid UTF-8
    /// (the caller checked them: see `Item.Text`), then the names of the lists;
    /// in a block of their own, or where `arena` has room.
    init(
        _ id: Item.Text, _ key: Item.Text, _ guid: Item.Text?, _ url: Item.Text?, _ title: Item.Text?, _ summary: Item.Text?,
        _ contentHTML: Item.Text?, _ contentText: Item.Text?, authors: [String], categories: [String],
        arena: UnsafeMutablePointer<ItemTextArena>? = nil
    ) {
        var byteCount = id.count + key.count + (guid?.count ?? 0) + (url?.count ?? 0)
        byteCount += (title?.count ?? 0) + (summary?.count ?? 0)
        byteCount += (contentHTML?.count ?? 0) + (contentText?.count ?? 0)
        for a in authors { byteCount += a.utf8.count }
        for c in categories { byteCount += c.utf8.count }
        precondition(byteCount <= Self.maxBytes, "an item's texts exceed 4 GiB")
        var present: UInt8 = 0b11  // id and key are never nil
        if guid != nil { present |= 1 << 2 }
        if url != nil { present |= 1 << 3 }
        if title != nil { present |= 1 << 4 }
        if summary != nil { present |= 1 << 5 }
        if contentHTML != nil { present |= 1 << 6 }
        if contentText != nil { present |= 1 << 7 }
        let header = Header(
            present: present, authors: UInt32(authors.count), categories: UInt32(categories.count), byteCount: UInt32(byteCount))
        let slots = header.slotCount
        let size = Self.footprint(slots: slots, bytes: byteCount)
        (block, offset) = arena?.pointee.room(size) ?? (ItemTextArena.block(bytes: size), 0)
        block.withUnsafeMutablePointerToElements { words in
            let at = UnsafeMutableRawPointer(words) + offset
            at.initializeMemory(as: Header.self, to: header)
            let tail = (at + MemoryLayout<Header>.stride).bindMemory(to: UInt32.self, capacity: slots)
            var w = Writer(ends: tail, bytes: UnsafeMutableRawPointer(tail + slots).bindMemory(to: UInt8.self, capacity: byteCount))
            w.put(id); w.put(key); w.put(guid); w.put(url)
            w.put(title); w.put(summary); w.put(contentHTML); w.put(contentText)
            for a in authors { w.put(.string(a)) }
            for c in categories { w.put(.string(c)) }
        }
    }

    /// Fills a new block: each text's bytes, and its end in the table.
    private struct Writer {
        let ends: UnsafeMutablePointer<UInt32>
        let bytes: UnsafeMutablePointer<UInt8>
        var slot = 0
        var end = 0

        init(ends: UnsafeMutablePointer<UInt32>, bytes: UnsafeMutablePointer<UInt8>) {
            self.ends = ends
            self.bytes = bytes
        }

        mutating func put(_ text: Item.Text?) {
            switch text {
            case .utf8(let b)?:
                if let base = b.baseAddress { (bytes + end).update(from: base, count: b.count) }
                end += b.count
            case .string(let s)?:
                // Native strings are contiguous; anything else (bridged) is copied out first.
                let copied = s.utf8.withContiguousStorageIfAvailable { b in
                    if let base = b.baseAddress { (bytes + end).update(from: base, count: b.count) }
                    return b.count
                }
                if let copied {
                    end += copied
                } else {
                    for byte in s.utf8 { bytes[end] = byte; end += 1 }
                }
            case nil:
                break
            }
            ends[slot] = UInt32(end)
            slot += 1
        }
    }

    /// The slot's bytes, or nil when it holds no text.
    func withUTF8<R>(_ slot: Slot, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        try withParts { header, tail in
            guard header.pointee.present & (1 << UInt8(slot.rawValue)) != 0 else { return nil }
            return try body(Self.bytes(of: slot.rawValue, header, tail))
        }
    }

    /// This item's header and ends in its block.
    private func withParts<R>(
        _ body: (UnsafeMutablePointer<Header>, UnsafeMutablePointer<UInt32>) throws -> R
    ) rethrows -> R {
        try block.withUnsafeMutablePointerToElements { words in
            let at = UnsafeMutableRawPointer(words) + offset
            let header = at.assumingMemoryBound(to: Header.self)
            let tail = (at + MemoryLayout<Header>.stride).assumingMemoryBound(to: UInt32.self)
            return try body(header, tail)
        }
    }

    func string(_ slot: Slot) -> String? {
        withUTF8(slot) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the bytes of each name of the list, in order.
    func forEachUTF8(_ list: List, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) rethrows {
        try withParts { header, tail in
            let singles = Slot.allCases.count
            let authors = Int(header.pointee.authors)
            let range = list == .authors ? singles..<(singles + authors)
                : (singles + authors)..<header.pointee.slotCount
            for i in range { try body(Self.bytes(of: i, header, tail)) }
        }
    }

    func strings(_ list: List) -> [String] {
        var out: [String] = []
        forEachUTF8(list) { out.append(String(decoding: $0, as: UTF8.self)) }
        return out
    }

    private static func bytes(
        of slot: Int, _ header: UnsafeMutablePointer<Header>, _ tail: UnsafeMutablePointer<UInt32>
    ) -> UnsafeBufferPointer<UInt8> {
        let start = slot == 0 ? 0 : Int(tail[slot - 1])
        let base = UnsafeRawPointer(tail + header.pointee.slotCount).assumingMemoryBound(to: UInt8.self)
        return UnsafeBufferPointer(start: base + start, count: Int(tail[slot]) - start)
    }

    // MARK: changes: each makes a new block

    /// A new block with the given texts in place of these; `nil` keeps a text as it is.
    func replacing(
        _ changes: [Slot: String?] = [:], authors: [String]? = nil, categories: [String]? = nil
    ) -> ItemTexts {
        func text(_ slot: Slot) -> String? { changes[slot] ?? string(slot) }
        return ItemTexts(
            text(.id) ?? "", text(.key) ?? "", text(.guid), text(.url), text(.title), text(.summary), text(.contentHTML),
            text(.contentText), authors: authors ?? strings(.authors), categories: categories ?? strings(.categories))
    }
}

extension ItemTexts: Hashable {
    /// Equal when every text is: the layout follows from the texts alone.
    static func == (a: ItemTexts, b: ItemTexts) -> Bool {
        if a.block === b.block && a.offset == b.offset { return true }
        return a.withParts { ha, ta in
            b.withParts { hb, tb in
                let x = ha.pointee, y = hb.pointee
                guard x.present == y.present, x.authors == y.authors, x.categories == y.categories,
                    x.byteCount == y.byteCount
                else { return false }
                let length = x.slotCount * 4 + Int(x.byteCount)
                return memcmp(ta, tb, length) == 0
            }
        }
    }

    func hash(into hasher: inout Hasher) {
        withParts { header, tail in
            let h = header.pointee
            hasher.combine(h.present)
            hasher.combine(h.authors)
            hasher.combine(h.categories)
            hasher.combine(bytes: UnsafeRawBufferPointer(start: tail, count: h.slotCount * 4 + Int(h.byteCount)))
        }
    }
}

/// Room for item texts in shared blocks (see `ItemTexts`), handed out in order
/// to the items one thread makes: the parser keeps one per finishing thread.
/// An item larger than a quarter of a block gets a block of its own.
public struct ItemTextArena: ~Copyable {
    /// The block being filled (`blockBytes` long) and how much of it is handed out.
    private var block: ItemTexts.Block?
    private var used = 0
    static let blockBytes = 64 << 10

    public init() {}

    /// A block and the offset in it of `size` bytes (a multiple of 8) for one item.
    mutating func room(_ size: Int) -> (ItemTexts.Block, Int) {
        if size > Self.blockBytes / 4 { return (Self.block(bytes: size), 0) }
        if let block, used + size <= Self.blockBytes {
            defer { used += size }
            return (block, used)
        }
        let fresh = Self.block(bytes: Self.blockBytes)
        block = fresh
        used = size
        return (fresh, 0)
    }

    /// A block of at least `bytes` bytes.
    static func block(bytes: Int) -> ItemTexts.Block {
        unsafeDowncast(ItemTexts.Block.create(minimumCapacity: (bytes + 7) / 8) { _ in }, to: ItemTexts.Block.self)
    }
}
