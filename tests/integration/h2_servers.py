"""Real HTTP/2 peers for the h2 tests (issue 14), all on 127.0.0.1 port 0 (or an address of the
test's own network namespace):

- H2Origin: python3-h2 behind TLS that offers ALPN `h2` only (or cleartext h2c with prior
  knowledge). It records every stream it received (method, path, headers, every DATA frame,
  trailers, resets), so a test can say "the origin never saw a byte of that stream".
- NginxH2Origin: nginx with `http2` on a TLS listener (offers h2 and http/1.1), its access log
  recording the protocol and connection of every request.
- GrpcOrigin: a python3-grpcio server with a generic handler on raw bytes (no protoc, no stubs).
"""

import json
import pathlib
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

from servers import _ThreadingTCPServer


@dataclass
class StreamRecord:
    """What the origin received on one stream, decoded (HPACK undone, DATA frames kept apart)."""
    connection: int
    stream_id: int
    headers: list                      # [(name, value)] as str, pseudo-headers included, in order
    data_frames: list = field(default_factory=list)  # payload of every DATA frame, empty ones too
    trailers: list = field(default_factory=list)
    ended: bool = False                # END_STREAM arrived
    reset: int | None = None           # RST_STREAM error code, if the peer reset it

    def header(self, name):
        return next((v for k, v in self.headers if k == name), None)

    @property
    def method(self):
        return self.header(":method")

    @property
    def path(self):
        return self.header(":path")

    @property
    def body(self):
        return b"".join(self.data_frames)

    def contains(self, needle: bytes):
        text = "\n".join(f"{k}: {v}" for k, v in self.headers + self.trailers).encode("latin-1", "replace")
        return needle in text or needle in self.body

    def as_json(self):
        return {"connection": self.connection, "stream": self.stream_id, "headers": self.headers,
                "body": self.body.decode("latin-1"), "data_frames": len(self.data_frames),
                "trailers": self.trailers, "ended": self.ended, "reset": self.reset}


def grpc_frame(message: bytes, compressed=False):
    """One gRPC length-prefixed message: 1-byte compressed flag, 4-byte big-endian length."""
    return struct.pack(">BI", 1 if compressed else 0, len(message)) + message


def _decode(headers):
    return [(k.decode("latin-1") if isinstance(k, bytes) else k, v.decode("latin-1") if isinstance(v, bytes) else v)
            for k, v in headers]


