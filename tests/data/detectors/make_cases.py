#!/usr/bin/python3
"""Generates the detector test cases in this folder: cases/NNN-name.bin (client-to-server bytes),
cases.json (what `leakguard scan` must report, same format as ../../../../shared/corpus plus
`expect_findings` and `expect_anomaly`) and profile.yaml (the phone the cases leak).

One case per encoding and placement the detectors claim to handle (issue 3), and negative cases for
the false-positive traps. Deterministic: running it again rewrites identical files.

Run: /usr/bin/python3 tests/data/detectors/make_cases.py
"""

import base64
import ctypes
import gzip
import hashlib
import json
import pathlib
import random
import zlib

HERE = pathlib.Path(__file__).resolve().parent
UA = "Dalvik/2.1.0 (Linux; U; Android 11; Redmi Note 9 Build/RP1A.200720.011)"


def luhn_complete(digits):
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return digits + str((10 - total % 10) % 10)


IMEI = luhn_complete("86654304123456")
IMEI2 = luhn_complete("35874410987654")
IMSI = "460011234567890"
ICCID = luhn_complete("8986011234567890123")
MSISDN = "+8613812345678"
SERIAL = "R58M12ABCDE"
MAC = "3c:28:6d:aa:bb:cc"
ANDROID_ID = "f1e2d3c4b5a69788"
GAID = "cdda802e-fb9c-47ad-9866-0794d394c912"
EMAIL = "li.wei@example.cn"
LAT, LON = 31.230416, 121.473701
CELL = {"mcc": 460, "mnc": 1, "lac": 41234, "cid": 98765432}

PROFILE = f"""# The phone whose identifiers the generated cases leak (written by make_cases.py).
devices:
  - name: lab-phone-02
    match:
      ip: 10.42.0.12
    identifiers:
      imei: ["{IMEI}", "{IMEI2}"]
      imsi: "{IMSI}"
      iccid: "{ICCID}"
      msisdn: "{MSISDN}"
      serial: "{SERIAL}"
      mac: "{MAC}"
      android_id: "{ANDROID_ID}"
      gaid: "{GAID}"
      email: "{EMAIL}"
      location:
        lat: {LAT}
        lon: {LON}
      cell:
        mcc: {CELL["mcc"]}
        mnc: {CELL["mnc"]}
        lac: {CELL["lac"]}
        cid: {CELL["cid"]}
"""


