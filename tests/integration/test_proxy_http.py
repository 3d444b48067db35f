"""The proxy core through the real binary: explicit HTTP proxying (absolute-form, CONNECT),
keep-alive, pipelining, chunked bodies, streaming, WebSocket upgrade, and every bad-input answer
with proof that the origin received nothing."""

import json
import os
import signal
import socket
import subprocess
import time

import pytest

from servers import RecordingOrigin, raw_exchange


def curl(*args, timeout=60):
    result = subprocess.run(["curl", "-sS", "--noproxy", "", *args], capture_output=True, timeout=timeout)
    return result


def read_responses(sock, count, timeout=5.0):
    """Reads `count` HTTP responses (Content-Length framed) from a socket."""
    sock.settimeout(timeout)
    reader = sock.makefile("rb")
    from servers import read_http_message
    responses = []
    for _ in range(count):
        message = read_http_message(reader, is_request=False)
        assert message is not None, f"connection closed after {len(responses)} responses"
        responses.append(message)
    return responses


def test_explicit_get_and_post_in_absolute_form(leakguard_factory, origin):
    proxy = leakguard_factory()
    url = f"http://127.0.0.1:{origin.port}/hello?x=1"
    got = curl("-x", proxy.proxy_url, url)
    assert got.returncode == 0, got.stderr
    answer = json.loads(got.stdout)
    assert answer["method"] == "GET"
    assert answer["path"] == "/hello?x=1"  # absolute-form became origin-form
    assert not any(name.lower() == "proxy-connection" for name, _ in answer["headers"])

    got = curl("-x", proxy.proxy_url, "--data-binary", "a=1&b=2", url)
    assert got.returncode == 0, got.stderr
    answer = json.loads(got.stdout)
    assert answer["method"] == "POST" and answer["body"] == "a=1&b=2"

    http = proxy.events("http", wait_for=lambda e: len(e) >= 2)
    assert [e["method"] for e in http] == ["GET", "POST"]
    assert all(e["status"] == 200 for e in http)
    assert http[0]["url"] == url
    assert http[0]["dst"]["port"] == origin.port


def test_request_head_keeps_header_order_and_case(leakguard_factory, origin):
    proxy = leakguard_factory()
    request = (f"GET http://127.0.0.1:{origin.port}/h HTTP/1.1\r\nHost: 127.0.0.1:{origin.port}\r\n"
               "X-First: 1\r\nx-MiXeD-CaSe: 2\r\nProxy-Connection: keep-alive\r\nConnection: close\r\n\r\n").encode()
    reply = raw_exchange(proxy.port, request)
    assert reply.startswith(b"HTTP/1.1 200")
    received = origin.received()
    assert b"GET /h HTTP/1.1\r\n" in received
    assert received.index(b"X-First: 1") < received.index(b"x-MiXeD-CaSe: 2")
    assert b"Proxy-Connection" not in received


def test_connect_tunnel(leakguard_factory, origin):
    proxy = leakguard_factory()
    got = curl("-p", "-x", proxy.proxy_url, f"http://127.0.0.1:{origin.port}/tunnelled")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["path"] == "/tunnelled"
    # Inside the tunnel the stream is sniffed again: the HTTP request is seen as an exchange.
    http = proxy.events("http", wait_for=lambda e: len(e) >= 1)
    assert http and http[0]["url"].endswith("/tunnelled")


def test_keep_alive_serves_several_requests_on_one_connection(leakguard_factory, origin):
    proxy = leakguard_factory()
    urls = [f"http://127.0.0.1:{origin.port}/k{i}" for i in range(4)]
    got = curl("-x", proxy.proxy_url, *urls)
    assert got.returncode == 0, got.stderr
    assert got.stdout.count(b'"method": "GET"') == 4
    assert len(origin.connections) == 1, "the proxy should reuse its upstream connection"
    proxy.stop()
    opens = [e for e in proxy.events("conn") if e["event"] == "open"]
    assert len(opens) == 1


def test_three_pipelined_requests(leakguard_factory, origin):
    proxy = leakguard_factory()
    base = f"http://127.0.0.1:{origin.port}"
    batch = b"".join(
        f"GET {base}/p{i} HTTP/1.1\r\nHost: 127.0.0.1:{origin.port}\r\n\r\n".encode() for i in range(3))
    with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
        sock.sendall(batch)  # all three before any answer
        responses = read_responses(sock, 3)
    paths = [json.loads(body)["path"] for _, _, body, _ in responses]
    assert paths == ["/p0", "/p1", "/p2"]