class H2Origin:
    """An origin that speaks only HTTP/2. Routes (by :path):
      /big?n=BYTES   200 with n bytes of "x", sent as the client's flow-control windows allow
      /status/NNN    that status, empty body
      application/grpc* requests: 200 application/grpc, the first request message echoed back as
                     one gRPC message, trailers grpc-status 0
      anything else  200 application/json: method, path, headers, body (as RecordingOrigin does)
    `no_window_updates=True` never gives the peer more request-body window than the first 64 KiB
    (a slow origin); `blocked` is set once a /big response waits on a zero window."""

    def __init__(self, cert=None, key=None, host="127.0.0.1", family=socket.AF_INET, port=0, record_path=None,
                 alpn=("h2",), no_window_updates=False):
        origin = self
        self.streams = []              # StreamRecord, in the order their HEADERS arrived
        self.connections = 0           # connections that spoke h2
        self.client_settings = []      # per connection: the settings the client's SETTINGS named
        self.refused_alpn = []         # ALPN the client chose when it was not h2 (None: none)
        self.big_bytes_sent = 0
        self.blocked = threading.Event()
        self.record_path = record_path
        self.no_window_updates = no_window_updates
        self.lock = threading.Lock()
        context = None
        if cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            context.set_alpn_protocols(list(alpn))

        class Handler:
            def __init__(self, request, client_address, server):
                origin._serve(request)

        self.server = _ThreadingTCPServer((host, port), Handler, family)
        self.server.handle_error = lambda *args: None
        if context is not None:
            plain_get_request = self.server.get_request

            def get_request():
                sock, address = plain_get_request()
                return context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

            self.server.get_request = get_request
        self.port = self.server.server_address[1]
        self.host = host
        self.tls = context is not None
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # --- what the tests read
    def requests(self):
        with self.lock:
            return list(self.streams)

    def seen(self, needle: bytes):
        """Whether any byte sequence `needle` reached the origin in any header, DATA or trailer."""
        return any(s.contains(needle) for s in self.requests())

    def paths(self):
        return [s.path for s in self.requests()]

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # --- the server
    def _serve(self, sock):
        try:
            if self.tls:
                sock.do_handshake()
                chosen = sock.selected_alpn_protocol()
                if chosen != "h2":
                    with self.lock:
                        self.refused_alpn.append(chosen)
                    return
            self._speak_h2(sock)
        except (ssl.SSLError, OSError, h2.exceptions.ProtocolError):
            return
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def _speak_h2(self, sock):
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding=None))
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        with self.lock:
            self.connections += 1
            number = self.connections
        records, pending = {}, {}      # stream id -> StreamRecord; stream id -> bytes of /big left
        while True:
            data = sock.recv(65536)
            if not data:
                return
            events = conn.receive_data(data)
            for event in events:
                self._on_event(conn, number, event, records, pending)
            self._send_pending(conn, pending)
            out = conn.data_to_send()
            if out:
                sock.sendall(out)
            if any(isinstance(e, h2.events.ConnectionTerminated) for e in events):
                return  # the peer's GOAWAY: answered what it allowed, now close as servers do

    def _on_event(self, conn, number, event, records, pending):
        if isinstance(event, h2.events.RemoteSettingsChanged) and len(self.client_settings) < number:
            with self.lock:
                self.client_settings.append({h2.settings.SettingCodes(code).name.lower(): change.new_value
                                             for code, change in event.changed_settings.items()})
        elif isinstance(event, h2.events.RequestReceived):
            record = StreamRecord(number, event.stream_id, _decode(event.headers))
            records[event.stream_id] = record
            with self.lock:
                self.streams.append(record)
            if event.stream_ended:
                self._finish(conn, record, pending)
        elif isinstance(event, h2.events.DataReceived):
            record = records.get(event.stream_id)
            if record is not None:
                with self.lock:
                    record.data_frames.append(event.data)
            if not self.no_window_updates:
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            if event.stream_ended and record is not None:
                self._finish(conn, record, pending)
        elif isinstance(event, h2.events.TrailersReceived):
            record = records[event.stream_id]
            record.trailers = _decode(event.headers)
            if event.stream_ended:
                self._finish(conn, record, pending)
        elif isinstance(event, h2.events.StreamEnded):
            pass  # handled with the frame that carried END_STREAM above
        elif isinstance(event, h2.events.StreamReset):
            record = records.get(event.stream_id)
            if record is not None:
                record.reset = int(event.error_code)
                self._persist(record)
            pending.pop(event.stream_id, None)

    def _finish(self, conn, record, pending):
        record.ended = True
        self._persist(record)
        path = record.path or "/"
        content_type = record.header("content-type") or ""
        if path.startswith("/big?"):
            n = int(parse_qs(urlsplit(path).query)["n"][0])
            conn.send_headers(record.stream_id, [(":status", "200"), ("content-length", str(n))])
            pending[record.stream_id] = n
        elif path.startswith("/status/"):
            conn.send_headers(record.stream_id, [(":status", path.split("/")[2])], end_stream=True)
        elif content_type.startswith("application/grpc"):
            body = record.body
            first = body[5:5 + struct.unpack(">I", body[1:5])[0]] if len(body) >= 5 else b""
            conn.send_headers(record.stream_id, [(":status", "200"), ("content-type", "application/grpc")])
            conn.send_data(record.stream_id, grpc_frame(first))
            conn.send_headers(record.stream_id, [("grpc-status", "0"), ("grpc-message", "")], end_stream=True)
        else:
            payload = json.dumps({"method": record.method, "path": path, "headers": record.headers,
                                  "body_length": len(record.body), "stream": record.stream_id,
                                  "body": record.body.decode("latin-1") if len(record.body) < 4096 else ""}).encode()
            conn.send_headers(record.stream_id, [(":status", "200"), ("content-type", "application/json"),
                                                 ("content-length", str(len(payload)))])
            conn.send_data(record.stream_id, payload, end_stream=True)

    def _send_pending(self, conn, pending):
        """Sends /big bodies as far as the peer's windows go; marks `blocked` when one must wait."""
        for stream_id in list(pending):
            left = pending[stream_id]
            while left > 0:
                window = min(conn.local_flow_control_window(stream_id), conn.max_outbound_frame_size, left)
                if window <= 0:
                    self.blocked.set()
                    break
                conn.send_data(stream_id, b"x" * window, end_stream=(window == left))
                left -= window
                with self.lock:
                    self.big_bytes_sent += window
            if left:
                pending[stream_id] = left
            else:
                del pending[stream_id]

    def _persist(self, record):
        if self.record_path:
            with self.lock, open(self.record_path, "a") as f:
                f.write(json.dumps(record.as_json()) + "\n")


