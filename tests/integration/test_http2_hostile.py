"""Hostile HTTP/2 peers through the real binary (issue 14), with hand-built frames on an intercepted
TLS connection (ALPN h2): Rapid Reset (CVE-2023-44487), CONTINUATION floods (CVE-2024-27316 and
the rest of the 2024 family), an HPACK bomb, and the 2019 set (CVE-2019-9511..9518: data dribble,
ping, resource loop, reset, empty frames, settings, zero-length headers, internal data buffering).

Each attack is sized so that an implementation without a bound would be seen: it would keep far more
than RSS_BOUND_KIB, or keep serving the attacker. What is required of leakguard, as the issue says:
the attacker gets GOAWAY (or RST_STREAM, where the attack lives in one stream), an `error` event is
written for that connection, leakguard's peak RSS stays within RSS_BOUND_KIB of what it was before,
and a connection opened before the attack is still served during it, as is a new one after.
Skipped while the binary does not intercept h2 (h2_fixtures.py)."""

import time

import pytest
from hyperframe.frame import (ContinuationFrame, DataFrame, HeadersFrame, PingFrame, PriorityFrame, RstStreamFrame,
                              SettingsFrame)

from h2_client import H2Client, RawH2, local_client, tls_through
from h2_fixtures import h2_ca_dir, h2_origin, h2_pki, intercepting, leakguard_speaks_h2  # noqa: F401

pytestmark = [pytest.mark.usefixtures("leakguard_speaks_h2"), pytest.mark.slow]

RSS_BOUND_KIB = 32 * 1024
CANCEL, NO_ERROR = 8, 0


class Scene:
    """leakguard (log mode, the lab phone's profile), an h2-only origin, and a bystander: a
    well-behaved h2 connection opened and used before the attack."""

    def __init__(self, intercepting, h2_origin, h2_ca_dir, **origin_options):
        self.ca = h2_ca_dir / "ca.pem"
        self.origin = h2_origin(**origin_options)
        self.proxy = intercepting()
        self.bystander = self.client()
        assert self.bystander.get("/before").status == 200
        self.rss_before = self.proxy.rss_kib(peak=False)

    def client(self, **kwargs):
        sock = tls_through(self.proxy, "localhost", self.origin.port, self.ca)
        return H2Client(sock, f"localhost:{self.origin.port}", **kwargs)

    def attacker(self, settings=None):
        sock = tls_through(self.proxy, "localhost", self.origin.port, self.ca)
        assert sock.selected_alpn_protocol() == "h2"
        return RawH2(sock, settings)

    @property
    def authority(self):
        return f"localhost:{self.origin.port}"

    def assert_contained(self, attacker, outcome, stream_level=False):
        """The common verdict. `stream_level`: an RST_STREAM of the attacking stream is an answer
        too (the attack lives in one stream's header block)."""
        goaway = outcome.goaway
        answered = (goaway is not None and goaway.error_code != NO_ERROR) or (stream_level and outcome.resets)
        assert answered, (f"no GOAWAY with an error{' nor RST_STREAM' if stream_level else ''} for the attacker: "
                          f"{[type(f).__name__ for f in outcome.frames][-10:]}, closed={outcome.closed}, "
                          f"sent_all={outcome.sent_all}")
        client = local_client(attacker.sock)
        tls = self.proxy.events("tls", wait_for=lambda e: any(x.get("client") == client for x in e))
        [flow] = [e["flow"] for e in tls if e.get("client") == client]
        errors = self.proxy.events("error", wait_for=lambda e: any(x.get("flow") == flow for x in e))
        assert any(e.get("flow") == flow for e in errors), f"no error event for the attacking connection {flow}"
        grown = self.proxy.rss_kib(peak=True) - self.rss_before
        assert grown <= RSS_BOUND_KIB, f"leakguard's peak RSS grew by {grown} KiB during the attack"
        # The connection opened before the attack is still served (the attacker's is still open
        # from our side), and so is a new one.
        assert self.bystander.get("/during").status == 200
        fresh = self.client()
        assert fresh.get("/after").status == 200
        fresh.close()

    def origin_streams(self, path):
        return [r for r in self.origin.requests() if r.path == path]


@pytest.fixture
def scene(intercepting, h2_origin, h2_ca_dir):
    return Scene(intercepting, h2_origin, h2_ca_dir)


def wait_quiet(value, quiet=1.0, timeout=60.0):
    """Waits until `value()` has not changed for `quiet` seconds (at most `timeout`)."""
    deadline = time.monotonic() + timeout
    last, since = value(), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet:
        time.sleep(0.05)
        if (now := value()) != last:
            last, since = now, time.monotonic()
    return last


def frames(*items):
    return b"".join(f.serialize() for f in items)


