#!/usr/bin/env python3
"""HTTP server for the fetch tests, on 127.0.0.1 only.

Prints its port on stdout, then serves until its standard input closes (the
test process that started it ended). Routes are listed in Handler.do_GET.
Every slow route is bounded in time."""
import gzip, http.server, json, os, sys, threading, time, zlib
from email.utils import formatdate

try:
    import brotli  # Debian's python3-brotli, for /usr/bin/python3
except ImportError:
    brotli = None

FEED = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Test</title>'
        b'<item><title>One</title><guid>1</guid></item></channel></rss>')
ETAG = '"v1"'
LAST_MODIFIED = "Wed, 09 Aug 2023 10:00:00 GMT"
BOMB = gzip.compress(b"\0" * (64 << 20), compresslevel=9)

lock = threading.Lock()
in_flight = {}
max_in_flight = {}
requests_seen = []
ka_connections = {}  # /ka/<name>: the client ports its requests came from


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if not any(k.lower() == "content-length" for k, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        host = self.headers.get("Host", "").split(":")[0]
        with lock:
            requests_seen.append({"path": path, "host": host, "headers": dict(self.headers)})
        port = self.server.server_address[1]
        # HTTP/1.0, one request per connection, except under /ka/ (a connection
        # that served /ka/ is kept and may bring any request next).
        self.protocol_version = "HTTP/1.0"
        if path.startswith("/ka/"):  # /ka/<name>?idle_ms=N: keep-alive; the server closes it after N ms idle
            self.protocol_version = "HTTP/1.1"
            self.close_connection = self.headers.get("Connection", "").lower() == "close"
            with lock:
                ka_connections.setdefault(path[4:], set()).add(self.client_address[1])
            if "idle_ms" in params:
                self.connection.settimeout(min(float(params["idle_ms"]), 5000) / 1000)
            return self.send(200, FEED, [("Content-Type", "application/rss+xml")])
        self.close_connection = True
        if path.startswith("/ka-stats/"):
            with lock:
                body = json.dumps({"connections": len(ka_connections.get(path[10:], ()))}).encode()
            return self.send(200, body, [("Content-Type", "application/json")])
        if path == "/feed":
            if self.headers.get("If-None-Match") == ETAG or self.headers.get("If-Modified-Since") == LAST_MODIFIED:
                return self.send(304, headers=[("ETag", ETAG), ("Last-Modified", LAST_MODIFIED)])
            return self.send(200, FEED, [("Content-Type", "application/rss+xml; charset=utf-8"), ("ETag", ETAG),
                                         ("Last-Modified", LAST_MODIFIED), ("Cache-Control", "public, max-age=1800")])
        if path in ("/gzip", "/deflate", "/br"):
            accept = self.headers.get("Accept-Encoding", "")
            kind = path[1:]
            if kind not in accept or (kind == "br" and brotli is None):
                return self.send(406, b"encoding not offered")
            body = {"gzip": lambda b: gzip.compress(b), "deflate": zlib.compress,
                    "br": lambda b: brotli.compress(b)}[kind](FEED)
            return self.send(200, body, [("Content-Type", "application/rss+xml"), ("Content-Encoding", kind)])
        if path.startswith("/redirect/"):
            n = int(path.rsplit("/", 1)[1])
            return self.send(302, headers=[("Location", f"/redirect/{n - 1}" if n > 0 else "/feed")])
        if path.startswith("/perm/"):
            n = int(path.rsplit("/", 1)[1])
            return self.send(301, headers=[("Location", f"/perm/{n - 1}" if n > 0 else "/feed")])
        if path == "/perm308":
            return self.send(308, headers=[("Location", "/feed")])
        if path == "/mixed":
            return self.send(301, headers=[("Location", "/redirect/0")])
        if path == "/loop":
            return self.send(302, headers=[("Location", "/loop")])
        if path == "/to-private":
            return self.send(302, headers=[("Location", f"http://127.0.0.2:{port}/feed")])
        if path == "/to-file":
            return self.send(302, headers=[("Location", "file:///etc/passwd")])
        if path == "/gone":
            return self.send(410, b"gone")
        if path == "/429":
            return self.send(429, b"slow down", [("Retry-After", "120")])
        if path == "/503":
            return self.send(503, b"later", [("Retry-After", formatdate(time.time() + 90, usegmt=True))])
        if path.startswith("/status/"):
            return self.send(int(path.rsplit("/", 1)[1]), b"status")
        if path == "/slow":  # one byte a second, for at most 20 s
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", "20")
            self.end_headers()
            try:
                for _ in range(20):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(1)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if path == "/big":
            return self.send(200, b"<" * (2 << 20), [("Content-Type", "application/rss+xml")])
        if path == "/big-unknown-length":  # no Content-Length: the limit must hold mid-transfer
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()
            try:
                for _ in range(64):
                    self.wfile.write(b"<" * 32768)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
            return
        if path == "/bomb":
            return self.send(200, BOMB, [("Content-Type", "application/rss+xml"), ("Content-Encoding", "gzip")])
        if path == "/charset":
            body = '<rss version="2.0"><channel><title>Новости</title></channel></rss>'.encode("windows-1251")
            return self.send(200, body, [("Content-Type", 'text/xml; charset="windows-1251"')])
        if path == "/hold":
            with lock:
                in_flight[host] = in_flight.get(host, 0) + 1
                max_in_flight[host] = max(max_in_flight.get(host, 0), in_flight[host])
            time.sleep(min(float(params.get("ms", "100")), 5000) / 1000)
            with lock:
                in_flight[host] -= 1
            return self.send(200, FEED, [("Content-Type", "application/rss+xml")])
        if path.startswith("/gen/"):  # /gen/<feed>?items=N&ms=D: a feed of N items of its own, after D ms (at most 5 s)
            feed = path[5:]
            items = min(int(params.get("items", "10")), 100)
            time.sleep(min(float(params.get("ms", "0")), 5000) / 1000)
            body = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>%s</title>' % feed]
            for k in range(items):
                body.append('<item><title>%s story %d</title><guid>https://gen.example/%s/%d</guid>'
                            '<description>Story %d of feed %s.</description></item>' % (feed, k, feed, k, k, feed))
            body.append("</channel></rss>")
            return self.send(200, "".join(body).encode(), [("Content-Type", "application/rss+xml; charset=utf-8")])
        if path == "/stats":
            with lock:
                body = json.dumps({"max_in_flight": max_in_flight, "requests": len(requests_seen)}).encode()
            return self.send(200, body, [("Content-Type", "application/json")])
        if path == "/last-request":
            with lock:
                body = json.dumps(requests_seen[-2] if len(requests_seen) > 1 else {}).encode()
            return self.send(200, body, [("Content-Type", "application/json")])
        if path == "/reset":
            with lock:
                in_flight.clear(); max_in_flight.clear(); requests_seen.clear()
            return self.send(200, b"{}", [("Content-Type", "application/json")])
        return self.send(404, b"no such route")


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 512
    daemon_threads = True


def main():
    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()  # until the test process goes away
    os._exit(0)


if __name__ == "__main__":
    main()
