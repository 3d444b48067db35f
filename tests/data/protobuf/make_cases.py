#!/usr/bin/python3
"""Generates the protobuf and gRPC detector cases in this folder (issue 15), in the format of
../detectors (cases/NNN-name.bin, cases.json, profile.yaml; read by tests/detectors/corpus_test.cpp).

The protobuf bytes are built by hand below (varint, zigzag, fixed32/64, length-delimited): Debian's
python3-protobuf would need a schema, and the detector reads the wire format without one anyway.
The phone is ../detectors' lab-phone-02. Shapes follow published measurements of phones' system
traffic: a check-in (strings plus an int64 Android ID), a batched logger (a protobuf array inside a
bytes field, gzip'd), location and cell messages, gRPC-web frames, base64 protobuf in a form field
and in -bin metadata; negatives: timestamps, counters, random 64-bit ids, near misses, text that
parses as a few varints. Deterministic: running it again rewrites identical files.

Run: /usr/bin/python3 tests/data/protobuf/make_cases.py
"""

import base64
import gzip
import json
import pathlib
import random
import struct
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(HERE.parent / "detectors"))
import make_cases as base  # noqa: E402  (request(), the profile and its values)


def varint(value):
    value &= (1 << 64) - 1
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def zigzag(value):
    return ((value << 1) ^ (value >> 63)) & ((1 << 64) - 1)


def tag(field, wire):
    return varint(field << 3 | wire)


def num(field, value):
    return tag(field, 0) + varint(value)


def ld(field, content):
    content = content.encode() if isinstance(content, str) else content
    return tag(field, 2) + varint(len(content)) + content


def f64(field, value):
    return tag(field, 1) + struct.pack("<Q", value & ((1 << 64) - 1))


def f32(field, value):
    return tag(field, 5) + struct.pack("<I", value & 0xFFFFFFFF)


def dbl(field, value):
    return tag(field, 1) + struct.pack("<d", value)


def flt(field, value):
    return tag(field, 5) + struct.pack("<f", value)


def frame(message, compressed=False, trailers=False):
    return bytes([(1 if compressed else 0) | (0x80 if trailers else 0)]) + struct.pack(">I", len(message)) + message


def gz(data):
    return gzip.compress(data, mtime=0)


IMEI = int(base.IMEI)
IMSI = int(base.IMSI)
MSISDN = int(base.MSISDN.lstrip("+"))
ANDROID_ID = int(base.ANDROID_ID, 16)
MAC = int(base.MAC.replace(":", ""), 16)
LAT, LON = base.LAT, base.LON
CELL = base.CELL
PB = ("Content-Type", "application/x-protobuf")


def post(target, headers, body):
    return base.request("POST", target, headers, body)


def checkin():
    build = ld(1, "google/sdk_gphone64_x86_64/emu64xa:14/UE1A.230829.036") + num(7, 34) + ld(8, "UE1A.230829.036")
    device = ld(6, base.IMEI) + ld(7, base.SERIAL)
    inner = ld(16, device) + num(2, 1701857230000) + ld(9, "wifi")
    return f64(2, ANDROID_ID) + ld(3, build) + ld(4, inner) + num(9, 3) + ld(12, "Europe/Oslo")


def logger():
    rng = random.Random(15)
    events = b""
    for i in range(20):
        event = num(1, 1701857230000 + 37 * i) + ld(6, ld(2, "screen_view") + num(3, rng.randrange(1 << 40)))
        if i == 11:
            event += ld(9, ld(1, num(3, ANDROID_ID)))
        events += varint(len(event)) + event
    nested = ld(1, num(2, MAC)) + num(3, 77)
    batch = ld(1, "com.example.logger") + num(2, 1) + ld(4, events) + ld(5, gz(nested))
    return post("/log/batch", [PB, ("Content-Encoding", "gzip")], gz(batch))


def location_cell():
    location = dbl(1, LAT + 0.0003) + dbl(2, LON - 0.0002) + flt(3, 12.5) + num(4, 1701857230000)
    cell = num(1, CELL["mcc"]) + num(2, CELL["mnc"]) + num(3, CELL["lac"]) + num(4, CELL["cid"]) + num(5, zigzag(-87))
    return post("/v1/location", [PB], ld(1, location) + ld(2, ld(1, cell)))


def location_e7():
    return post("/v1/fix", [("Content-Type", "application/protobuf")],
                ld(3, num(1, zigzag(round(LAT * 1e7))) + num(2, zigzag(round(LON * 1e7))) + num(5, 20)))


def grpc_web():
    message = ld(1, ld(2, base.IMEI)) + num(3, IMSI) + num(4, 1701857230)
    trailers = frame(b"grpc-status:0\r\n", trailers=True)
    return post("/device.v1.Devices/Register", [("Content-Type", "application/grpc-web+proto"), ("X-Grpc-Web", "1")],
                frame(message) + trailers)


def grpc_web_gzip():
    message = ld(1, "register") + num(5, MSISDN)
    return post("/device.v1.Devices/Register", [("Content-Type", "application/grpc-web"), ("grpc-encoding", "gzip")],
                frame(num(1, 1)) + frame(gz(message), compressed=True))


def grpc_web_text():
    # This phone's ICCID has 20 digits: more than 64 bits, so never a number. Its second IMEI is.
    message = ld(1, "sim") + f64(2, int(base.IMEI2))
    body = base64.b64encode(frame(message)) + base64.b64encode(frame(b"grpc-status:0\r\n", trailers=True))
    return post("/sim.v1.Sim/Report", [("Content-Type", "application/grpc-web-text")], body)