def test_rapid_reset(scene):
    """CVE-2023-44487: open a stream and cancel it at once, thousands of times: each costs the
    server (and a proxy, its upstream stream) work while never counting against concurrency."""
    attacker = scene.attacker()
    count = 5000
    block = attacker.request_block(scene.authority, "/rapid-reset")
    flood = b"".join(frames(HeadersFrame(s, block, flags=["END_HEADERS", "END_STREAM"]),
                            RstStreamFrame(s, error_code=CANCEL)) for s in range(1, 2 * count, 2))
    outcome = attacker.outcome(attacker.flood(flood))
    scene.assert_contained(attacker, outcome)
    forwarded = len(scene.origin_streams("/rapid-reset"))
    assert forwarded < count // 2, f"{forwarded} of {count} reset streams were opened upstream"


def test_continuation_flood(scene):
    """CVE-2024-27316 family: one header block that never ends, 64 MiB of CONTINUATION frames."""
    attacker = scene.attacker()
    first = attacker.request_block(scene.authority, "/continuation")
    value = "a" * 4000
    pieces = [HeadersFrame(1, first)]  # no END_HEADERS
    for i in range(4096):
        block = b"".join(attacker.encoder.encode([(f"x-flood-{i}-{j}", value)], huffman=False) for j in range(4))
        pieces.append(ContinuationFrame(1, block))
    outcome = attacker.outcome(attacker.flood(frames(*pieces)))
    scene.assert_contained(attacker, outcome, stream_level=True)
    assert scene.origin_streams("/continuation") == []


def test_empty_continuation_flood(scene):
    """The CPU variant: a header block held open by 100,000 empty CONTINUATION frames."""
    attacker = scene.attacker()
    pieces = [HeadersFrame(1, attacker.request_block(scene.authority, "/empty-continuation"))]
    flood = frames(*pieces) + ContinuationFrame(1, b"").serialize() * 100_000
    outcome = attacker.outcome(attacker.flood(flood))
    scene.assert_contained(attacker, outcome, stream_level=True)
    assert scene.origin_streams("/empty-continuation") == []


def test_hpack_bomb(scene):
    """A 4 KB header put in the dynamic table once, then referenced by its one-byte index 12,000
    times in the same block: 16 KB on the wire decodes to 48 MB."""
    attacker = scene.attacker()
    block = attacker.request_block(scene.authority, "/hpack-bomb")
    block += attacker.encoder.encode([("x-bomb", "b" * 4000)], huffman=False)  # literal, indexed: now index 62
    block += b"\xbe" * 12_000
    outcome = attacker.outcome(attacker.flood(frames(HeadersFrame(1, block, flags=["END_HEADERS", "END_STREAM"]))))
    scene.assert_contained(attacker, outcome, stream_level=True)
    assert scene.origin_streams("/hpack-bomb") == []


def test_ping_flood(scene):
    """CVE-2019-9512: PINGs sent without reading the ACKs, which then queue up in the server."""
    attacker = scene.attacker()
    outcome = attacker.outcome(attacker.flood(PingFrame(0, opaque_data=b"12345678").serialize() * 400_000))
    scene.assert_contained(attacker, outcome)


def test_settings_flood(scene):
    """CVE-2019-9515: SETTINGS frames, each owed an ACK, sent without reading."""
    attacker = scene.attacker()
    one = SettingsFrame(0, settings={SettingsFrame.MAX_CONCURRENT_STREAMS: 100}).serialize()
    outcome = attacker.outcome(attacker.flood(one * 400_000))
    scene.assert_contained(attacker, outcome)


def test_reset_flood(scene):
    """CVE-2019-9514: requests that each draw an RST_STREAM (an upper-case header name is a
    malformed request, RFC 9113 8.2.1), sent without reading."""
    attacker = scene.attacker()
    pieces = []
    for stream_id in range(1, 40_000, 2):
        block = attacker.request_block(scene.authority, "/reset-flood", extra=[("X-Upper", "1")])
        pieces.append(HeadersFrame(stream_id, block, flags=["END_HEADERS", "END_STREAM"]))
    outcome = attacker.outcome(attacker.flood(frames(*pieces)))
    scene.assert_contained(attacker, outcome)
    assert scene.origin_streams("/reset-flood") == []


def test_empty_data_frame_flood(scene):
    """CVE-2019-9518: one open stream and 200,000 DATA frames without a byte in them."""
    attacker = scene.attacker()
    block = attacker.request_block(scene.authority, "/empty-data", method="POST")
    flood = frames(HeadersFrame(1, block, flags=["END_HEADERS"])) + DataFrame(1, b"").serialize() * 200_000
    outcome = attacker.outcome(attacker.flood(flood))
    scene.assert_contained(attacker, outcome, stream_level=True)
    forwarded = sum(len(r.data_frames) for r in scene.origin_streams("/empty-data"))
    assert forwarded < 1000, f"{forwarded} empty DATA frames were relayed to the origin"


