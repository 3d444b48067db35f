"""gRPC-web over HTTP/1.1 through the running proxy (issue 15): curl posts length-prefixed frames
holding protobuf messages; an IMEI sent as a varint is blocked in block mode before the origin
sees a byte, and a gzip'd frame's string IMEI is logged in log mode with its layers and field path
while the request goes through unchanged."""

import gzip
import json
import struct
import subprocess

from test_policy import IMEI, PHONE, findings


def varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field(number, wire, payload):
    return varint(number << 3 | wire) + payload


def ld(number, payload):
    return field(number, 2, varint(len(payload)) + payload)


def frame(message, compressed=False):
    return bytes([1 if compressed else 0]) + struct.pack(">I", len(message)) + message


def grpc_web_post(proxy, origin, tmp_path, body, headers=()):
    path = tmp_path / "frames.bin"
    path.write_bytes(body)
    args = ["curl", "-sS", "-x", proxy.proxy_url, "-D", "-", "-o", "/dev/null", "--data-binary", f"@{path}",
            "-H", "Content-Type: application/grpc-web+proto", "-H", "X-Grpc-Web: 1"]
    for header in headers:
        args += ["-H", header]
    args.append(f"http://127.0.0.1:{origin.port}/device.v1.Devices/Register")
    return subprocess.run(args, capture_output=True, timeout=30)


def test_block_mode_stops_an_imei_sent_as_a_varint(leakguard_factory, origin, tmp_path):
    proxy = leakguard_factory({"mode": "block", "devices": [PHONE]})
    message = ld(1, b"android") + field(3, 0, varint(int(IMEI))) + field(4, 0, varint(1733459000))
    got = grpc_web_post(proxy, origin, tmp_path, frame(message))
    assert got.stdout.startswith(b"HTTP/1.1 403 "), got.stdout + got.stderr
    assert origin.received() == b"", "not even the head may reach the origin"
    found = findings(proxy)
    assert [(f["identifier"], f["encoding"], f["where"], f["action"]) for f in found] == \
        [("imei", "grpc>protobuf>varint", "body.protobuf:3", "blocked")]
    assert IMEI not in json.dumps(proxy.events())


def test_log_mode_reports_a_compressed_frame_and_forwards_it(leakguard_factory, origin, tmp_path):
    proxy = leakguard_factory({"mode": "log", "devices": [PHONE]})
    message = ld(1, ld(2, IMEI.encode()))
    body = frame(field(1, 0, varint(5))) + frame(gzip.compress(message), compressed=True)
    got = grpc_web_post(proxy, origin, tmp_path, body, ["grpc-encoding: gzip"])
    assert got.stdout.startswith(b"HTTP/1.1 200 "), got.stdout + got.stderr
    assert origin.received().endswith(body), "log mode forwards the frames as sent"
    found = findings(proxy)
    assert [(f["identifier"], f["encoding"], f["where"], f["action"]) for f in found] == \
        [("imei", "grpc>gzip>protobuf", "body.protobuf:1.2", "logged")]
    assert IMEI not in json.dumps(proxy.events())


def test_redact_masks_a_string_field_in_place_and_falls_back_for_a_number(leakguard_factory, origin, tmp_path):
    config = {"devices": [PHONE], "rules": [{"name": "mask-ids", "action": "redact", "otherwise": "block"}]}
    proxy = leakguard_factory(config)
    body = frame(ld(1, ld(2, IMEI.encode())) + field(4, 0, varint(1733459000)))
    got = grpc_web_post(proxy, origin, tmp_path, body)
    assert got.stdout.startswith(b"HTTP/1.1 200 "), got.stdout + got.stderr
    # Same length: every enclosing length prefix stays right.
    assert origin.received().endswith(body.replace(IMEI.encode(), b"*" * len(IMEI)))
    assert [f["action"] for f in findings(proxy)] == ["redacted"]

    # The same IMEI as a varint has no bytes to mask: the rule's `otherwise`.
    numeric = frame(field(3, 0, varint(int(IMEI))))
    got = grpc_web_post(proxy, origin, tmp_path, numeric)
    assert got.stdout.startswith(b"HTTP/1.1 403 "), got.stdout + got.stderr
    assert not origin.received().endswith(numeric)
