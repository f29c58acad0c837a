import CCurl
import CCurlShim
import Foundation

/// One easy handle and what its transfer has received so far.
///
/// Created, used and freed on the engine's queue only; never crosses threads.
final class Transfer {
    let request: FetchRequest
    let host: String
    let completion: @Sendable (Result<FetchResponse, FetchError>) -> Void
    let callbackQueue: DispatchQueue
    let handle: UnsafeMutableRawPointer
    private let maxBytes: Int
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var resolveList: UnsafeMutablePointer<curl_slist>?
    let errorBuffer: UnsafeMutablePointer<CChar>

    var body: [UInt8] = []
    var overLimit = false
    /// The address the policy refused, if it refused one.
    var refusedAddress: String?
    /// Statuses of every response on the way (redirect hops, then the final one).
    var statuses: [Int] = []
    var contentType: String?
    var etag: String?
    var lastModified: String?
    var cacheControl: String?
    var retryAfter: String?

    init?(
        request: FetchRequest, host: String, settings: FetchSettings, engine: UnsafeMutableRawPointer,
        callbackQueue: DispatchQueue, completion: @escaping @Sendable (Result<FetchResponse, FetchError>) -> Void
    ) {
        guard let handle = curl_easy_init() else { return nil }
        self.handle = handle
        self.request = request
        self.host = host
        self.completion = completion
        self.callbackQueue = callbackQueue
        self.maxBytes = settings.maxBytes
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        configure(settings: settings, engine: engine)
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(headerList)
        curl_slist_free_all(resolveList)
        errorBuffer.deallocate()
    }