def test_chunked_request_and_response(leakguard_factory, origin):
    proxy = leakguard_factory()
    request = (f"POST http://127.0.0.1:{origin.port}/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
               "Connection: close\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n").encode()
    reply = raw_exchange(proxy.port, request)
    assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["body"] == "Wikipedia"
    # The chunk framing reaches the origin as the client sent it.
    assert b"4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n" in origin.received()

    got = curl("-x", proxy.proxy_url, "-D", "-", f"http://127.0.0.1:{origin.port}/chunked")
    assert got.returncode == 0
    assert b"transfer-encoding: chunked" in got.stdout.lower()
    assert got.stdout.endswith(b"hello world")


def test_head_and_expect_continue(leakguard_factory, origin):
    proxy = leakguard_factory()
    url = f"http://127.0.0.1:{origin.port}/head"
    # HEAD answers carry Content-Length but no body: the next response must still line up.
    got = curl("-x", proxy.proxy_url, "-I", url, "-o", "/dev/null", url)
    assert got.returncode == 0, got.stderr
    # curl sends Expect: 100-continue for a body over 1 MiB and waits for the origin's answer.
    body = b"e" * (2 * 1024 * 1024)
    got = subprocess.run(
        ["curl", "-sS", "-x", proxy.proxy_url, "-H", "Expect: 100-continue", "--data-binary", "@-", url],
        input=body, capture_output=True, timeout=60)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["body_length"] == len(body)


@pytest.mark.slow
def test_fifty_megabytes_stream_with_bounded_memory(leakguard_factory, origin, tmp_path):
    proxy = leakguard_factory()
    size = 50 * 1024 * 1024
    before = proxy.rss_kib(peak=True)
    got = curl("-x", proxy.proxy_url, "-o", "/dev/null", "-w", "%{size_download}",
               f"http://127.0.0.1:{origin.port}/big?n={size}")
    assert got.returncode == 0, got.stderr
    assert int(got.stdout) == size
    upload = tmp_path / "upload.bin"
    with open(upload, "wb") as f:
        f.truncate(size)
    got = curl("-x", proxy.proxy_url, "--data-binary", f"@{upload}", f"http://127.0.0.1:{origin.port}/up")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["body_length"] == size
    grown = proxy.rss_kib(peak=True) - before
    # 100 MB went through; a streaming proxy holds a few buffers, never the body.
    assert grown < 16 * 1024, f"peak RSS grew by {grown} KiB"


