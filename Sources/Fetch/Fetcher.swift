import Synchronization
import CCurl
import CCurlShim
import Foundation

/// Fetches many feeds at once through one libcurl multi handle driven by
/// Dispatch: no thread per transfer and no polling loop.
///
/// ```swift
/// let fetcher = Fetcher(settings: settings)
/// fetcher.fetch(FetchRequest(url: "https://example.org/feed.xml")) { result in … }
/// ```
///
/// Results arrive on the queue the caller names, never on the curl queue, so
/// parsing never delays the network. Call `shutdown()` before the last
/// reference goes: it cancels what is in flight and frees the curl handles.
public final class Fetcher: Sendable {
    private let engine: TransferEngine

    /// libcurl's global set-up, once per process, before any other curl call.
    private static let globalInit: Void = {
        // As swift-corelibs-foundation does: keep OpenSSL's atexit handler from
        // racing handle cleanup on Dispatch threads at process exit.
        // glibc's RTLD_DEFAULT is NULL: search everything already loaded (libcurl's libcrypto).
        if let symbol = dlsym(nil, "OPENSSL_init_crypto") {
            typealias Init = @convention(c) (UInt64, UnsafeRawPointer?) -> Int32
            _ = unsafeBitCast(symbol, to: Init.self)(0x0008_0000, nil)  // OPENSSL_INIT_NO_ATEXIT
        }
        curl_global_init(Int(CURL_GLOBAL_ALL))
        // Bodies are allocated on the curl queue and freed wherever their consumer
        // runs: with glibc's defaults that memory went back to the kernel and was
        // faulted in again for the next bodies (fetch-bench: 60,000 faults per
        // 10,000 feeds). The process keeps it (`ProcessMemory.keepFreedMemory`,
        // which `feedspool` and the benchmarks set at their start).
    }()

    public init(settings: FetchSettings = FetchSettings()) {
        Fetcher.globalInit
        engine = TransferEngine(settings: settings)
    }

    /// Fetches `request`; `completion` runs on `queue` with the response or the reason it failed.
    public func fetch(
        _ request: FetchRequest, on queue: DispatchQueue = .global(),
        completion: @escaping @Sendable (Result<FetchResponse, FetchError>) -> Void
    ) {
        engine.submit(request, callbackQueue: queue, completion: completion)
    }

    /// Fetches all `requests` and waits for every result, in the order given.
    public func fetchAll(_ requests: [FetchRequest]) -> [Result<FetchResponse, FetchError>] {
        let results = ResultList(count: requests.count)
        let group = DispatchGroup()
        for (i, r) in requests.enumerated() {
            group.enter()
            fetch(r) { result in
                results.set(i, result)
                group.leave()
            }
        }
        group.wait()
        return results.all
    }

    /// How many times the sockets' Dispatch source has fired so far.
    var socketTurns: Int { engine.queue.sync { engine.readyTurns } }

    /// Cancels everything waiting or in flight (their completions get `.cancelled`) and frees libcurl's handles.
    public func shutdown() { engine.shutdown() }
}

/// Results filled from many threads, read once all are in.
private final class ResultList: Sendable {
    private let storage: Mutex<[Result<FetchResponse, FetchError>?]>

    init(count: Int) { storage = Mutex(Array(repeating: nil, count: count)) }

    func set(_ i: Int, _ r: Result<FetchResponse, FetchError>) { storage.withLock { $0[i] = r } }

    var all: [Result<FetchResponse, FetchError>] { storage.withLock { $0.map { $0! } } }
}
