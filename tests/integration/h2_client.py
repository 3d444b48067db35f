"""HTTP/2 clients for the h2 tests (issue 14): a TLS connection through leakguard's CONNECT with the
ALPN a test chooses, a python3-h2 client on it (several streams, a body split into the DATA frames
the test chooses), and a raw frame writer/reader for hostile peers (hyperframe + hpack, no
validation: it sends what a test builds, frame by frame)."""

import socket
import ssl
import time
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import hpack
from hyperframe.frame import Frame, GoAwayFrame, RstStreamFrame, SettingsFrame

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def connect_tunnel(proxy, host, port, timeout=10.0):
    """A TCP connection to leakguard that has been answered `200` to `CONNECT host:port`."""
    sock = socket.create_connection((proxy.host, proxy.port), timeout=timeout)
    sock.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError(f"leakguard closed during CONNECT: {head!r}")
        head += chunk
    assert head.startswith(b"HTTP/1.1 200"), head
    return sock


def tls_through(proxy, host, port, cafile, alpn=("h2",), server_name="localhost", timeout=10.0):
    """TLS inside a CONNECT tunnel, verifying against `cafile` (leakguard's CA for interception)."""
    context = ssl.create_default_context(cafile=str(cafile))
    if alpn:
        context.set_alpn_protocols(list(alpn))
    sock = connect_tunnel(proxy, host, port, timeout)
    return context.wrap_socket(sock, server_hostname=server_name)


def local_client(sock):
    """"127.0.0.1:PORT" as leakguard's events name this client."""
    host, port = sock.getsockname()[:2]
    return f"{host}:{port}"


@dataclass
class Response:
    status: int | None = None
    headers: list = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)  # appended per DATA frame: bytes would be quadratic
    trailers: list = field(default_factory=list)
    ended: bool = False
    reset: int | None = None   # RST_STREAM error code

    def header(self, name):
        return next((v for k, v in self.headers + self.trailers if k == name), None)


def _text(headers):
    return [(k.decode() if isinstance(k, bytes) else k, v.decode("latin-1") if isinstance(v, bytes) else v)
            for k, v in headers]


class H2Client:
    """A well-behaved HTTP/2 client (python3-h2) on an established socket."""

    def __init__(self, sock, authority, give_window=True):
        self.sock = sock
        self.authority = authority
        self.give_window = give_window  # False: a slow reader that never opens its windows again
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
        self.conn.initiate_connection()
        self.responses = {}
        self.goaway = None
        self._flush()

    def _flush(self):
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)

    def start(self, path, method="GET", headers=(), end_stream=True):
        """Sends a request's HEADERS; returns its stream id."""
        stream_id = self.conn.get_next_available_stream_id()
        self.conn.send_headers(stream_id, [(":method", method), (":scheme", "https"), (":authority", self.authority),
                                           (":path", path), *headers], end_stream=end_stream)
        self.responses[stream_id] = Response()
        self._flush()
        return stream_id

    def send_data(self, stream_id, chunk, end_stream=False):
        """One DATA frame (one TLS write), as the test split the body."""
        self.conn.send_data(stream_id, chunk, end_stream=end_stream)
        self._flush()

    def send_body(self, stream_id, body, piece=16384, timeout=10.0):
        """Sends `body` as the peer's windows allow, reading its frames (and WINDOW_UPDATEs) while
        they are closed. Stops early, returning False, once the stream was answered or reset (a
        proxy may refuse a body before it has all of it)."""
        self.sock.settimeout(timeout)
        offset = 0
        while offset < len(body):
            response = self.responses[stream_id]
            if response.ended or response.reset is not None or self.goaway is not None:
                return False
            window = min(self.conn.local_flow_control_window(stream_id), piece, len(body) - offset)
            if window > 0:
                self.send_data(stream_id, body[offset:offset + window], end_stream=offset + window == len(body))
                offset += window
                continue
            data = self.sock.recv(65536)
            if not data:
                return False
            for event in self.conn.receive_data(data):
                self._on_event(event)
            self._flush()
        return True

    def request(self, path, method="GET", headers=(), chunks=()):
        stream_id = self.start(path, method, headers, end_stream=not chunks)
        for i, chunk in enumerate(chunks):
            self.send_data(stream_id, chunk, end_stream=(i == len(chunks) - 1))
        return stream_id

    def wait(self, stream_ids, timeout=10.0):
        """Reads until every stream in `stream_ids` ended or was reset (or the connection ended)."""
        deadline = time.monotonic() + timeout
        self.sock.settimeout(timeout)
        while not all(self.responses[s].ended or self.responses[s].reset is not None for s in stream_ids):
            if self.goaway is not None or time.monotonic() > deadline:
                break
            try:
                data = self.sock.recv(65536)
            except (socket.timeout, ssl.SSLError, OSError):
                break
            if not data:
                break
            for event in self.conn.receive_data(data):
                self._on_event(event)
            self._flush()
        return {s: self.responses[s] for s in stream_ids}

    def _on_event(self, event):
        response = self.responses.get(getattr(event, "stream_id", None))
        if isinstance(event, h2.events.ResponseReceived):
            response.headers = _text(event.headers)
            response.status = int(dict(response.headers)[":status"])
        elif isinstance(event, h2.events.DataReceived):
            response.body += event.data
            if self.give_window:
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.TrailersReceived):
            response.trailers = _text(event.headers)
        elif isinstance(event, h2.events.StreamEnded):
            response.ended = True
        elif isinstance(event, h2.events.StreamReset):
            response.reset = int(event.error_code)
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.goaway = int(event.error_code)

    def get(self, path, **kwargs):
        stream_id = self.request(path, **kwargs)
        return self.wait([stream_id])[stream_id]

    def close(self):
        try:
            self.conn.close_connection()
            self._flush()
        except OSError:
            pass
        self.sock.close()


