"""HTTP Desync Guardian's 159 request cases (shared/conformance/http-desync-guardian/*.yaml) through
the real proxy to a real origin, one test per case, judged by the tier the suite gives each case.

Decisions (read these before changing an expectation; the suite's tier is the spec):

Building the request
- Bytes exactly as the YAML says: `method SP target SP version CRLF`, then each header as
  `name ": " value CRLF` in order, then CRLF. Names and values are sent byte for byte (a name with a
  trailing space keeps it; values keep their leading whitespace). YAML strings are Unicode; they go
  out UTF-8 encoded, as the suite's own Rust harness sends them. Integers become their decimal text.
- Version "" (HTTP/0.9) sends `method SP target CRLF`: no trailing space, as a 0.9 client would.
- The proxy runs in explicit mode, so the target is absolute-form: `http://127.0.0.1:PORT` + uri.
  Every uri in the suite is origin-form or empty ("Empty URI" becomes the bare authority, which
  means "/"); malformed ones (a NUL before the slash) stay malformed after the prefix, as intended.
- Every case is sent in three layouts (LAYOUTS): its header lines right after the request line;
  after a `Host` line naming the target's authority; after two ordinary headers (User-Agent,
  Accept). A shape refused in one position and forwarded in another (a whitespace-led line after
  Host, say) is a shape some server reads differently: every tier's expectation holds in each.
- The cases carry no Host. In absolute form the target names the authority, and the proxy sets
  Host upstream from it (RFC 9112 section 3.2.2); only the `after-host` layout sends one.
- A body follows only when the case's own framing calls for one (a single all-digit
  Content-Length: that many bytes, up to 8 MiB; a Transfer-Encoding list whose last coding is
  chunked: one chunk), so that a forwarded request is complete.
- Then, on the same connection, a pipelined follow-up `GET /__after__` with Connection: close. For a
  forwarded case it proves both hops framed the body alike (the follow-up arrives as its own request);
  for a refused case it proves the connection was closed and nothing behind the bad request was
  served: the classic smuggling payload position.

What each tier must get (shared/conformance/README.md)
- Severe: 400 with Connection: close, the connection closed, the origin received no byte.
- Ambiguous: the same, or the one response relayed and the connection closed right after it with
  the follow-up unserved. leakguard refuses every Ambiguous case with 400.
- Compliant: forwarded unchanged in meaning: the origin gets the method, the origin-form target,
  every header in order (name and value less surrounding whitespace), the body, then the
  follow-up as a separate request; both 200s are relayed.
- Acceptable: like Compliant, except the cases in ACCEPTABLE_REFUSED below, which the proxy refuses
  with 400 for the reason written there. Their expectation is exact both ways: a proxy change that
  starts forwarding one of them must move it out of that table, with its reason.

Normalisations the proxy makes on the way upstream, all meaning-preserving, all checked here:
- parameters on transfer codings are dropped ("chunked;custom_param;" goes on as "chunked"), so the
  upstream frames the body exactly as the proxy did;
- a request of HTTP/1.2 goes on as HTTP/1.1 (a proxy sends its own version, RFC 9110 section 6.2).

The origin is FramingOrigin below, not servers.RecordingOrigin: that one takes only an exact
"chunked" as chunked and strips values with Python's Unicode-aware strip(), so it would itself
misread "gzip, chunked" and obs-text values and fail cases the proxy handles right.
"""

import socket
import socketserver
import threading
import time

import pytest
import yaml

from conftest import SHARED, start_leakguard

SUITE = SHARED / "conformance" / "http-desync-guardian"

# Acceptable cases leakguard refuses, and why. All of them are refused at the parser, before any
# upstream connection, so they also cannot reach the detectors half-parsed.
_CTL = ("llhttp, the one parser that frames the stream, refuses control characters in field names "
        "and values; its only switch for them (LENIENT_HEADERS) also accepts NUL and bare LF in values, "
        "whitespace-led header lines and 'Transfer-Encoding : chunked' framed as chunked, which are "
        "Severe/Ambiguous shapes; a second hand-written pre-parser to let only these through would be "
        "one more place for two parsers to disagree. No phone HTTP stack sends them (OkHttp and "
        "NSURLSession refuse to build such headers)")
