import ArgumentParser
import Config
import Fetch
import Foundation
import Parse
import Spool
import Store

/// The sysexits codes of SPEC section 2, in one place.
enum ExitStatus: Int32 {
    case success = 0
    case workFailed = 1
    case usage = 64
    case notAFeed = 65
    case unavailable = 69
    case ioError = 74
    case configError = 78
}

/// A failure the executable reports: one line on stderr, then its exit code.
struct Failure: Error {
    var status: ExitStatus
    var message: String

    init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    /// Maps the modules' errors to exit codes; the only place that does.
    init(_ error: any Error) {
        switch error {
        case let f as Failure: self = f
        case let e as ConfigError: self.init(.configError, e.message)
        case let e as FetchError: self.init(.workFailed, e.message)
        case let e as StoreError:
            switch e {
            case .unavailable: self.init(.ioError, e.message)
            case .noSuchJob: self.init(.usage, e.message)
            case .failed: self.init(.ioError, e.message)
            }
        case let e as SpoolError: self.init(.ioError, e.message)
        case let e as ParseError:
            switch e {
            case .notAFeed: self.init(.notAFeed, e.message)
            case .tooLarge: self.init(.ioError, e.message)
            }
        default: self.init(.workFailed, String(describing: error))
        }
    }
}

enum Console {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data(("feedspool: " + line + "\n").utf8))
    }

    static func out(_ bytes: [UInt8]) {
        FileHandle.standardOutput.write(Data(bytes))
    }

    static func out(_ line: String) { out(Array((line + "\n").utf8)) }

    /// Prints the failure and exits with its code.
    static func exit(with failure: Failure) -> ExitCode {
        error(failure.message)
        return ExitCode(failure.status.rawValue)
    }
}

extension ParsableCommand {
    /// Runs `body`, turning any error into the SPEC's message line and exit code.
    func reportingFailures(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let e as ExitCode {
            throw e
        } catch {
            throw Console.exit(with: Failure(error))
        }
    }
}