@dataclass
class Outcome:
    """What a hostile client got back: every frame leakguard sent, and how the connection ended."""
    frames: list
    closed: bool       # leakguard closed or reset the connection
    sent_all: bool     # the whole flood was written (False: leakguard stopped reading or closed)

    @property
    def goaway(self):
        return next((f for f in self.frames if isinstance(f, GoAwayFrame)), None)

    @property
    def resets(self):
        return [f for f in self.frames if isinstance(f, RstStreamFrame)]


class RawH2:
    """Hand-built frames on an established TLS socket: no client-side rule is enforced, so a test can
    send what no well-behaved client would."""

    def __init__(self, sock, settings=None):
        self.sock = sock
        self.encoder = hpack.Encoder()
        self.buffer = b""
        self.sock.sendall(PREFACE + SettingsFrame(0, settings=settings or {}).serialize())

    def block(self, headers):
        """An HPACK header block for `headers` (the encoder's dynamic table carries over)."""
        return self.encoder.encode(headers)

    def request_block(self, authority, path="/", method="GET", extra=()):
        return self.block([(":method", method), (":scheme", "https"), (":authority", authority), (":path", path),
                           *extra])

    def flood(self, data: bytes, piece=1 << 16, timeout=10.0):
        """Writes `data` in pieces; stops when leakguard closes or stops reading for `timeout`.
        Returns True when every byte was written."""
        self.sock.settimeout(timeout)
        try:
            for offset in range(0, len(data), piece):
                self.sock.sendall(data[offset:offset + piece])
        except (socket.timeout, ssl.SSLError, OSError):
            return False
        return True

    def outcome(self, sent_all, timeout=10.0):
        """Every frame leakguard sends until it closes the connection, or `timeout` passes
        without one."""
        frames, closed = [], False
        self.sock.settimeout(timeout)
        while True:
            frames += self._parse()
            try:
                chunk = self.sock.recv(65536)
            except (ssl.SSLZeroReturnError, ConnectionResetError, BrokenPipeError, ssl.SSLEOFError):
                closed = True
                break
            except (socket.timeout, ssl.SSLError, OSError):
                break
            if not chunk:
                closed = True
                break
            self.buffer += chunk
        return Outcome(frames + self._parse(), closed, sent_all)

    def _parse(self):
        frames, offset, data = [], 0, memoryview(self.buffer)
        while len(data) - offset >= 9:
            frame, length = Frame.parse_frame_header(data[offset:offset + 9])
            if len(data) - offset < 9 + length:
                break
            frame.parse_body(data[offset + 9:offset + 9 + length])
            frames.append(frame)
            offset += 9 + length
        self.buffer = bytes(data[offset:])
        return frames