def form_base64():
    message = ld(1, "com.example") + num(2, ANDROID_ID) + num(3, 1701857230)
    payload = base64.urlsafe_b64encode(message).rstrip(b"=").decode()
    return post("/collect", [("Content-Type", "application/x-www-form-urlencoded")], f"v=2&payload={payload}&t=1")


def bin_header():
    meta = base64.b64encode(num(1, 3) + ld(2, "android")).decode()
    device = base64.b64encode(num(4, IMEI)).decode().rstrip("=")
    return base.request("GET", "/config.v1.Config/Get", [("x-client-bin", meta + "," + device)])


def octet_stream():
    return post("/upload", [("Content-Type", "application/octet-stream")], num(1, 9) + f64(6, MAC) + ld(7, "ok"))


def neg_numbers():
    rng = random.Random(1515)
    body = num(1, 1701857230123) + num(2, 1701857230) + num(3, 42) + num(4, 65536)
    for field in range(10, 70):
        body += num(field, rng.randrange(1 << 64)) if field % 2 else f64(field, rng.randrange(1 << 64))
    body += ld(8, dbl(1, 48.8584) + dbl(2, 2.2945))
    return post("/metrics", [PB], body)


def neg_near_miss():
    body = num(1, IMEI + 1) + num(2, ANDROID_ID + 1) + f64(3, ANDROID_ID - 1) + num(4, MAC ^ 1) + num(5, IMSI - 10)
    cell = num(1, CELL["mcc"]) + num(2, CELL["mnc"]) + num(3, CELL["lac"]) + num(4, CELL["cid"] + 1)
    far = dbl(1, LAT + 0.01) + dbl(2, LON)  # 1.1 km north
    return post("/v1/other", [PB], body + ld(6, cell) + ld(7, far))


def neg_text():
    # "hi there" parses as fields 13 = 105 and ... as far as it goes; text bodies stay text.
    return post("/echo", [("Content-Type", "application/octet-stream")], "hi(d(d 0123456789 build 20241128")


CASES = [
    ("200-checkin", post("/checkin", [PB], checkin()), ["imei", "android_id", "serial"], ["imei"],
     "check-in: IMEI and serial strings in nested messages, Android ID as fixed64",
     [{"identifier": "imei", "encoding": "protobuf", "where": "body.protobuf:4.16.6"},
      {"identifier": "android_id", "encoding": "protobuf>fixed64", "where": "body.protobuf:2"}]),
    ("201-logger-gzip-array", logger(), ["android_id", "mac"], [],
     "logger batch: gzip'd body, protobuf array in a bytes field, a gzip'd bytes field inside",
     [{"identifier": "android_id", "encoding": "gzip>protobuf>varint", "where": "body.protobuf:4[11].9.1.3"},
      {"identifier": "mac", "encoding": "gzip>protobuf>gzip>protobuf>varint", "where": "body.protobuf:5.protobuf:1.2"}]),
    ("202-location-cell", location_cell(), ["location", "cell"], [],
     "location as doubles, cell tower as varints in one message",
     [{"identifier": "location", "encoding": "protobuf>double", "where": "body.protobuf:1.1"},
      {"identifier": "cell", "encoding": "protobuf>varint", "where": "body.protobuf:2.1.4"}]),
    ("203-location-e7", location_e7(), ["location"], [], "location as zigzag E7 integers",
     [{"identifier": "location", "encoding": "protobuf>zigzag-e7", "where": "body.protobuf:3.1"}]),
    ("204-grpc-web", grpc_web(), ["imei", "imsi"], ["imei"], "gRPC-web frame and trailer frame",
     [{"identifier": "imei", "encoding": "grpc>protobuf", "where": "body.protobuf:1.2"},
      {"identifier": "imsi", "encoding": "grpc>protobuf>varint", "where": "body.protobuf:3"}]),
    ("205-grpc-web-gzip", grpc_web_gzip(), ["msisdn"], [], "gRPC-web, second frame gzip'd (grpc-encoding)",
     [{"identifier": "msisdn", "encoding": "grpc>gzip>protobuf>varint", "where": "body.protobuf:5"}]),
    ("206-grpc-web-text", grpc_web_text(), ["imei"], [], "grpc-web-text: base64 frames, an IMEI as fixed64",
     [{"identifier": "imei", "encoding": "base64>grpc>protobuf>fixed64", "where": "body.protobuf:2"}]),
    ("207-form-base64-protobuf", form_base64(), ["android_id"], [], "base64url protobuf in a form field",
     [{"identifier": "android_id", "encoding": "form>base64>protobuf>varint", "where": "body.form:payload.protobuf:2"}]),
    ("208-bin-header", bin_header(), ["imei"], [], "-bin metadata, two values comma-joined, unpadded",
     [{"identifier": "imei", "encoding": "base64>protobuf>varint", "where": "header:x-client-bin.protobuf:4"}]),
    ("209-octet-stream", octet_stream(), ["mac"], [], "octet-stream body that parses as protobuf, MAC as fixed64",
     [{"identifier": "mac", "encoding": "protobuf>fixed64", "where": "body.protobuf:6"}]),
    ("250-neg-numbers", neg_numbers(), [], [], "timestamps, counters, random 64-bit ids, another city", []),
    ("251-neg-near-miss", neg_near_miss(), [], [], "next IMEI, Android ID off by one, other cell, 1 km away", []),
    ("252-neg-text-varints", neg_text(), [], [], "text that parses as a few varints", []),
]


def main():
    base.write_cases(HERE, base.PROFILE, CASES)


if __name__ == "__main__":
    main()
