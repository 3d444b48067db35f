"""The HTTP/2 test peers themselves (h2_servers.py, h2_client.py), without leakguard: so that when
an h2 test through leakguard fails, the failure is leakguard's. These run whatever the binary
speaks; the h2 tests through leakguard are test_http2*.py and test_grpc.py."""

import socket
import ssl
import subprocess

import grpc
import hpack
import pytest
from hyperframe.frame import GoAwayFrame, HeadersFrame, PingFrame

from h2_client import H2Client, RawH2
from h2_fixtures import grpc_origin, h2_origin, h2_pki, nginx_h2  # noqa: F401
from h2_servers import grpc_frame


def direct(origin, h2_pki, alpn=("h2",)):
    context = ssl.create_default_context(cafile=str(h2_pki / "origin-ca.pem"))
    context.set_alpn_protocols(list(alpn))
    return context.wrap_socket(socket.create_connection(("127.0.0.1", origin.port), timeout=10),
                               server_hostname="localhost")


def test_the_h2_origin_records_each_stream_and_its_data_frames(h2_origin, h2_pki):
    origin = h2_origin()
    client = H2Client(direct(origin, h2_pki), f"localhost:{origin.port}")
    get = client.request("/a?x=1", headers=[("x-one", "1")])
    post = client.request("/post", "POST", chunks=[b"hello ", b"world"])
    rpc = client.request("/lab.Device/Echo", "POST", [("content-type", "application/grpc")], [grpc_frame(b"msg")])
    answers = client.wait([get, post, rpc])
    assert [answers[s].status for s in (get, post, rpc)] == [200, 200, 200]
    assert answers[rpc].body == grpc_frame(b"msg") and answers[rpc].trailers[0] == ("grpc-status", "0")
    assert origin.paths() == ["/a?x=1", "/post", "/lab.Device/Echo"]
    assert origin.requests()[1].data_frames == [b"hello ", b"world"]
    assert origin.requests()[0].header("x-one") == "1"
    assert origin.seen(b"world") and not origin.seen(b"absent")
    assert origin.client_settings and origin.connections == 1
    client.close()


def test_the_h2_origin_speaks_only_h2(h2_origin, h2_pki):
    origin = h2_origin()
    with direct(origin, h2_pki, alpn=("http/1.1",)) as sock:
        assert sock.selected_alpn_protocol() is None
        assert sock.recv(100) == b""  # closed without a byte
    assert origin.refused_alpn == [None] and origin.requests() == []


def test_the_h2_origin_waits_on_a_closed_window(h2_origin, h2_pki):
    origin = h2_origin()
    client = H2Client(direct(origin, h2_pki), f"localhost:{origin.port}", give_window=False)
    stream_id = client.start("/big?n=1000000")
    client.wait([stream_id], timeout=1)
    assert origin.blocked.is_set() and origin.big_bytes_sent == 65535  # the default initial window
    client.give_window = True
    client.conn.acknowledge_received_data(len(client.responses[stream_id].body), stream_id)
    client._flush()
    assert len(client.wait([stream_id])[stream_id].body) == 1000000
    client.close()


def test_raw_frames_round_trip(h2_origin, h2_pki):
    origin = h2_origin()
    raw = RawH2(direct(origin, h2_pki))
    block = raw.request_block(f"localhost:{origin.port}", "/raw")
    sent = raw.flood(PingFrame(0, opaque_data=b"abcdefgh").serialize()
                     + HeadersFrame(1, block, flags=["END_HEADERS", "END_STREAM"]).serialize())
    outcome = raw.outcome(sent, timeout=1)  # the origin keeps the connection open: read for a second
    assert outcome.sent_all and not outcome.closed
    kinds = [type(f).__name__ for f in outcome.frames]
    assert "SettingsFrame" in kinds and "HeadersFrame" in kinds and "DataFrame" in kinds
    assert any(isinstance(f, PingFrame) and "ACK" in f.flags for f in outcome.frames)
    assert origin.paths() == ["/raw"]
    outcome = raw.outcome(raw.flood(GoAwayFrame(0, last_stream_id=1).serialize()), timeout=5)
    assert outcome.closed and outcome.goaway is None  # the peer's GOAWAY ends it; the origin sends none


def test_the_hpack_bomb_decodes_to_what_its_test_says():
    encoder, decoder = hpack.Encoder(), hpack.Decoder(max_header_list_size=1 << 20)
    block = encoder.encode([(":method", "GET"), (":path", "/")])
    block += encoder.encode([("x-bomb", "b" * 4000)], huffman=False) + b"\xbe" * 3  # index 62: the newest entry
    assert decoder.decode(block)[-4:] == [("x-bomb", "b" * 4000)] * 4


def test_nginx_multiplexes_curl_parallel_streams(nginx_h2, h2_pki):
    urls = [f"https://localhost:{nginx_h2.port}/p{i}" for i in range(5)]
    got = subprocess.run(["curl", "-sS", "--http2", "--parallel", "--cacert", str(h2_pki / "origin-ca.pem"),
                          "-w", "%{http_code} %{http_version}\\n", *sum([["-o", "/dev/null", u] for u in urls], [])],
                         capture_output=True, text=True, timeout=60)
    assert got.returncode == 0, got.stderr
    assert got.stdout.split("\n")[:5] == ["200 2"] * 5
    lines = nginx_h2.log_lines(5)
    assert {line[1] for line in lines} == {"HTTP/2.0"} and len({line[0] for line in lines}) == 1


def test_nghttp_against_nginx(nginx_h2):
    got = subprocess.run(["nghttp", "-v", f"https://127.0.0.1:{nginx_h2.port}/nghttp"], capture_output=True,
                         text=True, timeout=30)
    assert got.returncode == 0, got.stderr
    assert ":status: 200" in got.stdout and "ok GET /nghttp" in got.stdout


def test_the_grpc_origin(grpc_origin, h2_pki):
    credentials = grpc.ssl_channel_credentials(root_certificates=(h2_pki / "origin-ca.pem").read_bytes())
    with grpc.secure_channel(f"localhost:{grpc_origin.port}", credentials) as channel:
        answer, call = channel.unary_unary("/lab.Device/Echo").with_call(b"\x0a\x01x", metadata=(("x-k", "v"),),
                                                                          timeout=10)
        assert answer == b"\x0a\x01x"
        assert ("x-origin", "grpc-lab") in [(m.key, m.value) for m in call.trailing_metadata()]
        with pytest.raises(grpc.RpcError) as failed:
            channel.unary_unary("/lab.Device/Fail")(b"", timeout=10)
        assert failed.value.code() == grpc.StatusCode.NOT_FOUND
    assert [(c[0], c[1].get("x-k"), c[2]) for c in grpc_origin.calls] == [("/lab.Device/Echo", "v", b"\x0a\x01x"),
                                                                         ("/lab.Device/Fail", None, b"")]