def free_port(host="127.0.0.1"):
    """A port nothing listens on right now, for servers that need a concrete port in their
    configuration (nginx). The caller retries when another process takes it first."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class NginxH2Origin:
    """nginx with `listen ... ssl http2` (ALPN h2 and http/1.1) in a directory of its own. Every
    location answers `200 ok <method> <uri>`; the access log keeps `<connection> <protocol>
    <method> <uri> <status>` per request, so a test can see that N requests shared one HTTP/2
    connection."""

    def __init__(self, directory: pathlib.Path, cert, key, host="127.0.0.1"):
        self.directory = directory
        (directory / "logs").mkdir(parents=True, exist_ok=True)
        self.access_log = directory / "logs" / "access.log"
        self.host = host
        for _attempt in range(5):
            self.port = free_port(host)
            (directory / "nginx.conf").write_text(f"""
worker_processes 1;
daemon off;
pid {directory}/nginx.pid;
error_log {directory}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
  log_format h2lab '$connection $server_protocol $request_method $request_uri $status';
  access_log {self.access_log} h2lab;
  client_body_temp_path {directory}/body;
  proxy_temp_path {directory}/proxy;
  fastcgi_temp_path {directory}/fastcgi;
  uwsgi_temp_path {directory}/uwsgi;
  scgi_temp_path {directory}/scgi;
  server {{
    listen {host}:{self.port} ssl http2;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {{ default_type text/plain; return 200 "ok $request_method $uri\\n"; }}
  }}
}}
""")
            self.process = subprocess.Popen(["nginx", "-p", str(directory), "-c", str(directory / "nginx.conf"),
                                             "-e", str(directory / "logs" / "error.log")],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if self._wait_listening():
                return
        raise AssertionError(f"nginx did not start: {(directory / 'logs' / 'error.log').read_text()}")

    def _wait_listening(self):
        """True once nginx accepts; False when it exited (the port was taken: try another)."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                socket.create_connection((self.host, self.port), timeout=0.5).close()
                return True
            except OSError:
                time.sleep(0.02)
        self.close()
        raise AssertionError("nginx did not listen within 15 s")

    def log_lines(self, count=0):
        """Access log lines as (connection, protocol, method, uri, status); waits (bounded) for
        `count` of them: nginx writes the line after it has answered."""
        deadline = time.monotonic() + 5
        while True:
            lines = [tuple(line.split()) for line in self.access_log.read_text().splitlines()] \
                if self.access_log.exists() else []
            if len(lines) >= count or time.monotonic() > deadline:
                return lines
            time.sleep(0.02)

    def close(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class GrpcOrigin:
    """A real gRPC server (python3-grpcio) over TLS. Methods, on raw bytes:
      /lab.Device/Echo   answers the request message, trailing metadata x-origin: grpc-lab
      /lab.Device/Fail   aborts with NOT_FOUND "no such device" (a status to pass through)
    `calls` records (method, metadata dict, request bytes) of every call that reached it."""

    def __init__(self, cert, key, host="127.0.0.1"):
        import grpc
        from concurrent import futures

        self.calls = []
        self.lock = threading.Lock()
        origin = self

        def echo(request, context):
            origin._record(context, "/lab.Device/Echo", request)
            context.set_trailing_metadata((("x-origin", "grpc-lab"),))
            return request

        def fail(request, context):
            origin._record(context, "/lab.Device/Fail", request)
            context.abort(grpc.StatusCode.NOT_FOUND, "no such device")

        handlers = {"/lab.Device/Echo": echo, "/lab.Device/Fail": fail}

        class Generic(grpc.GenericRpcHandler):
            def service(self, details):
                behaviour = handlers.get(details.method)
                return grpc.unary_unary_rpc_method_handler(behaviour) if behaviour else None

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=(Generic(),))
        credentials = grpc.ssl_server_credentials([(pathlib.Path(key).read_bytes(), pathlib.Path(cert).read_bytes())])
        self.port = self.server.add_secure_port(f"{host}:0", credentials)
        self.server.start()

    def _record(self, context, method, request):
        with self.lock:
            self.calls.append((method, dict(context.invocation_metadata()), request))

    def close(self):
        self.server.stop(grace=None)