def request(method, target, headers=(), body=b"", chunked=False):
    lines = [f"{method} {target} HTTP/1.1", "Host: api.example.com", f"User-Agent: {UA}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if isinstance(body, str):
        body = body.encode()
    if body and not chunked:
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return head + body


def brotli(data):
    """Brotli through Debian's libbrotlienc: no Python module needed."""
    lib = ctypes.CDLL("libbrotlienc.so.1")
    out_size = ctypes.c_size_t(len(data) + 1024)
    out = ctypes.create_string_buffer(out_size.value)
    ok = lib.BrotliEncoderCompress(11, 22, 0, ctypes.c_size_t(len(data)), data, ctypes.byref(out_size), out)
    assert ok, "BrotliEncoderCompress failed"
    return out.raw[: out_size.value]


def b64(data):
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def js(obj):
    return json.dumps(obj)


def jwt(header, claims):
    """A compact JWS: base64url (unpadded) header and claims, and a signature of random-looking bytes."""
    part = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    signature = hashlib.sha256(json.dumps(claims).encode()).digest()
    return ".".join([part(js(header).encode()), part(js(claims).encode()), part(signature)])


def base64_blob(offset):
    rng = random.Random(offset)
    blob = bytes(rng.randrange(256) for _ in range(40 + offset)) + IMEI.encode() + bytes(rng.randrange(256) for _ in range(37))
    return request("POST", "/blob", [("Content-Type", "application/octet-stream")], b64(blob))


def multipart():
    boundary = "----leakguard7MA4YWxkTrZu0gW"
    parts = [
        ("meta", "application/json", js({"imsi": IMSI, "app": "com.example"})),
        ("phone", "text/plain", MSISDN),
        ("avatar", "image/png", "\x89PNG\r\n\x1a\nnot really a png"),
    ]
    body = ""
    for name, ctype, content in parts:
        body += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\nContent-Type: {ctype}\r\n\r\n{content}\r\n"
    body += f"--{boundary}--\r\n"
    return request("POST", "/upload", [("Content-Type", f"multipart/form-data; boundary={boundary}")], body)


def raw_split():
    # 64 KiB is the read size of `leakguard scan`: the IMEI straddles it.
    prefix = b"\x02HELLO\x00" + bytes(range(7, 127)) * 600
    prefix = prefix[: 65536 - 9]
    payload = prefix + b";IMEI=" + IMEI.encode() + b";mac=" + MAC.upper().encode() + b";\x03"
    return payload


def zzhc_registration():
    return request("POST", "/", [("Content-Type", "application/json")], js({
        "REGVER": "1.0", "MEID": "", "MODEL": "TA-1046", "SWVER": "V1.0", "IMEI1": IMEI, "IMEI2": IMEI2,
        "SIM1ICCID": ICCID, "SIM1LTEIMSI": IMSI, "SIM1CELLID": str(CELL["cid"]), "MACID": MAC.replace(":", "").upper(),
    }))


def bomb():
    return request("POST", "/upload", [("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
                   gzip.compress(b"\0" * (64 << 20), compresslevel=9, mtime=0))


def text_log():
    """A device log as apps upload it: key=value and `key: value` pairs in free text."""
    return (f"2026-12-06 05:13:18.123 I/Boot: starting\n"
            f"device: android_id={ANDROID_ID} wifi_mac={MAC.replace(':', '')}\n"
            f"IMSI: {IMSI}\n\n"
            f"mcc: {CELL['mcc']}\nmnc: {CELL['mnc']:02d}\nlac: {CELL['lac']}\ncid: {CELL['cid']}\n")


def multipart_crash_log():
    boundary = "crashreport9f2c"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"version\"\r\n\r\n3.2.1\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"upload_file_log\"; filename=\"logcat.txt\"\r\n"
            f"Content-Type: text/plain\r\n\r\nE/AndroidRuntime: FATAL EXCEPTION: main\n"
            f"D/Telephony: imsi={IMSI} aid={ANDROID_ID}\nD/Radio: mcc={CELL['mcc']} mnc={CELL['mnc']:02d} "
            f"lac={CELL['lac']} cid={CELL['cid']}\r\n--{boundary}--\r\n")
    return request("POST", "/crash", [("Content-Type", f"multipart/form-data; boundary={boundary}")], body)


# Numbers of other kinds that look like identifiers: not the phone's, and each under a name that
# says what it is. A Luhn-valid 15-digit order number with a reporting body's prefix is no IMEI.
ORDER_NUMBER = luhn_complete("35891234567890")
INVOICE_NUMBER = luhn_complete("8947016601234567890"[:18])


def luhn_valid_no_prefix():
    return luhn_complete("12987654321098")


CASES = [
    ("100-query-url-url-msisdn", request("GET", "/c?m=%252B8613812345678&v=2"), ["msisdn"], ["msisdn"],
     "phone number percent-encoded twice", [{"identifier": "msisdn", "encoding": "url>url", "where": "query:m"}]),
    ("101-cookie-imei", request("GET", "/home", [("Cookie", f"sid=q8Zr2; devid={IMEI}; lang=zh")]), ["imei"], ["imei"],
     "IMEI in a cookie", [{"identifier": "imei", "encoding": "plain", "where": "cookie:devid"}]),
    ("102-header-base64-json", request("GET", "/cfg", [("X-Client-Info", b64(js({"imsi": IMSI, "os": "android"})))]),
     ["imsi"], ["imsi"], "base64 JSON in a header",
     [{"identifier": "imsi", "encoding": "base64>json", "where": "header:x-client-info.json:imsi"}]),
    ("103-json-unicode-escapes",
     request("POST", "/e", [("Content-Type", "application/json")], '{"imei": "' + "".join(f"\\u{ord(c):04x}" for c in IMEI) + '"}'),
     ["imei"], ["imei"], "IMEI written with \\u escapes", [{"identifier": "imei", "where": "body.json:imei"}]),
    ("104-json-stringified", request("POST", "/s", [("Content-Type", "application/json")], js({"payload": js({"iccid": ICCID})})),
     ["iccid"], ["iccid"], "JSON inside a JSON string", [{"identifier": "iccid", "where": "body.json:payload.json:iccid"}]),
    ("105-json-base64-form", request("POST", "/f", [("Content-Type", "application/json")], js({"d": b64(f"imei={IMEI}&ver=2")})),
     ["imei"], ["imei"], "a form, base64, inside JSON",
     [{"identifier": "imei", "encoding": "json>base64>form", "where": "body.json:d.form:imei"}]),
    ("106-deflate-json", request("POST", "/d", [("Content-Type", "application/json"), ("Content-Encoding", "deflate")],
                                 zlib.compress(js({"android_id": ANDROID_ID}).encode())),
     ["android_id"], ["android_id"], "Content-Encoding: deflate",
     [{"identifier": "android_id", "encoding": "deflate>json", "where": "body.json:android_id"}]),
    ("107-brotli-json", request("POST", "/b", [("Content-Type", "application/json"), ("Content-Encoding", "br")],
                                brotli(js({"gaid": GAID, "event": "open"}).encode())),
     ["gaid"], ["gaid"], "Content-Encoding: br", [{"identifier": "gaid", "encoding": "br>json"}]),
    ("108-multipart", multipart(), ["imsi", "msisdn"], ["imsi", "msisdn"], "multipart/form-data parts",
     [{"identifier": "imsi", "where": "body.multipart:meta.json:imsi"}, {"identifier": "msisdn", "where": "body.multipart:phone"}]),
    ("109-xml-body", request("POST", "/x", [("Content-Type", "text/xml")],
                             f'<?xml version="1.0"?><reg><IMEI>{IMEI}</IMEI><ICCID>{ICCID}</ICCID><wifi mac="{MAC.upper()}"/></reg>'),
     ["iccid", "imei", "mac"], ["iccid", "imei", "mac"], "XML text and attributes",
     [{"identifier": "mac", "where": "body.xml:wifi@mac"}]),
    ("110-encrypted-json-base64", request("POST", "/zz", [("Content-Type", "application/encrypted-json")],
                                          b64(js({"IMEI1": IMEI, "SIM1IMSI": IMSI}))),
     ["imei", "imsi"], ["imei", "imsi"], "application/encrypted-json that is only base64",
     [{"identifier": "imei", "encoding": "base64>json", "where": "body.json:IMEI1"}]),
    ("111-text-plain-form", request("POST", "/t", [("Content-Type", "text/plain")], f"phone=13812345678&imsi={IMSI}"),
     ["imsi", "msisdn"], ["imsi", "msisdn"], "text/plain holding a form",
     [{"identifier": "msisdn", "encoding": "form", "where": "body.form:phone"}]),
    ("112-hex-ascii-query", request("GET", "/h?h=" + IMEI.encode().hex()), ["imei"], ["imei"], "hex of the ASCII IMEI",
     [{"identifier": "imei", "encoding": "hex", "where": "query:h"}]),
    ("113-sha256-base64-header", request("GET", "/i", [("X-Id", b64(hashlib.sha256(IMEI.encode()).digest()))]), ["imei"], [],
     "SHA-256 of the IMEI, base64 of the digest", [{"identifier": "imei", "encoding": "sha256-base64", "where": "header:x-id"}]),
    ("114-sha1-upper-mac", request("GET", "/m?m=" + hashlib.sha1(MAC.upper().encode()).hexdigest().upper()), ["mac"], [],
     "SHA-1 of the upper-case MAC, upper-case hex", [{"identifier": "mac", "encoding": "sha1"}]),
    ("115-base64-blob-align0", base64_blob(0), ["imei"], [], "IMEI inside a binary base64 blob, alignment 0",
     [{"identifier": "imei", "encoding": "base64", "where": "body"}]),
    ("116-base64-blob-align1", base64_blob(1), ["imei"], [], "alignment 1", []),
    ("117-base64-blob-align2", base64_blob(2), ["imei"], [], "alignment 2", []),
    ("118-imei-no-check-digit", request("GET", f"/q?d={IMEI[:14]}&s=1"), ["imei"], [], "IMEI without its check digit",
     [{"identifier": "imei", "form": "no-check-digit"}]),
    ("119-imei-dashed-json", request("POST", "/l", [("Content-Type", "application/json")],
                                     js({"label": f"{IMEI[:2]}-{IMEI[2:8]}-{IMEI[8:14]}-{IMEI[14]}"})),
     ["imei"], ["imei"], "IMEI in its dashed label form", [{"identifier": "imei", "form": "dashed"}]),
    ("120-msisdn-00-and-national", request("POST", "/p", [("Content-Type", "application/json")],
                                           js({"tel": "00" + MSISDN[1:], "contact": {"mobile": MSISDN[3:]}})),
     ["msisdn"], ["msisdn"], "phone number with 00 prefix and national", [{"identifier": "msisdn", "form": "national"}]),
    ("121-mac-dashes-and-bare", request("GET", f"/w?wifi={MAC.upper().replace(':', '-')}&mac={MAC.replace(':', '')}"),
     ["mac"], ["mac"], "MAC with dashes, upper case; bare under a mac key",
     [{"identifier": "mac", "where": "query:wifi"}, {"identifier": "mac", "where": "query:mac"}]),
    ("122-location-e7", request("POST", "/g", [("Content-Type", "application/json")],
                                js({"latitudeE7": round(LAT * 1e7), "longitudeE7": round(LON * 1e7), "accuracy": 12})),
     ["location"], ["location"], "E7 integer coordinates", [{"identifier": "location", "encoding": "json>e7"}]),
    ("123-geo-pair", request("GET", "/near?geo=31.2301,121.4742&r=5"), ["location"], ["location"],
     "lat,lon pair in one parameter (within 150 m)", []),
    ("124-self-registration", zzhc_registration(), ["cell", "iccid", "imei", "imsi", "mac"], ["cell", "iccid", "imei", "imsi", "mac"],
     "a self-registration message (SIM1CELLID, MACID)", [{"identifier": "cell", "where": "body.json:SIM1CELLID"}]),
    ("125-android-id-form", request("POST", "/a", [("Content-Type", "application/x-www-form-urlencoded")],
                                    f"android_id={ANDROID_ID}&sdk=30"),
     ["android_id"], ["android_id"], "Android ID in a form", []),
    ("126-email-urlencoded", request("GET", "/u?e=" + EMAIL.replace("@", "%40")), ["email"], ["email"], "email with %40",
     [{"identifier": "email", "encoding": "url", "where": "query:e"}]),
    ("127-gzip-in-base64-json", request("POST", "/z", [("Content-Type", "application/json")],
                                        js({"z": b64(gzip.compress(js({"imsi": IMSI}).encode(), mtime=0))})),
     ["imsi"], ["imsi"], "gzip inside base64 inside JSON",
     [{"identifier": "imsi", "encoding": "json>base64>gzip>json", "where": "body.json:z.json:imsi"}]),
    ("128-keepalive-two-requests", request("GET", "/ok") + request("POST", "/r", [("Content-Type", "application/json")],
                                                                     js({"iccid": ICCID})),
     ["iccid"], ["iccid"], "the leak is in the second request of the connection", []),
    ("129-raw-split-across-reads", raw_split(), ["imei", "mac"], ["imei", "mac"],
     "raw TCP; the IMEI straddles the 64 KiB read boundary of leakguard scan", [{"identifier": "imei", "where": "stream"}]),
    ("130-decompression-bomb", bomb(), [], [], "64 MiB of zeros, gzip: an anomaly, not a crash", []),
    ("131-second-imei", request("GET", f"/d?imei2={IMEI2}"), ["imei"], ["imei"], "the second IMEI of a dual-SIM phone", []),
    ("132-cell-query", request("GET", f"/cell?mcc=460&mnc=01&lac={CELL['lac']}&cid={CELL['cid']}"), ["cell"], ["cell"],
     "cell id with mcc/mnc/lac keys", [{"identifier": "cell", "where": "query:cid"}]),
    ("133-chunked-gzip", request("POST", "/cz", [("Content-Type", "application/json"), ("Content-Encoding", "gzip"),
                                                 ("Transfer-Encoding", "chunked")], b"", chunked=True)
     + (lambda data: b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + 16]), data[i:i + 16]) for i in range(0, len(data), 16)) + b"0\r\n\r\n")(
         gzip.compress(js({"email": EMAIL}).encode(), mtime=0)),
     ["email"], ["email"], "chunked transfer of a gzip body", [{"identifier": "email", "encoding": "gzip>json"}]),
    ("134-jwt-bearer-claims", request("GET", "/me", [("Authorization", "Bearer " + jwt({"alg": "HS256", "typ": "JWT"}, {
        "sub": "u-20931", "imei": IMEI, "iat": 1732780800}))]),
     ["imei"], ["imei"], "a device id among the claims of a JWT bearer token (base64url JSON between dots)",
     [{"identifier": "imei", "encoding": "jwt>json", "where": "header:authorization.json:imei"}]),
    ("160-cookie-short-android-id", request("GET", "/home", [("Cookie", f"sid=q8Zr2; aid={ANDROID_ID}; lang=zh")]),
     ["android_id"], ["android_id"], "the Android ID under a short cookie name (aid)",
     [{"identifier": "android_id", "where": "cookie:aid"}]),
    ("161-vendor-short-advertising-id", request("GET", f"/ad?afai={GAID}&google_aid={GAID}&v=3"), ["gaid"], ["gaid"],
     "an advertising id under vendors' short names (afai, google_aid)",
     [{"identifier": "gaid", "where": "query:afai"}]),
    ("162-text-plain-log", request("POST", "/log", [("Content-Type", "text/plain")], text_log()),
     ["android_id", "cell", "imsi", "mac"], ["android_id", "cell", "imsi", "mac"],
     "key=value and key: value pairs in a plain-text log body",
     [{"identifier": "android_id", "where": "body"}, {"identifier": "cell", "where": "body"}]),
    ("163-multipart-crash-log", multipart_crash_log(), ["android_id", "cell", "imsi"], ["android_id", "cell", "imsi"],
     "a log file in a multipart crash upload: the pairs inside the part",
     [{"identifier": "imsi", "where": "body.multipart:upload_file_log"},
      {"identifier": "cell", "where": "body.multipart:upload_file_log"}]),
    ("150-neg-placeholders", request("POST", "/n", [("Content-Type", "application/json")], js({
        "imei": "000000000000000", "mac": "02:00:00:00:00:00", "adid": "00000000-0000-0000-0000-000000000000",
        "serial": "unknown", "android_id": "0000000000000000", "imsi": "", "iccid": "89000000000000000000"})),
     [], [], "placeholders are no leak", []),
    ("151-neg-luhn-no-context", request("GET", f"/order?id={luhn_valid_no_prefix()}"), [], [],
     "Luhn-valid 15 digits, implausible prefix, no identifier key", []),
    ("152-neg-uuid-request-id", request("POST", "/trace", [("X-Request-Id", "5f0c7a3e-1b2d-4c8e-9a6f-2d4e6b8a0c1e"),
                                                          ("Content-Type", "application/json")],
                                        js({"trace": "a1b2c3d4-e5f6-4789-abcd-ef0123456789", "session": "3f2b"})),
     [], [], "UUIDs under non-advertising keys", []),
    ("153-neg-measurements", request("POST", "/m", [("Content-Type", "application/json")],
                                     js({"weights": "1.250,2.500", "version": "10.2.345", "price": 12.345, "ratio": "0.125;0.875"})),
     [], [], "decimals that are no coordinates", []),
    ("154-neg-tokens", request("GET", "/t", [("Cookie", "session=" + b64(bytes(range(200, 248)))),
                                            ("If-None-Match", '"' + hashlib.md5(b"page").hexdigest() + '"')]),
     [], [], "random base64 and hex tokens", []),
    ("155-neg-timestamps", request("POST", "/ts", [("Content-Type", "application/json")],
                                   js({"ts": 1732780800123, "us": 1732780800123456, "order": "4000123456789", "build": 20241128})),
     [], [], "timestamps and ids", []),
    ("164-neg-other-numbers", request("POST", "/checkout", [("Content-Type", "application/json")], js({
        "order_no": ORDER_NUMBER, "invoiceNumber": INVOICE_NUMBER, "tracking_number": "+4791234567",
        "ticket": f"{ORDER_NUMBER[:2]}-{ORDER_NUMBER[2:8]}-{ORDER_NUMBER[8:14]}-{ORDER_NUMBER[14]}",
        "booking_ref": ORDER_NUMBER, "transaction_id": ORDER_NUMBER})),
     [], [], "order, invoice, tracking, ticket, booking and transaction numbers that look like identifiers", []),
    ("165-neg-other-numbers-in-text", request("POST", "/note", [("Content-Type", "text/plain")],
                                              f"Order number: {ORDER_NUMBER}\nInvoice: {INVOICE_NUMBER}\n"
                                              f"Tracking no = {ORDER_NUMBER}\n"),
     [], [], "the same numbers as pairs in free text", []),
]

