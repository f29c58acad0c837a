import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal HTTP/1.0 listener for `/metrics` and `/healthz`, on a Dispatch
/// read source. It answers GET requests of at most 8 KiB, one per connection,
/// within 2 s of connecting; anything else gets 404 or 400.
///
/// `@unchecked Sendable`: its state is touched only on `queue`.
final class HealthServer: @unchecked Sendable {
    struct Response: Sendable {
        var status: Int
        var contentType: String
        var body: [UInt8]
    }

    private let queue = DispatchQueue(label: "feedspool.metrics")
    private let listener: Int32
    private var source: DispatchSourceRead?
    private let handle: @Sendable (String) -> Response
    let port: Int

    /// Listens on `host:port` (IPv4, or IPv6 in brackets); throws a message on failure.
    init(listen: String, handle: @escaping @Sendable (String) -> Response) throws {
        self.handle = handle
        guard let colon = listen.lastIndex(of: ":"), let port = UInt16(listen[listen.index(after: colon)...]) else {
            throw HealthServerError(message: "metrics.listen: not host:port: \(listen)")
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &info) == 0, let ai = info else {
            throw HealthServerError(message: "metrics.listen: cannot resolve \(host)")
        }
        defer { freeaddrinfo(info) }
        let fd = socket(ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        guard fd >= 0, bind(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0, Glibc.listen(fd, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            if fd >= 0 { close(fd) }
            throw HealthServerError(message: "metrics.listen: cannot listen on \(listen): \(reason)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.port = Int(withUnsafePointer(to: &bound) { p -> UInt16 in
            p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        })
        listener = fd
        let s = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        s.setEventHandler { [weak self] in self?.acceptAll() }
        s.setCancelHandler { close(fd) }
        source = s
        s.resume()
    }

    func stop() { queue.sync { source?.cancel(); source = nil } }

    private func acceptAll() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            serve(client)
        }
    }

    /// How long one client may take to send its request line, in all.
    static let requestTimeout = 2.0

    private func serve(_ client: Int32) {
        defer { close(client) }
        _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) & ~O_NONBLOCK)
        func setTimeout(_ option: Int32, _ seconds: Double) {
            var t = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1e6))
            setsockopt(client, SOL_SOCKET, option, &t, socklen_t(MemoryLayout<timeval>.size))
        }
        setTimeout(SO_SNDTIMEO, Self.requestTimeout)
        // One deadline for the whole request line: a timeout per read let a client
        // that sends a byte now and then hold the (one-at-a-time) server for hours.
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(Self.requestTimeout * 1e9)
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while request.count < 8192, !request.contains(0x0A) {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { return }
            setTimeout(SO_RCVTIMEO, max(0.001, Double(deadline - now) / 1e9))
            let n = read(client, &buffer, buffer.count)
            if n <= 0 { return }
            request.append(contentsOf: buffer[0..<n])
        }
        let line = String(decoding: request.prefix { $0 != 0x0D && $0 != 0x0A }, as: UTF8.self)
        let parts = line.split(separator: " ")
        let response: Response
        if parts.count >= 2, parts[0] == "GET" {
            response = handle(String(parts[1].split(separator: "?").first ?? ""))
        } else {
            response = Response(status: 400, contentType: "text/plain", body: Array("bad request\n".utf8))
        }
        let reason = [200: "OK", 404: "Not Found", 400: "Bad Request", 503: "Service Unavailable"][response.status] ?? "Status"
        var out = Array("HTTP/1.0 \(response.status) \(reason)\r\nContent-Type: \(response.contentType)\r\nContent-Length: \(response.body.count)\r\nConnection: close\r\n\r\n".utf8)
        out += response.body
        var sent = 0
        while sent < out.count {
            let n = out[sent...].withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            sent += n
        }
    }
}

struct HealthServerError: Error {
    let message: String
}