_HTTP09 = ("HTTP/0.9 has no header section and no status line: llhttp's loose mode still reads header "
           "lines after a version-less request line, a shape no 0.9 server shares and the one the Severe "
           "'Request Smuggling in URI' case uses; the proxy could not relay a 0.9 response in step either")
_REQUEST_LINE = ("the request line does not split into exactly method, target and version at single "
                 "spaces; llhttp refuses it and any guess at which part is the target is a guess a server "
                 "behind could make differently (RFC 9112 section 3: SHOULD answer 400)")
_SPACE_BEFORE_COLON = ("whitespace between a field name and its colon: RFC 9112 section 5.1 says a server MUST "
                      "refuse it with 400 (the rule to strip it is for responses). Stripping it on the way "
                      "upstream would hide from the proxy's own checks a name that another server reads as "
                      "a different header, and phone HTTP stacks never send it")
ACCEPTABLE_REFUSED = {
    "No TE/CL headers, some others are non-compliant": _SPACE_BEFORE_COLON,
    "TE and some others are non-compliant": _SPACE_BEFORE_COLON,
    "CL and some others are non-compliant": _SPACE_BEFORE_COLON,
    "A non-essential header with a non-printable character (x01)": _CTL,
    "Some-Header\\x01": _CTL,
    "\\x01Some-Header": _CTL,
    "Some-Header: \\x01value": _CTL,
    "Some-Header: value\\x01": _CTL,
    "Non-RFC, but OK HTTP/0.9": _HTTP09,
    "Empty version, which means HTTP/0.9": _HTTP09,
    "Extra spaces in version": _REQUEST_LINE,
    "[space] in URI": _REQUEST_LINE,
}

MAX_BODY = 8 * 1024 * 1024
CHUNKED_BODY = b"5\r\nhello\r\n0\r\n\r\n"
TIERS = ("Compliant", "Acceptable", "Ambiguous", "Severe")


def _text(value):
    return value.encode("utf-8") if isinstance(value, str) else str(value).encode("ascii")


def _load_cases():
    cases, seen = [], set()
    for path in sorted(SUITE.glob("*.yaml")):
        for index, case in enumerate(yaml.safe_load(path.read_bytes()) or []):
            assert case["expected"]["tier"] in TIERS, (path.name, case["name"])
            case_id = f"{path.stem}:{case['name']}"
            if case_id in seen:  # the suite repeats a few names within a file
                case_id = f"{case_id}#{index}"
            seen.add(case_id)
            case["id"] = case_id
            cases.append(case)
    return cases


CASES = _load_cases()


def test_the_whole_suite_is_here():
    counts = {tier: sum(c["expected"]["tier"] == tier for c in CASES) for tier in TIERS}
    assert len(CASES) == 159, counts
    assert all(counts.values()), counts
    names = {c["name"] for c in CASES if c["expected"]["tier"] == "Acceptable"}
    assert set(ACCEPTABLE_REFUSED) <= names, "a refused case is no longer in the suite"


# ---------------------------------------------------------------------------------------------
# Framing as RFC 9112 section 6 defines it (what the case asks for, and what the origin does).

def _codings(te_values):
    """Transfer-coding names (lower case, parameters dropped) of one or more Transfer-Encoding values."""
    names = []
    for value in te_values:
        for element in value.split(b","):
            names.append(element.split(b";")[0].strip(b" \t").lower())
    return names


def _nominal_body(headers):
    """The body the case's own framing calls for, or b"" when it names none we can send."""
    te = [v for n, v in headers if n.lower() == b"transfer-encoding"]
    cl = [v.strip(b" \t") for n, v in headers if n.lower() == b"content-length"]
    if te:
        return CHUNKED_BODY if _codings(te)[-1:] == [b"chunked"] else b""
    if len(cl) == 1 and cl[0].isdigit() and int(cl[0]) <= MAX_BODY:
        return b"x" * int(cl[0])
    return b""


