import CCurl
import CCurlShim
import Foundation

/// Turns a finished transfer into the typed result the scheduler acts on.
enum Outcome {
    static func result(of t: Transfer, code: CURLcode, settings: FetchSettings) -> Result<FetchResponse, FetchError> {
        let url = t.request.url
        guard code == CURLE_OK else {
            let reason = String(cString: t.errorBuffer).trimmingCharacters(in: .whitespacesAndNewlines)
            let detail = reason.isEmpty ? String(cString: curl_easy_strerror(code)) : reason
            switch code {
            case CURLE_COULDNT_CONNECT where t.refusedAddress != nil:
                return .failure(.refusedPrivateAddress(url: url, address: t.refusedAddress!))
            case CURLE_COULDNT_RESOLVE_HOST:
                return .failure(.dnsFailure(url: url, host: URL(string: url)?.host ?? url))
            case CURLE_COULDNT_CONNECT, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE:
                return .failure(.connectionFailed(url: url, reason: detail))
            case CURLE_OPERATION_TIMEDOUT:
                if detail.contains("too slow") { return .failure(.tooSlow(url: url)) }
                return .failure(.timedOut(url: url, seconds: settings.timeout))
            case CURLE_FILESIZE_EXCEEDED:
                return .failure(.tooLarge(url: url, limit: settings.maxBytes))
            case CURLE_WRITE_ERROR where t.overLimit:
                return .failure(.tooLarge(url: url, limit: settings.maxBytes))
            case CURLE_TOO_MANY_REDIRECTS:
                return .failure(.tooManyRedirects(url: url, limit: settings.maxRedirects))
            case CURLE_UNSUPPORTED_PROTOCOL:
                return .failure(.refusedScheme(url: url))
            case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
                CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS,
                CURLE_SSL_CLIENTCERT:
                return .failure(.tls(url: url, reason: detail))
            default:
                return .failure(.transport(url: url, code: Int(code.rawValue), reason: detail))
            }
        }
        var status = 0
        fs_easy_getinfo_long(t.handle, CURLINFO_RESPONSE_CODE, &status)
        if status == 0 { status = 200 }  // file://
        let retryAfter = t.retryAfter.flatMap { HTTPDate.secondsToWait($0) }
        switch status {
        case 200..<300, 304: break
        case 410: return .failure(.gone(url: url))
        default: return .failure(.http(url: url, status: status, retryAfter: retryAfter))
        }
        // The effective URL of a successful transfer only (a refused redirect's would lie).
        var effective: UnsafePointer<CChar>?
        fs_easy_getinfo_string(t.handle, CURLINFO_EFFECTIVE_URL, &effective)
        let finalURL = effective.map { String(cString: $0) } ?? url
        var redirects = 0
        fs_easy_getinfo_long(t.handle, CURLINFO_REDIRECT_COUNT, &redirects)
        let hops = t.statuses.dropLast()
        let permanent = redirects > 0 && !hops.isEmpty && hops.allSatisfy { $0 == 301 || $0 == 308 } ? finalURL : nil
        return .success(FetchResponse(
            requestedURL: url, url: finalURL, status: status, body: status == 304 ? [] : t.body,
            contentType: t.contentType, charset: t.contentType.flatMap(charset(of:)), etag: t.etag,
            lastModified: t.lastModified, maxAge: t.cacheControl.flatMap(maxAge(of:)), permanentRedirect: permanent,
            redirects: redirects, connectSeconds: seconds(t, CURLINFO_CONNECT_TIME_T),
            firstByteSeconds: seconds(t, CURLINFO_STARTTRANSFER_TIME_T), totalSeconds: seconds(t, CURLINFO_TOTAL_TIME_T)))
    }

    private static func seconds(_ t: Transfer, _ info: CURLINFO) -> Double {
        var micro: curl_off_t = 0
        fs_easy_getinfo_off(t.handle, info, &micro)
        return Double(micro) / 1_000_000
    }

    /// `charset` of a Content-Type value: `text/xml; charset="windows-1251"` gives `windows-1251`.
    static func charset(of contentType: String) -> String? {
        for part in contentType.split(separator: ";").dropFirst() {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces).lowercased() == "charset" else { continue }
            let v = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'"))
            return v.isEmpty ? nil : v
        }
        return nil
    }

    /// `max-age` of a Cache-Control value, in seconds.
    static func maxAge(of cacheControl: String) -> Int? {
        for part in cacheControl.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces).lowercased() == "max-age" {
                return Int(kv[1].trimmingCharacters(in: CharacterSet(charactersIn: " \"")))
            }
        }
        return nil
    }
}

/// HTTP dates (RFC 9110 section 5.6.7), for `Retry-After`.
public enum HTTPDate {
    /// Seconds to wait for a `Retry-After` value: a number of seconds, or an
    /// HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850 or asctime form); `nil` when unreadable.
    public static func secondsToWait(_ value: String, now: Date = Date()) -> Int? {
        let v = value.trimmingCharacters(in: .whitespaces)
        if let s = Int(v) { return max(0, s) }
        guard let date = parse(v) else { return nil }
        return max(0, Int(date.timeIntervalSince(now).rounded(.up)))
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    public static func parse(_ text: String) -> Date? {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "-" }).map(String.init)
        var day: Int?, month: Int?, year: Int?, time: [Int]?
        for w in words.dropFirst() {  // the first word is the day name
            if let m = months.firstIndex(of: String(w.lowercased().prefix(3))), w.count >= 3, Int(w) == nil {
                month = m + 1
            } else if w.contains(":") {
                let t = w.split(separator: ":").compactMap { Int($0) }
                if t.count == 3 { time = t }
            } else if let n = Int(w) {
                if day == nil && n <= 31 && w.count <= 2 { day = n } else { year = n < 100 ? (n < 70 ? 2000 + n : 1900 + n) : n }
            }
        }
        guard let day, let month, let year, let time else { return nil }
        var c = DateComponents()
        c.year = year; c.month = month; c.day = day; c.hour = time[0]; c.minute = time[1]; c.second = time[2]
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: c)
    }
}
