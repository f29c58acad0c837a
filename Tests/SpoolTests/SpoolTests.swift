import FeedspoolModel
import Foundation
import Spool
import Testing

#if canImport(Glibc)
    import Glibc
#endif

private func temporaryFolder() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("feedspool-spool-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

private func names(_ dir: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
}

@Suite struct SpoolTests {
    @Test func deliversWholeFilesIntoNew() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let spool = try Spool(root: root)
        let name = Spool.fileName(itemID: String(repeating: "a", count: 32), at: Date(timeIntervalSince1970: 1_691_575_200.123))
        #expect(name == "1691575200123-" + String(repeating: "a", count: 32) + ".json")
        let doc = Array("{\"x\":1}\n".utf8)
        let file = try spool.deliver(doc, name: name)
        #expect(file.path == root + "/new/" + name)
        #expect(try Data(contentsOf: URL(fileURLWithPath: file.path)) == Data(doc))
        #expect(names(root + "/tmp").isEmpty)
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o640)
        #expect(try spool.backlog() == 1)
        #expect(try spool.isDelivered(name))
    }

    @Test func neverOverwritesADeliveredFile() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let spool = try Spool(root: root)
        try spool.deliver(Array("first".utf8), name: "1-a.json")
        try spool.deliver(Array("second".utf8), name: "1-a.json")
        #expect(try String(contentsOfFile: root + "/new/1-a.json", encoding: .utf8) == "first")
        #expect(names(root + "/tmp").isEmpty)
    }

    @Test func aFileTakenIntoCurCountsAsDelivered() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let spool = try Spool(root: root)
        try spool.deliver(Array("x".utf8), name: "1-a.json")
        try spool.deliver(Array("x".utf8), name: "2-b.json")
        try FileManager.default.moveItem(atPath: root + "/new/1-a.json", toPath: root + "/cur/1-a.json")
        try FileManager.default.moveItem(atPath: root + "/new/2-b.json", toPath: root + "/cur/2-b.json:2,S")
        #expect(try spool.isDelivered("1-a.json"))
        #expect(try spool.isDelivered("2-b.json"))
        #expect(try !spool.isDelivered("3-c.json"))
        #expect(try spool.backlog() == 0)
    }

    @Test func aDeadWritersTemporaryFilesAreRemovedAtStartWhateverTheirAge() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try Spool(root: root)
        let host = String(ProcessInfo.processInfo.hostName.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()  // a pid that certainly existed and is gone now
        let dead = root + "/tmp/1-a.json.\(host).\(child.processIdentifier).1"
        let alive = root + "/tmp/2-b.json.\(host).\(getpid()).1"
        let elsewhere = root + "/tmp/3-c.json.otherhost.\(child.processIdentifier).1"
        for p in [dead, alive, elsewhere] { FileManager.default.createFile(atPath: p, contents: Data("partial".utf8)) }
        _ = try Spool(root: root)
        #expect(names(root + "/tmp") == ["2-b.json.\(host).\(getpid()).1", "3-c.json.otherhost.\(child.processIdentifier).1"])
    }

    @Test func staleTemporaryFilesAreRemovedAtStart() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try Spool(root: root)
        let old = root + "/tmp/1-a.json.999.1", fresh = root + "/tmp/2-b.json.999.2"
        FileManager.default.createFile(atPath: old, contents: Data("partial".utf8))
        FileManager.default.createFile(atPath: fresh, contents: Data("being written".utf8))
        var times = [timeval(tv_sec: 1_000_000, tv_usec: 0), timeval(tv_sec: 1_000_000, tv_usec: 0)]
        #expect(utimes(old, &times) == 0)
        _ = try Spool(root: root, staleAfter: 3600)
        #expect(names(root + "/tmp") == ["2-b.json.999.2"])
    }

    @Test func manyThreadsDeliverAtOnce() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let spool = try Spool(root: root)
        DispatchQueue.concurrentPerform(iterations: 400) { i in
            _ = try? spool.deliver(Array("{\"n\":\(i)}".utf8), name: "\(i)-x.json")
        }
        #expect(names(root + "/new").count == 400)
        #expect(names(root + "/tmp").isEmpty)
    }

    @Test func aSpoolThatCannotBeCreatedSaysWhere() {
        #expect(throws: SpoolError.self) { try Spool(root: "/proc/feedspool-cannot-be-here") }
        do { _ = try Spool(root: "/proc/feedspool-cannot-be-here") } catch {
            #expect(error.message.hasPrefix("/proc/feedspool-cannot-be-here"))
        }
    }

    /// A real full disk: a 64 KiB tmpfs. Needs root (CI runs as root); skipped otherwise.
    @Test(.enabled(if: geteuid() == 0, "mounting a tmpfs needs root"))
    func aFullDiskFailsCleanlyAndDeliversOnceThereIsSpace() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=64k", "feedspool-test", root]
        try mount.run()
        mount.waitUntilExit()
        try #require(mount.terminationStatus == 0, "mount -t tmpfs failed")
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [root]
            try? umount.run()
            umount.waitUntilExit()
        }
        let spool = try Spool(root: root)
        let big = [UInt8](repeating: 0x61, count: 200 << 10)
        do {
            try spool.deliver(big, name: "1-big.json")
            Issue.record("a 200 KiB file fitted in a 64 KiB file system")
        } catch {
            guard case .noSpace = error else { Issue.record("expected noSpace, got \(error)"); return }
        }
        #expect(names(root + "/new").isEmpty)
        #expect(names(root + "/tmp").isEmpty)
        let small = Array("{\"ok\":true}\n".utf8)
        try spool.deliver(small, name: "2-small.json")
        #expect(names(root + "/new") == ["2-small.json"])
    }
}