    /// Every option, in one place. String options are copied by libcurl (since 7.17).
    private func configure(settings: FetchSettings, engine: UnsafeMutableRawPointer) {
        let me = Unmanaged.passUnretained(self).toOpaque()
        fs_easy_setopt_string(handle, CURLOPT_URL, request.url)
        fs_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        fs_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        // Redirects: followed, bounded, http(s) only whatever the first URL was.
        fs_easy_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 1)
        fs_easy_setopt_long(handle, CURLOPT_MAXREDIRS, settings.maxRedirects)
        fs_easy_setopt_string(handle, CURLOPT_PROTOCOLS_STR, settings.allowFileURLs ? "http,https,file" : "http,https")
        fs_easy_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        // Every encoding libcurl has (gzip, deflate, br, zstd), decoded on the fly.
        fs_easy_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, "")
        fs_easy_setopt_string(handle, CURLOPT_USERAGENT, settings.userAgent)
        // Never an environment proxy: behaviour must not depend on the unit's environment.
        fs_easy_setopt_string(handle, CURLOPT_PROXY, "")
        fs_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(settings.timeout * 1000))
        fs_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(min(settings.connectTimeout, settings.timeout) * 1000))
        fs_easy_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, settings.lowSpeedBytes)
        fs_easy_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, settings.lowSpeedSeconds)
        // Refused early when Content-Length says so; the write callback enforces it for the rest.
        fs_easy_setopt_off(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(settings.maxBytes))
        // No CURLOPT_PIPEWAIT: with it a second transfer to an HTTP/1 host waits for
        // the first connection to end instead of opening its own (measured here).

        var headers: UnsafeMutablePointer<curl_slist>?
        headers = curl_slist_append(headers, "Accept: application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5")
        if let etag = request.etag, !etag.isEmpty, !etag.utf8.contains(0x0A) { headers = curl_slist_append(headers, "If-None-Match: \(etag)") }
        if let lm = request.lastModified, !lm.isEmpty, !lm.utf8.contains(0x0A) { headers = curl_slist_append(headers, "If-Modified-Since: \(lm)") }
        headerList = headers
        fs_easy_setopt_pointer(handle, CURLOPT_HTTPHEADER, headers)
        if !settings.resolve.isEmpty {
            var list: UnsafeMutablePointer<curl_slist>?
            for entry in settings.resolve { list = curl_slist_append(list, entry) }
            resolveList = list
            fs_easy_setopt_pointer(handle, CURLOPT_RESOLVE, list)
        }

        fs_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, user in
            Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue().receive(data, size * count)
        }
        fs_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, me)
        fs_easy_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, user in
            Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue().header(data, size * count)
        }
        fs_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, me)
        fs_easy_setopt_opensocket(handle) { user, _, address in
            Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue().openSocket(address)
        }
        fs_easy_setopt_pointer(handle, CURLOPT_OPENSOCKETDATA, me)
        fs_easy_setopt_closesocket(handle) { user, socket in
            Unmanaged<TransferEngine>.fromOpaque(user!).takeUnretainedValue().closeSocket(socket)
            return 0
        }
        fs_easy_setopt_pointer(handle, CURLOPT_CLOSESOCKETDATA, engine)
        policy = settings.addresses
    }

    private var policy = AddressPolicy()

    /// curl's write callback: keeps the body, up to the limit (counted after decompression).
    private func receive(_ data: UnsafeMutablePointer<CChar>, _ n: Int) -> Int {
        if body.count + n > maxBytes {
            overLimit = true
            return 0  // aborts the transfer with CURLE_WRITE_ERROR
        }
        if body.capacity == 0 {
            // Room for the whole body at once when the server says its length (the
            // encoded length: a compressed body still grows as it is decoded).
            var length: curl_off_t = -1
            fs_easy_getinfo_off(handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length)
            body.reserveCapacity(length > n && length <= maxBytes ? Int(length) : n)
        }
        data.withMemoryRebound(to: UInt8.self, capacity: n) { body.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
        return n
    }

    /// curl's header callback: one line at a time, for every response on the way.
    private func header(_ data: UnsafeMutablePointer<CChar>, _ n: Int) -> Int {
        data.withMemoryRebound(to: UInt8.self, capacity: n) { p in
            var end = n
            while end > 0, p[end - 1] == 0x0A || p[end - 1] == 0x0D || p[end - 1] == 0x20 { end -= 1 }
            let line = UnsafeBufferPointer(start: p, count: end)
            if end > 5, p[0] == 0x48, p[1] == 0x54, p[2] == 0x54, p[3] == 0x50, p[4] == 0x2F {  // "HTTP/"
                var i = 5
                while i < end, p[i] != 0x20 { i += 1 }
                var status = 0
                i += 1
                while i < end, p[i] >= 0x30, p[i] <= 0x39 { status = status * 10 + Int(p[i] - 0x30); i += 1 }
                if status >= 200 {
                    statuses.append(status)
                    // A new response: forget the headers of the previous one.
                    contentType = nil; etag = nil; lastModified = nil; cacheControl = nil; retryAfter = nil
                }
                return
            }
            guard let colon = line.firstIndex(of: 0x3A) else { return }
            var v = colon + 1
            while v < end, p[v] == 0x20 || p[v] == 0x09 { v += 1 }
            let value = { String(decoding: UnsafeBufferPointer(rebasing: line[v..<end]), as: UTF8.self) }
            switch Self.headerName(UnsafeBufferPointer(rebasing: line[0..<colon])) {
            case .contentType: contentType = value()
            case .etag: etag = value()
            case .lastModified: lastModified = value()
            case .cacheControl: cacheControl = value()
            case .retryAfter: retryAfter = value()
            case nil: break
            }
        }
        return n
    }

    private enum HeaderName { case contentType, etag, lastModified, cacheControl, retryAfter }

    /// The headers feedspool reads, matched case-insensitively without making a String.
    private static func headerName(_ name: UnsafeBufferPointer<UInt8>) -> HeaderName? {
        func equals(_ s: StaticString) -> Bool {
            guard name.count == s.utf8CodeUnitCount else { return false }
            for i in 0..<name.count where name[i] | 0x20 != s.utf8Start[i] | 0x20 { return false }
            return true
        }
        switch name.count {
        case 4: return equals("etag") ? .etag : nil
        case 11: return equals("retry-after") ? .retryAfter : nil
        case 12: return equals("content-type") ? .contentType : nil
        case 13: return equals("last-modified") ? .lastModified : equals("cache-control") ? .cacheControl : nil
        default: return nil
        }
    }

    /// curl's open-socket callback: the address policy, for every new connection.
    private func openSocket(_ address: UnsafeMutablePointer<curl_sockaddr>) -> curl_socket_t {
        var raw = [UInt8](repeating: 0, count: 16)
        let length = Int(fs_sockaddr_ip(address, &raw))
        guard length > 0, let ip = IPAddress(bytes: Array(raw.prefix(length))) else {
            refusedAddress = "an address of family \(fs_sockaddr_family(address))"
            return CURL_SOCKET_BAD
        }
        guard policy.allows(ip) else {
            refusedAddress = ip.description
            return CURL_SOCKET_BAD
        }
        return socket(address.pointee.family, address.pointee.socktype, address.pointee.protocol)
    }
}

/// Confined to the engine's queue, on purpose.
@available(*, unavailable)
extension Transfer: Sendable {}
