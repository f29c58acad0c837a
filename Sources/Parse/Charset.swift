import Content
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A character encoding feedspool can read, from a label in an HTTP header or an XML declaration.
enum Charset: Equatable {
    case utf8
    /// windows-1252, also for the iso-8859-1 and us-ascii labels (as browsers do).
    case windows1252
    /// Anything else, converted with iconv under this name.
    case iconv(String)

    /// The charset a label names, or `nil` when iconv does not know it either.
    init?(label raw: String) {
        let label = raw.trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'")).lowercased()
        switch label {
        case "utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8": self = .utf8
        case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "ansi_x3.4-1968",
            "windows-1252", "cp1252", "x-cp1252", "iso_8859-1", "cp819", "ibm819":
            self = .windows1252
        case "gb2312", "gbk", "x-gbk", "gb18030", "gb_2312-80", "chinese", "csgb2312", "euc-cn": self = .iconv("GB18030")
        case "shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "windows-31j", "cp932", "csshiftjis": self = .iconv("CP932")
        case "euc-kr", "ks_c_5601-1987", "windows-949", "cp949", "ksc5601", "uhc": self = .iconv("UHC")
        case "big5", "big5-hkscs", "cn-big5", "x-x-big5", "csbig5": self = .iconv("BIG5-HKSCS")
        case "euc-jp", "x-euc-jp", "cseucpkdfmtjapanese": self = .iconv("EUC-JP")
        case "utf-16": self = .iconv("UTF-16")
        case "utf-16le": self = .iconv("UTF-16LE")
        case "utf-16be": self = .iconv("UTF-16BE")
        case "utf-32", "ucs-4": self = .iconv("UTF-32")
        case "utf-32le": self = .iconv("UTF-32LE")
        case "utf-32be": self = .iconv("UTF-32BE")
        case "": return nil
        default:
            let name = label.uppercased()
            guard name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), IconvConverter(from: name) != nil else { return nil }
            self = .iconv(name)
        }
    }

    var isUTF16or32: Bool {
        if case .iconv(let n) = self { return n.hasPrefix("UTF-16") || n.hasPrefix("UTF-32") }
        return false
    }
}

/// An iconv conversion to UTF-8 that replaces bytes it cannot read with U+FFFD.
///
/// Not thread safe: one parse owns it.
final class IconvConverter {
    private let cd: iconv_t

    init?(from name: String) {
        let cd = iconv_open("UTF-8", name)
        guard let cd, cd != iconv_t(bitPattern: -1) else { return nil }
        self.cd = cd
    }

    deinit { iconv_close(cd) }

    /// Converts `input`; returns how many bytes at its end were an incomplete
    /// sequence left for the next call (always 0 when `final`).
    func convert(_ input: UnsafeRawBufferPointer, into out: inout [UInt8], final: Bool) -> Int {
        guard let base = input.baseAddress else { return 0 }
        var inPtr = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: CChar.self))
        var inLeft = input.count
        var buffer = [CChar](repeating: 0, count: 16_384)
        while inLeft > 0 {
            let status: Int = buffer.withUnsafeMutableBufferPointer { ob in
                var outPtr: UnsafeMutablePointer<CChar>? = ob.baseAddress
                var outLeft = ob.count
                var inOpt: UnsafeMutablePointer<CChar>? = inPtr
                let r = iconv(cd, &inOpt, &inLeft, &outPtr, &outLeft)
                let e = errno
                inPtr = inOpt!
                let produced = ob.count - outLeft
                ob.baseAddress!.withMemoryRebound(to: UInt8.self, capacity: produced) {
                    out.append(contentsOf: UnsafeBufferPointer(start: $0, count: produced))
                }
                return r == -1 ? Int(e) : 0
            }
            if status == 0 || status == Int(E2BIG) { continue }
            if status == Int(EINVAL) && !final { return inLeft }  // incomplete sequence at the end
            // EILSEQ (or EINVAL at the very end): one replacement character, skip a byte.
            out.append(contentsOf: [0xEF, 0xBF, 0xBD])
            inPtr += 1
            inLeft -= 1
        }
        return 0
    }
}
