"""Real loopback peers for the integration tests: an HTTP/1.1 origin that records every byte it
receives, a raw TCP echo server, and a tiny raw-socket HTTP client. Everything binds 127.0.0.1
port 0 (or an address the test's own network namespace owns) and runs in daemon threads."""

import socket
import socketserver
import threading
import json
import ssl


class _ThreadingTCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, family=socket.AF_INET):
        self.address_family = family
        super().__init__(address, handler)


def read_http_message(reader, is_request=True):
    """Reads one HTTP/1.x message head and body from a buffered binary reader.
    Returns (start_line, headers list, body bytes, raw bytes) or None at EOF."""
    raw = bytearray()
    line = reader.readline(65537)
    while line in (b"\r\n", b"\n"):
        raw += line
        line = reader.readline(65537)
    if not line:
        return None
    raw += line
    start = line.decode("latin-1").rstrip("\r\n")
    headers = []
    while True:
        line = reader.readline(65537)
        if not line:
            return None
        raw += line
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers.append((name, value.strip()))
    lower = {k.lower(): v for k, v in headers}
    body = bytearray()
    if lower.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size_line = reader.readline(65537)
            raw += size_line
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:
                    trailer = reader.readline(65537)
                    raw += trailer
                    if trailer in (b"\r\n", b"\n", b""):
                        break
                break
            chunk = reader.read(size)
            crlf = reader.readline(65537)
            raw += chunk + crlf
            body += chunk
    elif "content-length" in lower:
        remaining = int(lower["content-length"])
        while remaining > 0:
            chunk = reader.read(min(remaining, 1 << 20))
            if not chunk:
                break
            raw += chunk
            body += chunk
            remaining -= len(chunk)
    return start, headers, bytes(body), bytes(raw)


class RecordingOrigin:
    """An HTTP/1.1 origin server. Every byte received on every connection is kept in `received`
    (per connection, in order). Routes:
      /big?n=BYTES      a Content-Length response of n bytes, streamed
      /chunked          a chunked response
      /ws               answers an Upgrade with 101 and then echoes raw bytes
      /close            answers with Connection: close
      anything else     200 with a JSON summary of the request (method, path, headers, body size)
    """

    def __init__(self, host="127.0.0.1", family=socket.AF_INET, record_path=None, port=0):
        origin = self
        self.record_path = record_path
        self.connections = []
        self.requests = []
        self.big_bytes_sent = 0  # body bytes of /big responses written so far
        self.lock = threading.Lock()

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                record = bytearray()
                with origin.lock:
                    origin.connections.append(record)
                reader = _RecordingReader(self.rfile, record, origin.lock, origin.record_path)
                while True:
                    try:
                        message = read_http_message(reader)
                    except (ValueError, ConnectionError):
                        return
                    if message is None:
                        return
                    start, headers, body, _ = message
                    with origin.lock:
                        origin.requests.append((start, headers, body))
                    if not origin.respond(self, start, headers, body, reader):
                        return

        self.server = _ThreadingTCPServer((host, port), Handler, family)
        self.port = self.server.server_address[1]
        self.host = host
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def respond(self, handler, start, headers, body, reader):
        method, path, _version = (start.split(" ") + ["", ""])[:3]
        out = handler.wfile
        lower = {k.lower(): v for k, v in headers}
        if path.startswith("/big"):
            n = int(path.split("n=")[1])
            out.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n)
            block = b"x" * 65536
            sent = 0
            while sent < n:
                piece = block[: min(len(block), n - sent)]
                out.write(piece)
                sent += len(piece)
                with self.lock:
                    self.big_bytes_sent += len(piece)
            out.flush()
            return True
        if path.startswith("/chunked"):
            out.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
            out.flush()
            return True
        if path.startswith("/ws") and lower.get("upgrade", "").lower() == "websocket":
            out.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
            out.flush()
            while True:
                data = reader.read1(65536)
                if not data:
                    return False
                out.write(b"echo:" + data)
                out.flush()
        payload = json.dumps({
            "method": method,
            "path": path,
            "headers": headers,
            "body_length": len(body),
            "body": body.decode("latin-1") if len(body) < 4096 else "",
        }).encode()
        close = path.startswith("/close") or lower.get("connection", "").lower() == "close"
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % len(payload)
        if close:
            head += b"Connection: close\r\n"
        if method == "HEAD":
            out.write(head + b"\r\n")
        else:
            out.write(head + b"\r\n" + payload)
        out.flush()
        return not close

    def received(self):
        with self.lock:
            return b"".join(bytes(c) for c in self.connections)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class HttpsOrigin(RecordingOrigin):
    """The recording origin behind TLS: `received()` is what it decrypted. The handshake runs in the
    connection's own thread, so a client that fails it never stalls the accept loop."""

    def __init__(self, cert, key, host="127.0.0.1", family=socket.AF_INET, record_path=None, port=0):
        super().__init__(host, family, record_path, port)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        context.set_alpn_protocols(["http/1.1"])
        self.handshakes = 0
        plain_get_request = self.server.get_request
        plain_finish_request = self.server.finish_request

        def get_request():
            sock, address = plain_get_request()
            return context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

        def finish_request(request, address):
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError):
                return
            with self.lock:
                self.handshakes += 1
            plain_finish_request(request, address)

        self.server.get_request = get_request
        self.server.finish_request = finish_request
        self.server.handle_error = lambda *args: None


class _RecordingReader:
    """Wraps the handler's rfile so every byte read is also appended to the connection record."""

    def __init__(self, inner, record, lock, record_path=None):
        self.inner, self.record, self.lock, self.record_path = inner, record, lock, record_path

    def _keep(self, data):
        with self.lock:
            self.record += data
            if self.record_path and data:
                with open(self.record_path, "ab") as f:
                    f.write(data)
        return data

    def readline(self, limit=-1):
        return self._keep(self.inner.readline(limit))

    def read(self, n):
        return self._keep(self.inner.read(n))

    def read1(self, n):
        return self._keep(self.inner.read1(n))


class EchoServer:
    """Raw TCP: echoes what it receives, prefixed, and records it."""

    def __init__(self, host="127.0.0.1", family=socket.AF_INET, greeting=b"", record_path=None, port=0):
        echo = self
        self.received = bytearray()
        self.lock = threading.Lock()

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                if greeting:
                    self.request.sendall(greeting)
                while True:
                    data = self.request.recv(65536)
                    if not data:
                        return
                    with echo.lock:
                        echo.received += data
                        if record_path:
                            with open(record_path, "ab") as f:
                                f.write(data)
                    self.request.sendall(b"echo:" + data)

        self.server = _ThreadingTCPServer((host, port), Handler, family)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def read_head(sock, timeout=10.0):
    """Bytes from `sock` until the end of a message head (CRLF CRLF) or the peer's close."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def raw_exchange(port, data, host="127.0.0.1", timeout=5.0, read_until_close=True):
    """Sends `data` on a fresh connection and returns everything received until the peer closes
    (or until `timeout` passes without new bytes)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if not read_until_close:
                    break
        except socket.timeout:
            pass
        return b"".join(chunks)
