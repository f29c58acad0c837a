import Foundation

/// The built `feedspool` executable, run as a child process.
enum Binary {
    /// Beside the test bundle in the build folder (`swift build` puts every product there).
    static let url: URL = {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent().appendingPathComponent("feedspool")
    }()

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardizedFileURL

    /// `../shared` beside the checkout, where CI puts it; `nil` when absent.
    static let shared: URL? = {
        let u = repository.appendingPathComponent("../shared").standardizedFileURL
        return FileManager.default.fileExists(atPath: u.appendingPathComponent("corpus").path) ? u : nil
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String], stdin: Data? = nil, cwd: URL? = nil, environment: [String: String]? = nil) throws -> Result {
        let p = Process()
        p.executableURL = url
        p.arguments = arguments
        if let cwd { p.currentDirectoryURL = cwd }
        if let environment { p.environment = environment }
        let out = Pipe(), err = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        // Read both pipes to the end before waiting, so a large output cannot block the child.
        let collected = Collected()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            collected.data = out.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let outData = collected.data
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// Data read on another thread; the DispatchGroup's wait orders the write before the read.
private final class Collected: @unchecked Sendable {
    var data = Data()
}