def test_websocket_upgrade_becomes_raw_relay(leakguard_factory, origin):
    proxy = leakguard_factory()
    request = (f"GET http://127.0.0.1:{origin.port}/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(request)
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 101")
        sock.sendall(b"\x81\x05hello")  # not HTTP: must pass untouched
        echoed = b""
        while len(echoed) < len(b"echo:\x81\x05hello"):
            echoed += sock.recv(4096)
        assert echoed == b"echo:\x81\x05hello"


def test_malformed_request_gets_400_and_origin_gets_nothing(leakguard_factory, origin):
    proxy = leakguard_factory()
    bad = f"GET http://127.0.0.1:{origin.port}/x HTTP/1.1\r\nHost: a\r\nBad Header: y\r\n\r\n".encode()
    reply = raw_exchange(proxy.port, bad)
    assert reply.startswith(b"HTTP/1.1 400 ")
    assert b"Connection: close" in reply
    assert origin.received() == b""
    errors = proxy.events("error", wait_for=lambda e: e)
    assert errors[0]["error"] == "bad_request" and errors[0]["status"] == 400


def test_smuggling_shape_is_refused(leakguard_factory, origin):
    proxy = leakguard_factory()
    smuggle = (f"POST http://127.0.0.1:{origin.port}/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
               "Content-Length: 6\r\n\r\nhello!").encode()
    reply = raw_exchange(proxy.port, smuggle)
    assert reply.startswith(b"HTTP/1.1 400 ")
    assert origin.received() == b""


def test_header_section_over_limit_gets_431(leakguard_factory, origin):
    proxy = leakguard_factory({"limits": {"max_header_bytes": 4096}})
    big = (f"GET http://127.0.0.1:{origin.port}/x HTTP/1.1\r\nHost: a\r\nX-Big: {'a' * 8000}\r\n\r\n").encode()
    reply = raw_exchange(proxy.port, big)
    assert reply.startswith(b"HTTP/1.1 431 ")
    assert origin.received() == b""
    assert proxy.events("error", wait_for=lambda e: e)[0]["status"] == 431


def test_upstream_refused_gets_502(leakguard_factory):
    proxy = leakguard_factory()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    got = curl("-x", proxy.proxy_url, "-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{port}/")
    assert got.stdout == b"502"
    errors = proxy.events("error", wait_for=lambda e: e)
    assert errors[0]["error"] == "upstream_unreachable"

    # To HEAD the answer is a head only: a body would be read as the start of the next response.
    reply = raw_exchange(proxy.port, f"HEAD http://127.0.0.1:{port}/ HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert reply.startswith(b"HTTP/1.1 502 ") and b"\r\nContent-Length: " in reply
    assert reply.endswith(b"\r\n\r\n"), reply
    # A malformed HEAD gets its 400 the same way.
    reply = raw_exchange(proxy.port, b"HEAD http://127.0.0.1:1/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400 ") and reply.endswith(b"\r\n\r\n"), reply


def test_upstream_connect_timeout_gets_504(leakguard_factory):
    proxy = leakguard_factory({"limits": {"connect_timeout_ms": 300}})
    # A listener that never accepts, with its backlog full: the kernel drops further SYNs, so a
    # connect neither succeeds nor fails until the proxy's timer fires.
    stuck = socket.socket()
    stuck.bind(("127.0.0.1", 0))
    stuck.listen(0)
    fillers = []
    for _ in range(4):
        f = socket.socket()
        f.setblocking(False)
        f.connect_ex(stuck.getsockname())
        fillers.append(f)
    try:
        got = curl("-x", proxy.proxy_url, "-o", "/dev/null", "-w", "%{http_code}",
                   f"http://127.0.0.1:{stuck.getsockname()[1]}/")
        assert got.stdout == b"504"
        assert any(e["error"] == "upstream_timeout" for e in proxy.events("error", wait_for=lambda e: e))
    finally:
        for f in fillers:
            f.close()
        stuck.close()


def test_client_outside_allow_list_is_refused(leakguard_factory, origin):
    proxy = leakguard_factory({"clients": {"allow": ["10.99.0.0/16"]}})
    got = curl("-x", proxy.proxy_url, f"http://127.0.0.1:{origin.port}/")
    assert got.returncode != 0
    assert origin.received() == b""
    assert proxy.events("error", wait_for=lambda e: e)[0]["error"] == "client_refused"


def test_request_to_own_address_is_a_loop(leakguard_factory):
    proxy = leakguard_factory()
    got = curl("-x", proxy.proxy_url, "-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{proxy.port}/")
    assert got.stdout == b"508"


def test_graceful_shutdown_finishes_the_exchange_in_flight(leakguard_factory, origin):
    proxy = leakguard_factory()
    size = 20 * 1024 * 1024
    download = subprocess.Popen(["curl", "-sS", "--limit-rate", "20M", "-x", proxy.proxy_url, "-o", "/dev/null",
                                 "-w", "%{size_download}", f"http://127.0.0.1:{origin.port}/big?n={size}"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # The response is in flight and the slow client holds the proxy's write back (its buffers are full).
    deadline = time.monotonic() + 10
    while origin.big_bytes_sent < 8 * 1024 * 1024 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert origin.big_bytes_sent >= 8 * 1024 * 1024
    proxy.process.send_signal(signal.SIGTERM)
    out, err = download.communicate(timeout=30)
    assert int(out) == size, err
    assert proxy.process.wait(timeout=10) == 0
    closes = [e for e in proxy.events("conn") if e.get("event") == "close"]
    assert closes, "the close event was flushed before exit"



def test_a_keep_alive_connection_ending_after_its_responses_is_no_error(leakguard_factory, origin):
    proxy = leakguard_factory()
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as client:
            client.sendall(f"GET http://127.0.0.1:{origin.port}/ok HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            reply = b""
            while b"\r\n\r\n" not in reply or not reply.endswith(b"}"):
                reply += client.recv(65536)
        # The client leaves with every response received; the proxy then closes the upstream.
    proxy.events("conn", wait_for=lambda e: len([c for c in e if c.get("event") == "close"]) >= 5)
    proxy.events("http", wait_for=lambda e: len(e) >= 5)
    assert proxy.events("error") == []