# Header lines sent before the case's own, per layout (the `after-host` Host is filled in per port).
LAYOUTS = {
    "first": [],
    "after-host": [(b"Host", None)],
    "after-two": [(b"User-Agent", b"conformance/1"), (b"Accept", b"*/*")],
}


def build_request(case, port, layout="first"):
    """The case's raw bytes in `layout`, the body its framing asks for, and a pipelined follow-up
    request. Also returns every header line sent, in order, the layout's own first."""
    case_headers = [(_text(h["name"]), _text(h["value"])) for h in case.get("headers") or []]
    prefix = [(name, value if value is not None else b"127.0.0.1:%d" % port) for name, value in LAYOUTS[layout]]
    headers = prefix + case_headers
    target = b"http://127.0.0.1:%d" % port + _text(case["uri"])
    line = _text(case["method"]) + b" " + target
    if case["version"] != "":
        line += b" " + _text(case["version"])
    head = line + b"\r\n" + b"".join(n + b": " + v + b"\r\n" for n, v in headers) + b"\r\n"
    follow_up = (b"GET http://127.0.0.1:%d/__after__ HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                 b"Connection: close\r\n\r\n" % (port, port))
    return head + _nominal_body(headers), follow_up, headers


class FramingOrigin:
    """An HTTP/1.1 origin on 127.0.0.1:0 that records every byte per connection and frames request
    bodies by RFC 9112 section 6.3: a Transfer-Encoding whose final coding is chunked is chunked
    (extensions and parameters ignored), any other Transfer-Encoding gets 400 and a close, else
    Content-Length, else no body. Answers 200 "ok"; /__after__ answers with Connection: close."""

    def __init__(self):
        origin = self
        self.lock = threading.Lock()
        self.connections = []  # raw bytes received, per connection
        self.requests = []     # (request line, [(name, value)], body), names/values as bytes

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                record = bytearray()
                with origin.lock:
                    origin.connections.append(record)

                def readline():
                    line = self.rfile.readline(1 << 20)
                    with origin.lock:
                        record.extend(line)
                    return line

                def read(n):
                    data = self.rfile.read(n)
                    with origin.lock:
                        record.extend(data)
                    return data

                try:
                    while origin._serve_one(readline, read, self.wfile):
                        pass
                except (OSError, ValueError):
                    return

        class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        # A short poll: shutdown() waits for it, once per test.
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def _serve_one(self, readline, read, out):
        line = readline()
        if not line:
            return False
        headers = []
        while True:
            header = readline()
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.rstrip(b"\r\n").partition(b":")
            headers.append((name, value.strip(b" \t")))
        te = [v for n, v in headers if n.lower() == b"transfer-encoding"]
        cl = [v for n, v in headers if n.lower() == b"content-length"]
        body = b""
        if te:
            if _codings(te)[-1:] != [b"chunked"]:
                out.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                out.flush()
                return False
            while True:
                size = int(readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                body += read(size)
                readline()
        elif cl:
            body = read(int(cl[0]))
        with self.lock:
            self.requests.append((line.rstrip(b"\r\n"), headers, body))
        method = line.split(b" ")[0]
        close = b"/__after__" in line
        out.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + (b"Connection: close\r\n" if close else b"")
                  + b"\r\n" + (b"" if method == b"HEAD" else b"ok"))
        out.flush()
        return not close

    def received(self):
        with self.lock:
            return b"".join(bytes(c) for c in self.connections)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def exchange(port, data, timeout=10.0):
    """Sends `data` at once and reads until the proxy closes. Returns (bytes, closed); `closed` is
    False when `timeout` passed with the connection still open."""
    chunks = []
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        while time.monotonic() < deadline:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                return b"".join(chunks), False
            except ConnectionResetError:
                return b"".join(chunks), True
            if not chunk:
                return b"".join(chunks), True
            chunks.append(chunk)
    return b"".join(chunks), False


def parse_responses(data, methods):
    """Splits what the proxy sent into responses: [(status, {lower name: value}, body)]. `methods`
    are the request methods in order (a HEAD response has no body)."""
    responses = []
    for method in methods:
        if not data:
            break
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, f"incomplete response head: {data[:200]!r}"
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        # leakguard's own refusals carry a text body even to HEAD (it closes right after); an
        # origin's answer to HEAD has none.
        bodiless = method == b"HEAD" and status < 400
        length = 0 if bodiless else int(headers.get("content-length", len(rest)))
        responses.append((status, headers, rest[:length]))
        data = rest[length:]
    assert not data, f"bytes after the expected responses: {data[:200]!r}"
    return responses


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    running = start_leakguard(tmp_path_factory.mktemp("conformance"))
    yield running
    running.stop()


@pytest.fixture
def framing_origin():
    server = FramingOrigin()
    yield server
    server.close()


def _expected_upstream_headers(headers, port):
    """The header lines the origin should see: names exactly as sent (a name with whitespace before
    its colon is refused, never trimmed), values less surrounding whitespace, transfer-coding
    parameters dropped, Host from the target first."""
    expected = []
    for name, value in headers:
        value = value.strip(b" \t")
        if name.lower() == b"transfer-encoding" and b";" in value:
            value = b", ".join(e.split(b";")[0].strip(b" \t") for e in value.split(b","))
        expected.append((name, value))
    if not any(n.lower() == b"host" for n, _ in expected):
        expected.insert(0, (b"Host", b"127.0.0.1:%d" % port))
    return expected


def _decoded(body):
    if body == CHUNKED_BODY:
        return b"hello"
    return body


def _assert_refused(proxy_port, origin, data, case, allow_close_after_response=False):
    reply, closed = exchange(proxy_port, data)
    assert closed, f"connection left open after {reply[:120]!r}"
    responses = parse_responses(reply, [_text(case["method"])])
    assert len(responses) == 1, f"expected one answer, got {len(responses)}"
    status, headers, _ = responses[0]
    if status == 400:
        assert headers.get("connection", "").lower() == "close"
        assert origin.received() == b"", "the origin received bytes of a refused request"
    else:
        assert allow_close_after_response, f"expected 400, got {status}"
        # Forwarded, but the connection closed right after: the follow-up never reached the origin.
        assert b"/__after__" not in origin.received()


def _assert_forwarded(proxy_port, origin, data, case, sent_headers, body):
    reply, closed = exchange(proxy_port, data)
    method = _text(case["method"])
    responses = parse_responses(reply, [method, b"GET"])
    assert [r[0] for r in responses] == [200, 200], f"{reply[:300]!r}"
    assert closed
    assert len(origin.requests) == 2, origin.requests
    (line, headers, got_body), (after_line, _, _) = origin.requests
    uri = _text(case["uri"]) or b"/"
    version = b"HTTP/1.1" if case["version"] == "HTTP/1.2" else _text(case["version"])
    assert line == method + b" " + uri + b" " + version
    assert headers == _expected_upstream_headers(sent_headers, origin.port)
    assert got_body == _decoded(body)
    assert after_line == b"GET /__after__ HTTP/1.1"


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_desync_guardian_case(case, layout, proxy, framing_origin):
    request, follow_up, headers = build_request(case, framing_origin.port, layout)
    tier = case["expected"]["tier"]
    if tier == "Severe":
        _assert_refused(proxy.port, framing_origin, request + follow_up, case)
    elif tier == "Ambiguous":
        _assert_refused(proxy.port, framing_origin, request + follow_up, case, allow_close_after_response=True)
    elif tier == "Acceptable" and case["name"] in ACCEPTABLE_REFUSED:
        _assert_refused(proxy.port, framing_origin, request + follow_up, case)
    else:
        body = _nominal_body(headers)  # the layouts add no framing header
        _assert_forwarded(proxy.port, framing_origin, request + follow_up, case, headers, body)
