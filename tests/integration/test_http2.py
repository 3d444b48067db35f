"""HTTP/2 through TLS interception (issue 14), through the real binary: ALPN on both legs, several
streams on one connection (curl --http2 --parallel), per-stream inspection with the same `where`
names as HTTP/1.x, block and redact per stream, the `http` / `tls` events. Origins are real
(python3-h2 speaking only h2, nginx with http2) and record what they received, so "the origin never
saw a byte of the blocked stream" is checked on the origin's side.

The module is skipped while the binary under test does not intercept h2 (see h2_fixtures.py;
LEAKGUARD_REQUIRE_H2=1 makes that a failure). gRPC: test_grpc.py; hostile peers and flow
control: test_http2_hostile.py; h2c and nghttp through a redirect: test_http2_transparent.py."""

import gzip
import json
import os
import ssl
import subprocess

import pytest

from h2_client import H2Client, local_client, tls_through
from h2_fixtures import (IMEI, IMSI, h2_ca_dir, h2_origin, h2_pki, intercepting, leakguard_speaks_h2,  # noqa: F401
                         nginx_h2, wait_until)
from servers import HttpsOrigin

pytestmark = pytest.mark.usefixtures("leakguard_speaks_h2")

CLEAN_ENV = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
MASKED = "*" * len(IMEI)


@pytest.fixture
def https11_origin(h2_pki):
    """An origin that speaks HTTP/1.1 only (ALPN http/1.1), recording every decrypted byte."""
    origin = HttpsOrigin(str(h2_pki / "localhost.pem"), str(h2_pki / "localhost.key"))
    yield origin
    origin.close()


def h2_client(proxy, origin, h2_ca_dir, alpn=("h2",)):
    sock = tls_through(proxy, "localhost", origin.port, h2_ca_dir / "ca.pem", alpn)
    assert sock.selected_alpn_protocol() == "h2"
    return H2Client(sock, f"localhost:{origin.port}")


def alpn_sides(event):
    """(client leg, origin leg) ALPN of an `intercepted` tls event: `alpn` and `upstream_alpn`, as
    the lead's h2 path names them (issue 14: the event records the ALPN each side chose)."""
    return event.get("alpn"), event.get("upstream_alpn")


def intercepted_for(proxy, client):
    events = proxy.events("tls", wait_for=lambda e: any(x.get("client") == client for x in e))
    [event] = [e for e in events if e.get("client") == client]
    assert event["event"] == "intercepted", event
    return event


def http_events_of(proxy, flow, count):
    events = proxy.events("http", wait_for=lambda e: len([x for x in e if x["flow"] == flow]) >= count)
    return [e for e in events if e["flow"] == flow]


def findings_of(proxy, flow, count=1):
    events = proxy.events("finding", wait_for=lambda e: len([x for x in e if x["flow"] == flow]) >= count)
    return [e for e in events if e["flow"] == flow]


# --- ALPN on both legs


def test_a_client_offering_only_h2_is_intercepted_and_each_stream_is_an_exchange(intercepting, h2_origin, h2_ca_dir):
    origin = h2_origin()
    proxy = intercepting()
    client = h2_client(proxy, origin, h2_ca_dir)
    first = client.get("/hello?x=1", headers=[("user-agent", "okhttp/4.12.0")])
    second = client.get("/again")
    assert first.status == 200 and json.loads(first.body)["path"] == "/hello?x=1"
    assert second.status == 200 and json.loads(second.body)["path"] == "/again"
    assert origin.paths() == ["/hello?x=1", "/again"]
    assert origin.connections == 1  # both streams on one upstream h2 connection
    assert origin.refused_alpn == []

    intercepted = intercepted_for(proxy, local_client(client.sock))
    assert alpn_sides(intercepted) == ("h2", "h2")
    assert intercepted["transport"] == "https" and intercepted["sni"] == "localhost"
    http = http_events_of(proxy, intercepted["flow"], 2)
    assert [e["http_version"] for e in http] == ["2", "2"]
    assert [e["stream"] for e in http] == [1, 3]
    assert [e["url"] for e in http] == [f"https://localhost:{origin.port}/hello?x=1",
                                        f"https://localhost:{origin.port}/again"]
    assert all(e["status"] == 200 and e["transport"] == "https" for e in http)
    client.close()


