import Content

/// Element text that the repair step hands past libxml2.
///
/// A CDATA section inside an element, and a run of element text with references
/// (which the repair step decodes), is text that needs no parsing: libxml2 would
/// only check its bytes again and copy them through its buffers, and on a feed of
/// stories in CDATA that was half of its time. So `XMLRepair` writes such a text
/// here and puts a marker in its place: a processing instruction whose target is
/// `_` and whose data is the text's number (`<?_ 12?>`). When libxml2 reports the
/// marker, `XMLStreamParser` hands the text numbered there to its delegate as
/// element text, where the section's characters would have come.
///
/// The number makes a text that was never reported (libxml2 stopped before its
/// marker) no reason for the next marker to get the wrong text: texts before the
/// one reported are skipped. A source document's own `<?_ …?>` is renamed by the
/// repair step (`<?__ …?>`), so every marker libxml2 reports is one of ours.
///
/// Shared by the repair step, which writes between pushes, and the stream
/// parser, which reads during them: one parse, one thread at a time. So its
/// properties are not checked for exclusive access at run time (two checks a
/// text, which cost more than the rest of `close` and `take`).
final class SetAsideText {
    /// The texts, back to back, then the one the repair step is writing.
    @exclusivity(unchecked) var bytes = ByteSink(capacity: 1 << 16)
    /// Where each closed text ends in `bytes`; the first is number `firstNumber`.
    @exclusivity(unchecked) private var ends: [Int] = []
    @exclusivity(unchecked) private var firstNumber = 0
    /// How many of `ends` were taken or skipped (they are taken in order).
    @exclusivity(unchecked) private var taken = 0

    /// Closes the text written since the last close and returns its number.
    func close() -> Int {
        ends.append(bytes.count)
        return firstNumber + ends.count - 1
    }

    /// The text with this number, valid until the next call on this store; nil
    /// for a number it does not hold (never one of ours, or taken already).
    func take(_ number: Int) -> UnsafeBufferPointer<UInt8>? {
        let index = number - firstNumber
        guard index >= taken, index < ends.count else { return nil }
        let start = index == 0 ? 0 : ends[index - 1]
        taken = index + 1
        return UnsafeBufferPointer(rebasing: bytes.bytes[start..<ends[index]])
    }

    /// Drops the bytes of the texts taken (after each push: libxml2 has taken all
    /// but the last few, whose markers it has not read yet).
    func dropTaken() {
        guard taken > 0 else { return }
        let start = ends[taken - 1]
        bytes.removeFirst(start)
        for k in taken..<ends.count { ends[k - taken] = ends[k] - start }
        ends.removeLast(taken)
        firstNumber += taken
        taken = 0
    }

    /// Forgets every text: libxml2 stopped, and no marker will be reported any more.
    func discard() {
        firstNumber += ends.count
        ends.removeAll(keepingCapacity: true)
        taken = 0
        bytes.removeAll()
    }

    /// Texts closed and not taken (for tests).
    var waiting: Int { ends.count - taken }
}
