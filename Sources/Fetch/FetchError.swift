/// Why a fetch failed, with the facts a scheduler acts on and a sentence a user understands.
public enum FetchError: Error, Sendable, Hashable {
    case invalidURL(String)
    /// Not http or https (or file, where allowed), also after a redirect.
    case refusedScheme(url: String)
    /// The address is loopback, private, link-local or otherwise not public.
    case refusedPrivateAddress(url: String, address: String)
    case dnsFailure(url: String, host: String)
    case connectionFailed(url: String, reason: String)
    case tls(url: String, reason: String)
    case timedOut(url: String, seconds: Double)
    /// The server sent too little for too long.
    case tooSlow(url: String)
    /// The body (decompressed) was larger than the limit.
    case tooLarge(url: String, limit: Int)
    case tooManyRedirects(url: String, limit: Int)
    /// 410: the feed is gone for good.
    case gone(url: String)
    /// Any other status that is not a success; `retryAfter` in seconds when the server sent one.
    case http(url: String, status: Int, retryAfter: Int?)
    case transport(url: String, code: Int, reason: String)
    /// The fetcher was shut down before the transfer ended.
    case cancelled(url: String)

    public var message: String {
        switch self {
        case .invalidURL(let u): return "\(u): not a valid URL"
        case .refusedScheme(let u): return "\(u): only http and https URLs are fetched (a redirect to another scheme is refused too)"
        case .refusedPrivateAddress(let u, let a):
            return "\(u): refused to connect to \(a), a private or loopback address; set \"fetch\": {\"allow_private_networks\": true} to allow it"
        case .dnsFailure(let u, let h): return "\(u): the host name \(h) does not resolve"
        case .connectionFailed(let u, let r): return "\(u): cannot connect: \(r)"
        case .tls(let u, let r): return "\(u): TLS failed: \(r)"
        case .timedOut(let u, let s): return "\(u): no complete answer within \(Int(s)) s"
        case .tooSlow(let u): return "\(u): the server sent too little for too long; cut off"
        case .tooLarge(let u, let l): return "\(u): the feed is larger than \(l) bytes (fetch.max_bytes)"
        case .tooManyRedirects(let u, let l): return "\(u): more than \(l) redirects"
        case .gone(let u): return "\(u): 410 Gone: the server says the feed was removed for good"
        case .http(let u, let s, let r):
            let what: String
            switch s {
            case 401, 403: what = "access denied"
            case 404: what = "not found"
            case 429: what = "too many requests"
            case 500...599: what = "server error"
            default: what = "unexpected status"
            }
            return "\(u): HTTP \(s) (\(what))" + (r.map { "; retry after \($0) s" } ?? "")
        case .transport(let u, let c, let r): return "\(u): transfer failed (curl \(c)): \(r)"
        case .cancelled(let u): return "\(u): cancelled at shutdown"
        }
    }

    /// The server asked to wait this many seconds (429, 503).
    public var retryAfter: Int? {
        if case .http(_, _, let r) = self { return r }
        return nil
    }
}