def test_upstream_h2_refuses_server_push(intercepting, h2_origin, h2_ca_dir):
    origin = h2_origin()
    proxy = intercepting()
    client = h2_client(proxy, origin, h2_ca_dir)
    assert client.get("/").status == 200
    assert origin.client_settings, "the origin saw no SETTINGS from leakguard"
    assert origin.client_settings[0].get("enable_push") == 0  # SETTINGS_ENABLE_PUSH=0 towards the origin
    client.close()


def test_a_client_offering_h2_and_http11_to_an_h2_only_origin_gets_h2(intercepting, h2_origin, h2_ca_dir):
    """The issue's first failure: leakguard downgraded such clients and the h2-only origin's 502."""
    origin = h2_origin()
    proxy = intercepting()
    client = h2_client(proxy, origin, h2_ca_dir, alpn=("h2", "http/1.1"))
    assert client.get("/both").status == 200
    assert origin.paths() == ["/both"] and origin.refused_alpn == []
    assert alpn_sides(intercepted_for(proxy, local_client(client.sock))) == ("h2", "h2")
    client.close()


def test_an_http11_client_in_front_of_nginx_stays_http11(intercepting, nginx_h2, h2_ca_dir):
    """The origin is offered only what the client offered: no translation is needed either way."""
    proxy = intercepting()
    sock = tls_through(proxy, "localhost", nginx_h2.port, h2_ca_dir / "ca.pem", alpn=("http/1.1",))
    assert sock.selected_alpn_protocol() == "http/1.1"
    sock.sendall(b"GET /one HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"ok GET /one\n")
    [(_, protocol, _, uri, status)] = nginx_h2.log_lines(1)
    assert (protocol, uri, status) == ("HTTP/1.1", "/one", "200")
    intercepted = intercepted_for(proxy, local_client(sock))
    assert alpn_sides(intercepted) == ("http/1.1", "http/1.1")
    [http] = http_events_of(proxy, intercepted["flow"], 1)
    assert http["http_version"] == "1.1"
    sock.close()


@pytest.fixture
def alpn_refusing_origin(h2_pki):
    """OpenSSL's own server speaking only http/1.1: unlike Python's ssl module it answers an h2-only
    offer with a no_application_protocol alert. Yields its port (127.0.0.1, chosen by the kernel)."""
    server = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", str(h2_pki / "localhost.pem"),
                               "-key", str(h2_pki / "localhost.key"), "-alpn", "http/1.1", "-www"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port = None
    for line in server.stdout:  # ends at the ACCEPT line, or when the server exits
        if line.startswith("ACCEPT "):
            port = int(line.rsplit(":", 1)[1])
            break
    try:
        assert port, "openssl s_server did not start"
        yield port
    finally:
        server.kill()
        server.wait(timeout=10)


def test_an_origin_that_refuses_h2_refuses_the_h2_only_client_through_leakguard(intercepting, alpn_refusing_origin,
                                                                                  h2_ca_dir):
    """No translation (README, "TLS interception"): the origin's no_application_protocol alert is
    passed on to the phone, a `tls` event says why, and nothing is intercepted or passed through."""
    proxy = intercepting()
    with pytest.raises(ssl.SSLError, match="(?i)no.application.protocol"):
        tls_through(proxy, "localhost", alpn_refusing_origin, h2_ca_dir / "ca.pem", alpn=("h2",))
    events = proxy.events("tls", wait_for=lambda e: any(x["event"] == "upstream_handshake_failed" for x in e))
    assert [e for e in events if e["event"] in ("intercepted", "passthrough")] == []
    [failed] = [e for e in events if e["event"] == "upstream_handshake_failed"]
    assert "application protocol" in failed["reason"]


def test_an_h2_client_in_front_of_an_http11_only_origin(intercepting, https11_origin, h2_ca_dir):
    """No translation between h2 and HTTP/1.1 (README, "TLS interception"): the phone gets what the
    origin chose. This origin, like many servers, answers an h2-only offer with no ALPN at all (it
    does not refuse it), so the phone is given none either, exactly as without leakguard, and the
    HTTP/1.1 both then speak is intercepted as usual. (An origin that refuses the offer with a
    no_application_protocol alert is test_http2_hostile's case.) Passing the connection through
    undecrypted (the old `passthrough: alpn` bug) would fail here."""
    proxy = intercepting()
    sock = tls_through(proxy, "localhost", https11_origin.port, h2_ca_dir / "ca.pem", alpn=("h2",))
    assert sock.selected_alpn_protocol() is None
    sock.sendall(b"GET /mirrored?x=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and b'"path": "/mirrored?x=1"' in answer
    intercepted = intercepted_for(proxy, local_client(sock))
    assert alpn_sides(intercepted) == (None, None)
    [http] = http_events_of(proxy, intercepted["flow"], 1)
    assert http["http_version"] == "1.1" and http["status"] == 200
    sock.close()


@pytest.mark.parametrize("origin_kind", ["nginx", "h2-only"])
def test_curl_parallel_streams_share_one_intercepted_connection(intercepting, nginx_h2, h2_origin, h2_ca_dir,
                                                                origin_kind):
    """The issue's third failure: five multiplexed requests of one `curl --http2 --parallel` run."""
    port = nginx_h2.port if origin_kind == "nginx" else h2_origin().port
    proxy = intercepting()
    urls = [f"https://localhost:{port}/p{i}?n={i}" for i in range(5)]
    outputs = sum([["-o", "/dev/null", url] for url in urls], [])
    got = subprocess.run(["curl", "-sS", "--max-time", "20", "--http2", "--parallel", "--parallel-max", "5",
                          "-x", proxy.proxy_url, "--cacert", str(h2_ca_dir / "ca.pem"),
                          "-w", "%{http_code} %{http_version}\\n", *outputs],
                         capture_output=True, text=True, timeout=60, env=CLEAN_ENV)
    assert got.returncode == 0, got.stderr
    assert sorted(got.stdout.split("\n")[:5]) == ["200 2"] * 5, got.stdout
    [intercepted] = proxy.events("tls", wait_for=lambda e: e)
    assert intercepted["event"] == "intercepted" and alpn_sides(intercepted) == ("h2", "h2")
    http = http_events_of(proxy, intercepted["flow"], 5)
    assert sorted(e["url"].rsplit("/", 1)[1] for e in http) == [f"p{i}?n={i}" for i in range(5)]
    assert all(e["http_version"] == "2" for e in http) and len({e["stream"] for e in http}) == 5
    if origin_kind == "nginx":
        lines = nginx_h2.log_lines(5)
        assert len(lines) == 5 and {line[1] for line in lines} == {"HTTP/2.0"}
        assert len({line[0] for line in lines}) == 1  # one upstream connection carried all five


# --- Inspection: the same findings, with the same `where`, as the same request over HTTP/1.1

def http11_request(path, method, headers, body):
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost", "Connection: close",
             *[f"{k}: {v}" for k, v in headers]]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def findings_over_http11(proxy, origin, h2_ca_dir, path, method, headers, body):
    sock = tls_through(proxy, "localhost", origin.port, h2_ca_dir / "ca.pem", alpn=("http/1.1",))
    sock.sendall(http11_request(path, method, headers, body))
    while sock.recv(65536):
        pass
    flow = intercepted_for(proxy, local_client(sock))["flow"]
    http_events_of(proxy, flow, 1)  # the exchange is over; its findings were written before it
    sock.close()
    return [f for f in proxy.events("finding") if f["flow"] == flow]


def where_of(findings):
    return sorted((f["identifier"], f["where"], f["encoding"]) for f in findings)


JSON_BODY = json.dumps({"deviceId": IMEI, "model": "TA-1046"}).encode()
SPLIT = JSON_BODY.index(IMEI.encode()) + 7  # the IMEI's digits fall into two DATA frames
LEAKS = {
    "header": ("/api/v1/ping", "GET", [("x-device-imei", IMEI)], []),
    "query": (f"/api/v1/ping?imei={IMEI}&ver=3", "GET", [], []),
    "cookie": ("/feed", "GET", [("cookie", "theme=dark"), ("cookie", f"imsi={IMSI}")], []),
    "data": ("/register", "POST", [("content-type", "application/json")], [JSON_BODY]),
    "data split across frames": ("/register", "POST", [("content-type", "application/json")],
                                 [JSON_BODY[:SPLIT], JSON_BODY[SPLIT:]]),
    "gzip body": ("/upload", "POST", [("content-type", "application/json"), ("content-encoding", "gzip")],
                  [gzip.compress(JSON_BODY)]),
}


@pytest.mark.parametrize("case", list(LEAKS))
def test_a_leak_in_a_stream_is_found_where_http11_finds_it(intercepting, h2_origin, https11_origin, h2_ca_dir, case):
    path, method, headers, chunks = LEAKS[case]
    origin = h2_origin()
    proxy = intercepting()
    # HTTP/1.x has one Cookie header: h2's cookie crumbs are joined with "; " (RFC 9113 8.2.3).
    h1_headers = headers if case != "cookie" else [("cookie", "; ".join(v for k, v in headers if k == "cookie"))]
    expected = where_of(findings_over_http11(proxy, https11_origin, h2_ca_dir, path, method, h1_headers,
                                             b"".join(chunks)))
    assert expected, f"HTTP/1.1 found nothing in the {case} case: the case is wrong"

    client = h2_client(proxy, origin, h2_ca_dir)
    answer = client.wait([client.request(path, method, headers, chunks)])
    assert [r.status for r in answer.values()] == [200]
    flow = intercepted_for(proxy, local_client(client.sock))["flow"]
    found = findings_of(proxy, flow, len(expected))
    assert where_of(found) == expected
    assert all(f["action"] == "logged" and f["transport"] == "https" for f in found)
    [http] = http_events_of(proxy, flow, 1)
    assert http["http_version"] == "2" and http["stream"] == 1
    # Log mode forwards the stream as sent.
    [received] = origin.requests()
    assert received.body == b"".join(chunks) and received.path == path
    assert IMEI not in proxy.events_path.read_text() and IMSI not in proxy.events_path.read_text()
    client.close()


def test_trailers_are_inspected(intercepting, h2_origin, h2_ca_dir):
    origin = h2_origin()
    proxy = intercepting()
    client = h2_client(proxy, origin, h2_ca_dir)
    stream_id = client.start("/upload", "POST", [("content-type", "application/octet-stream")], end_stream=False)
    client.send_data(stream_id, b"payload")
    client.conn.send_headers(stream_id, [("x-device-imei", IMEI)], end_stream=True)
    client._flush()
    assert client.wait([stream_id])[stream_id].status == 200
    flow = intercepted_for(proxy, local_client(client.sock))["flow"]
    [finding] = findings_of(proxy, flow)
    assert finding["identifier"] == "imei"
    client.close()


# --- Block and redact, stream by stream


def test_block_refuses_only_the_leaking_streams_and_the_origin_never_sees_them(intercepting, h2_origin, h2_ca_dir):
    origin = h2_origin()
    proxy = intercepting(mode="block")
    client = h2_client(proxy, origin, h2_ca_dir)
    clean_get = client.start("/clean-get?lang=en")
    leaky_body = client.start("/leaky-body", "POST", [("content-type", "application/json")], end_stream=False)
    leaky_header = client.start("/leaky-header", headers=[("x-device-imei", IMEI)])
    clean_post = client.start("/clean-post", "POST", [("content-type", "application/json")], end_stream=False)
    # The leaking body arrives in two DATA frames, interleaved with a clean stream's body.
    client.send_data(leaky_body, JSON_BODY[:SPLIT])
    client.send_data(clean_post, b'{"model": "TA-1046"}', end_stream=True)
    client.send_data(leaky_body, JSON_BODY[SPLIT:], end_stream=True)
    answers = client.wait([clean_get, leaky_body, leaky_header, clean_post])

    assert answers[clean_get].status == 200 and answers[clean_post].status == 200
    for stream_id in (leaky_body, leaky_header):
        assert answers[stream_id].status == 403, answers[stream_id]
        assert b"imei" in answers[stream_id].body  # the reason, as HTTP/1.x's 403 gives it
    assert sorted(origin.paths()) == ["/clean-get?lang=en", "/clean-post"]  # not even their HEADERS
    assert not origin.seen(IMEI.encode()) and not origin.seen(b"leaky")
    assert json.loads(answers[clean_post].body)["body"] == '{"model": "TA-1046"}'

    flow = intercepted_for(proxy, local_client(client.sock))["flow"]
    found = findings_of(proxy, flow, 2)
    assert {f["action"] for f in found} == {"blocked"} and {f["identifier"] for f in found} == {"imei"}
    http = http_events_of(proxy, flow, 4)
    assert sorted((e["stream"], e["status"]) for e in http) == [(clean_get, 200), (leaky_body, 403),
                                                                 (leaky_header, 403), (clean_post, 200)]
    # The connection goes on after the refusals.
    assert client.get("/after").status == 200
    client.close()


LIMITS = {"max_inspect_bytes": 65536}
BIG_CLEAN_BODY = b"model=TA-1046&" + b"x" * (200 << 10)


def test_oversize_block_refuses_only_that_stream(intercepting, h2_origin, h2_ca_dir):
    """A stream body larger than limits.max_inspect_bytes in block mode with `oversize: block`:
    HTTP/1.x answers 403 and closes; in h2 only that stream is refused, the connection goes on."""
    origin = h2_origin()
    proxy = intercepting(mode="block", oversize="block", limits=LIMITS)
    client = h2_client(proxy, origin, h2_ca_dir)
    big = client.start("/big-upload", "POST", [("content-type", "application/x-www-form-urlencoded")],
                       end_stream=False)
    client.send_body(big, BIG_CLEAN_BODY)
    refused = client.wait([big])[big]
    assert refused.status == 403 and b"max_inspect_bytes" in refused.body
    assert client.get("/small").status == 200
    assert origin.paths() == ["/small"]
    client.close()


def test_oversize_log_forwards_the_stream_and_says_so(intercepting, h2_origin, h2_ca_dir):
    origin = h2_origin()
    proxy = intercepting(mode="block", oversize="log", limits=LIMITS)
    client = h2_client(proxy, origin, h2_ca_dir)
    big = client.start("/big-upload", "POST", [("content-type", "application/x-www-form-urlencoded")],
                       end_stream=False)
    assert client.send_body(big, BIG_CLEAN_BODY)
    assert client.wait([big])[big].status == 200
    [received] = origin.requests()
    assert received.body == BIG_CLEAN_BODY
    [oversize] = proxy.events("oversize", wait_for=lambda e: e)
    assert oversize["inspected_bytes"] == LIMITS["max_inspect_bytes"] and oversize["url"].endswith("/big-upload")
    client.close()


def test_redact_masks_a_header_value_and_a_body_in_place(intercepting, h2_origin, h2_ca_dir):
    origin = h2_origin()
    proxy = intercepting(rules=[{"name": "mask-ids", "action": "redact"}])
    client = h2_client(proxy, origin, h2_ca_dir)
    answer = client.get("/activate", method="POST",
                        headers=[("x-device-imei", IMEI), ("content-type", "application/json"),
                                 ("content-length", str(len(JSON_BODY)))], chunks=[JSON_BODY])
    assert answer.status == 200
    [received] = origin.requests()
    assert received.header("x-device-imei") == MASKED
    assert received.body == JSON_BODY.replace(IMEI.encode(), MASKED.encode())
    assert received.header("content-length") == str(len(JSON_BODY))
    assert not origin.seen(IMEI.encode())
    flow = intercepted_for(proxy, local_client(client.sock))["flow"]
    assert {f["action"] for f in findings_of(proxy, flow, 2)} == {"redacted"}
    client.close()


def test_a_client_reset_reaches_the_origin(intercepting, h2_origin, h2_ca_dir):
    """RST_STREAM is propagated: a cancelled upload does not stay open at the origin."""
    origin = h2_origin()
    proxy = intercepting()
    client = h2_client(proxy, origin, h2_ca_dir)
    stream_id = client.start("/upload", "POST", end_stream=False)
    client.send_data(stream_id, b"first part")
    assert wait_until(lambda: origin.paths() == ["/upload"]), "the origin never got the upload's HEADERS"
    client.conn.reset_stream(stream_id, error_code=8)  # CANCEL
    client._flush()
    assert client.get("/after").status == 200  # the connection goes on
    [record] = [r for r in origin.requests() if r.path == "/upload"]
    assert record.reset is not None and not record.ended
    client.close()


def test_the_report_counts_h2_connections_as_decrypted(intercepting, h2_origin, h2_ca_dir):
    from test_report import report
    origin = h2_origin()
    proxy = intercepting()
    for _ in range(2):
        client = h2_client(proxy, origin, h2_ca_dir)
        answers = client.wait([client.request("/clean"), client.request(f"/ping?imei={IMEI}")])
        assert [a.status for a in answers.values()] == [200, 200]
        client.close()
    proxy.events("conn", wait_for=lambda e: sum(1 for x in e if x.get("event") == "close") >= 2)
    proxy.stop()
    got = report("--format", "json", proxy.events_path)
    assert got.returncode == 0, got.stderr
    data = json.loads(got.stdout)
    [device] = [d for d in data["devices"] if d["device"] == "lab-phone"]
    assert device["coverage"]["connections"] == 2 and device["coverage"]["decrypted"] == 2
    [leak] = [r for r in data["leaks"] if r["identifier"] == "imei"]
    assert leak["count"] == 2 and leak["device"] == "lab-phone"