# Cases whose heuristic findings must be exactly the expected kinds (no extra one tolerated).
STRICT = {"160-cookie-short-android-id", "161-vendor-short-advertising-id", "162-text-plain-log",
          "163-multipart-crash-log", "164-neg-other-numbers", "165-neg-other-numbers-in-text"}


def write_cases(here, profile, cases, mark=lambda name, entry: None):
    """Writes profile.yaml, cases/NAME.bin and the cases.json index into `here`; `mark` may add
    fields to a case's index entry."""
    (here / "profile.yaml").write_text(profile)
    cases_dir = here / "cases"
    cases_dir.mkdir(exist_ok=True)
    for old in cases_dir.glob("*.bin"):
        old.unlink()
    index = []
    for name, data, known, heuristic, note, findings in cases:
        (cases_dir / f"{name}.bin").write_bytes(data)
        entry = {"file": f"cases/{name}.bin", "expect_known": sorted(known), "expect_heuristic": sorted(heuristic), "note": note}
        if findings:
            entry["expect_findings"] = findings
        mark(name, entry)
        index.append(entry)
    (here / "cases.json").write_text(json.dumps(index, indent=1) + "\n")
    print(f"wrote {len(index)} cases")


def mark_detector_case(name, entry):
    if "bomb" in name:
        entry["expect_anomaly"] = True
    if name in STRICT:
        entry["strict_heuristic"] = True


def main():
    write_cases(HERE, PROFILE, CASES, mark_detector_case)


if __name__ == "__main__":
    main()
