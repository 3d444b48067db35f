"""gRPC through TLS interception (issue 14): a real python3-grpcio client and server (generic
handlers on raw bytes), through leakguard's CONNECT, in log and block mode. Each gRPC message is a
buffer of the decoded view, so an identifier inside it is found; in block mode the call is answered
by leakguard with a trailers-only `grpc-status: 7` naming the identifier kinds, and the server's
record shows the call never reached it, while other calls on the same connection go on.
Skipped while the binary does not intercept h2 (h2_fixtures.py)."""

import grpc
import pytest

from h2_client import H2Client, tls_through
from h2_fixtures import (IMEI, IMSI, grpc_origin, h2_ca_dir, h2_origin, h2_pki, intercepting,  # noqa: F401
                         leakguard_speaks_h2)
from h2_servers import grpc_frame
from servers import HttpsOrigin

pytestmark = pytest.mark.usefixtures("leakguard_speaks_h2")

# A protobuf message by hand (field 1, a string): what a device-check-in RPC carries.
LEAKY_MESSAGE = b"\x0a\x0f" + IMEI.encode() + b"\x12\x07TA-1046"
CLEAN_MESSAGE = b"\x12\x07TA-1046"


def channel_through(proxy, origin, h2_ca_dir, **kwargs):
    credentials = grpc.ssl_channel_credentials(root_certificates=(h2_ca_dir / "ca.pem").read_bytes())
    return grpc.secure_channel(f"localhost:{origin.port}", credentials,
                               options=[("grpc.http_proxy", proxy.proxy_url), ("grpc.enable_http_proxy", 1)], **kwargs)


def intercepted(proxy, count=1):
    events = proxy.events("tls", wait_for=lambda e: len(e) >= count)
    assert all(e["event"] == "intercepted" for e in events), events
    return events


def test_log_mode_finds_identifiers_in_messages_and_metadata(intercepting, grpc_origin, h2_ca_dir):
    proxy = intercepting()
    with channel_through(proxy, grpc_origin, h2_ca_dir) as channel:
        echo = channel.unary_unary("/lab.Device/Echo")
        answer, call = echo.with_call(LEAKY_MESSAGE, metadata=(("x-device-imsi", IMSI),), timeout=10)
        assert answer == LEAKY_MESSAGE
        assert ("x-origin", "grpc-lab") in [(m.key, m.value) for m in call.trailing_metadata()]
    [(method, metadata, request)] = grpc_origin.calls
    assert method == "/lab.Device/Echo" and request == LEAKY_MESSAGE and metadata["x-device-imsi"] == IMSI
    [tls] = intercepted(proxy)
    found = proxy.events("finding", wait_for=lambda e: len(e) >= 2)
    assert {f["identifier"] for f in found} == {"imei", "imsi"}
    assert all(f["flow"] == tls["flow"] and f["action"] == "logged" for f in found)
    [imsi] = [f for f in found if f["identifier"] == "imsi"]
    assert imsi["where"] == "header:x-device-imsi"
    [http] = proxy.events("http", wait_for=lambda e: e)
    assert http["http_version"] == "2" and http["url"].endswith("/lab.Device/Echo") and http["status"] == 200
    assert IMEI not in proxy.events_path.read_text()


def test_a_compressed_message_is_decoded_and_inspected(intercepting, grpc_origin, h2_ca_dir):
    """grpc-encoding: gzip, and the message's compressed flag set."""
    proxy = intercepting()
    with channel_through(proxy, grpc_origin, h2_ca_dir, compression=grpc.Compression.Gzip) as channel:
        assert channel.unary_unary("/lab.Device/Echo")(LEAKY_MESSAGE, timeout=10) == LEAKY_MESSAGE
    [finding] = proxy.events("finding", wait_for=lambda e: e)
    assert finding["identifier"] == "imei"


def test_a_status_from_the_server_passes_through(intercepting, grpc_origin, h2_ca_dir):
    proxy = intercepting()
    with channel_through(proxy, grpc_origin, h2_ca_dir) as channel:
        with pytest.raises(grpc.RpcError) as refused:
            channel.unary_unary("/lab.Device/Fail")(CLEAN_MESSAGE, timeout=10)
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND and refused.value.details() == "no such device"
    assert [c[0] for c in grpc_origin.calls] == ["/lab.Device/Fail"]