@Suite struct ItemDocumentTests {
    @Test func writesEveryFieldInTheSpecsOrder() throws {
        var item = Item(id: String(repeating: "9", count: 32), guid: "https://b.example/?p=1", url: "https://b.example/x",
                        title: "T", authors: ["David Wyatt"], published: Date(timeIntervalSince1970: 1_691_575_200),
                        summary: "s", contentHTML: "<p>c</p>", contentText: "c", language: "en", categories: ["World"],
                        enclosures: [Enclosure(url: "https://b.example/a.mp3", type: "audio/mpeg", length: 123)],
                        source: ItemSource(name: "Racurs", url: nil, evidence: .text))
        item.key = "guid:https://b.example/?p=1"
        let bytes = ItemDocument.json(
            item: item, feed: FeedRef(id: "bunatimes", url: "https://b.example/feed", title: "Buna Times"),
            fetched: Date(timeIntervalSince1970: 1_691_575_512), dedup: .original(item.id))
        let text = String(decoding: bytes, as: UTF8.self)
        let order = ["schema", "id", "feed", "guid", "url", "title", "authors", "published", "updated", "fetched", "summary",
                     "content_html", "content_text", "language", "categories", "enclosures", "source", "dedup"]
        var last = text.startIndex
        for key in order {  // each key is found after the one before it
            let r = try #require(text.range(of: "\"\(key)\":", range: last..<text.endIndex), "\(key) missing or out of order")
            last = r.upperBound
        }
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(obj["schema"] as? String == "feedspool.item/1")
        #expect(obj["fetched"] as? String == "2023-08-09T10:05:12Z")
        #expect(obj["updated"] is NSNull)
        let dedup = try #require(obj["dedup"] as? [String: Any])
        #expect(dedup["status"] as? String == "original" && dedup["cluster"] as? String == item.id)
        #expect(dedup["duplicate_of"] is NSNull && dedup["method"] is NSNull)
        #expect((obj["feed"] as? [String: Any])?["title"] as? String == "Buna Times")
        #expect(bytes.last == 0x0A)
    }
}