def test_zero_length_header_flood(scene):
    """CVE-2019-9516: a header block of 100,000 headers with an empty name and an empty value,
    each a literal with incremental indexing (3 bytes: 0x40 0x00 0x00)."""
    attacker = scene.attacker()
    block = attacker.request_block(scene.authority, "/zero-length") + b"\x40\x00\x00" * 100_000
    pieces = [block[i:i + 16_000] for i in range(0, len(block), 16_000)]
    frame_list = [HeadersFrame(1, pieces[0], flags=["END_STREAM"])]
    frame_list += [ContinuationFrame(1, p) for p in pieces[1:-1]]
    frame_list.append(ContinuationFrame(1, pieces[-1], flags=["END_HEADERS"]))
    outcome = attacker.outcome(attacker.flood(frames(*frame_list)))
    scene.assert_contained(attacker, outcome, stream_level=True)
    assert scene.origin_streams("/zero-length") == []


def test_priority_resource_loop(scene):
    """CVE-2019-9513: PRIORITY frames that keep reshuffling a dependency tree of idle streams."""
    attacker = scene.attacker()
    pieces = [PriorityFrame(s, depends_on=(s + 2) % 2000 + 1, stream_weight=s % 256) for s in range(1, 2000, 2)]
    outcome = attacker.outcome(attacker.flood(frames(*pieces) * 200))
    scene.assert_contained(attacker, outcome)


# --- Flow control: neither a slow reader nor a slow origin makes leakguard buffer without limit.


def test_a_slow_reader_does_not_make_leakguard_buffer_the_download(intercepting, h2_origin, h2_ca_dir):
    """CVE-2019-9511/9517: the client asks for 96 MiB and never opens its window past the first
    64 KiB. leakguard may hold what its own windows towards the origin allow, no more: the origin
    ends up waiting on a closed window having sent far less than the body, and leakguard's RSS stays
    bounded. Then the client reads, and every byte arrives."""
    size = 96 << 20
    scene = Scene(intercepting, h2_origin, h2_ca_dir)
    reader = scene.client(give_window=False)
    stream_id = reader.start(f"/big?n={size}")
    reader.wait([stream_id], timeout=3)  # reads the first window, opens nothing
    # Until the origin has sent nothing more for a second: an unbounded relay would read on until
    # the whole body was in its memory.
    wait_quiet(lambda: scene.origin.big_bytes_sent)
    assert scene.origin.blocked.is_set(), "the origin stopped sending without being held back by a window"
    assert scene.origin.big_bytes_sent < RSS_BOUND_KIB * 1024, f"origin sent {scene.origin.big_bytes_sent} bytes"
    grown = scene.proxy.rss_kib(peak=True) - scene.rss_before
    assert grown <= RSS_BOUND_KIB, f"leakguard's peak RSS grew by {grown} KiB"
    assert scene.bystander.get("/during").status == 200

    reader.give_window = True
    reader.conn.acknowledge_received_data(len(reader.responses[stream_id].body), stream_id)
    reader._flush()
    answer = reader.wait([stream_id], timeout=120)[stream_id]
    assert answer.ended and len(answer.body) == size
    reader.close()


def test_a_slow_origin_does_not_make_leakguard_buffer_the_upload(intercepting, h2_origin, h2_ca_dir):
    """The other way: the origin never grants more than its first 64 KiB of request-body window;
    a client pushing a 96 MiB upload as fast as leakguard's windows allow gets stuck well short of
    it, and leakguard's RSS stays bounded."""
    scene = Scene(intercepting, h2_origin, h2_ca_dir, no_window_updates=True)
    uploader = scene.client()
    stream_id = uploader.start("/upload", "POST", end_stream=False)
    sent, chunk, limit = 0, b"u" * 16384, 96 << 20
    uploader.sock.settimeout(3)
    while sent < limit:
        window = min(uploader.conn.local_flow_control_window(stream_id), len(chunk))
        if window > 0:
            uploader.send_data(stream_id, chunk[:window])
            sent += window
            continue
        try:  # leakguard opens the window again only as it can pass bytes on; 3 s without: stuck
            data = uploader.sock.recv(65536)
        except OSError:
            break
        if not data:
            break
        for event in uploader.conn.receive_data(data):
            uploader._on_event(event)
        uploader._flush()
    assert sent < RSS_BOUND_KIB * 1024, f"leakguard took {sent} bytes of an upload the origin did not read"
    grown = scene.proxy.rss_kib(peak=True) - scene.rss_before
    assert grown <= RSS_BOUND_KIB, f"leakguard's peak RSS grew by {grown} KiB"
    assert scene.bystander.get("/during").status == 200
    uploader.close()