def test_block_mode_refuses_the_leaking_call_and_the_next_call_goes_on(intercepting, grpc_origin, h2_ca_dir):
    proxy = intercepting(mode="block")
    with channel_through(proxy, grpc_origin, h2_ca_dir) as channel:
        echo = channel.unary_unary("/lab.Device/Echo")
        assert echo(CLEAN_MESSAGE, timeout=10) == CLEAN_MESSAGE
        with pytest.raises(grpc.RpcError) as refused:
            echo(LEAKY_MESSAGE, timeout=10)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED  # grpc-status 7
        assert "imei" in refused.value.details()
        assert echo(CLEAN_MESSAGE, timeout=10) == CLEAN_MESSAGE
    assert [c[2] for c in grpc_origin.calls] == [CLEAN_MESSAGE, CLEAN_MESSAGE]  # never the leaking call
    [tls] = intercepted(proxy)  # all three calls on one connection
    found = proxy.events("finding", wait_for=lambda e: e)
    assert {(f["identifier"], f["action"], f["flow"]) for f in found} == {("imei", "blocked", tls["flow"])}


def test_the_block_answer_is_trailers_only(intercepting, h2_origin, h2_ca_dir):
    """What a gRPC client expects of a refusal: one HEADERS frame with END_STREAM carrying :status
    200, content-type application/grpc, grpc-status 7 and a grpc-message; no DATA."""
    origin = h2_origin()
    proxy = intercepting(mode="block")
    sock = tls_through(proxy, "localhost", origin.port, h2_ca_dir / "ca.pem")
    client = H2Client(sock, f"localhost:{origin.port}")
    grpc_headers = [("content-type", "application/grpc"), ("te", "trailers")]
    refused = client.get("/lab.Device/Echo", method="POST", headers=grpc_headers, chunks=[grpc_frame(LEAKY_MESSAGE)])
    assert refused.status == 200 and refused.body == b"" and refused.trailers == [] and refused.ended
    assert refused.header("content-type").startswith("application/grpc")
    assert refused.header("grpc-status") == "7" and "imei" in refused.header("grpc-message")
    answered = client.get("/lab.Device/Echo", method="POST", headers=grpc_headers, chunks=[grpc_frame(CLEAN_MESSAGE)])
    assert answered.body == grpc_frame(CLEAN_MESSAGE) and answered.header("grpc-status") == "0"
    assert [r.body for r in origin.requests()] == [grpc_frame(CLEAN_MESSAGE)]
    client.close()


def test_grpc_web_over_http11_is_inspected_like_grpc(intercepting, grpc_origin, h2_pki, h2_ca_dir):
    """The issue: gRPC-web over HTTP/1.1 goes the same way; the same message gives the same
    findings, `where` included."""
    web_origin = HttpsOrigin(str(h2_pki / "localhost.pem"), str(h2_pki / "localhost.key"))
    try:
        proxy = intercepting()
        with channel_through(proxy, grpc_origin, h2_ca_dir) as channel:
            channel.unary_unary("/lab.Device/Echo")(LEAKY_MESSAGE, timeout=10)
        over_h2 = proxy.events("finding", wait_for=lambda e: e)
        body = grpc_frame(LEAKY_MESSAGE)
        sock = tls_through(proxy, "localhost", web_origin.port, h2_ca_dir / "ca.pem", alpn=("http/1.1",))
        sock.sendall(b"POST /lab.Device/Echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                     b"Content-Type: application/grpc-web+proto\r\nX-Grpc-Web: 1\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)
        while sock.recv(65536):
            pass
        sock.close()
        everything = proxy.events("finding", wait_for=lambda e: len(e) >= 2 * len(over_h2))
        over_web = everything[len(over_h2):]
        key = lambda findings: sorted((f["identifier"], f["where"], f["encoding"]) for f in findings)  # noqa: E731
        assert key(over_web) == key(over_h2) and key(over_h2)
        assert web_origin.received().endswith(body)  # log mode: forwarded as sent
    finally:
        web_origin.close()
