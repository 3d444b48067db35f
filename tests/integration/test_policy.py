"""Inspection and policy in the running proxy: log, block, redact, destination and country rules,
raw TCP, SIGHUP reload, and the whole shared corpus replayed through the proxy compared with
`leakguard scan`. The origin records every byte it receives, so "nothing reached the server" is
checked on the server's side."""

import base64
import json
import pathlib
import signal
import socket
import subprocess

import pytest
import yaml

from conftest import BINARY, SHARED
from servers import EchoServer, RecordingOrigin, raw_exchange

HERE = pathlib.Path(__file__).parent
IMEI = "353209091234567"

PHONE = {
    "name": "lab-phone-01",
    "match": {"cidr": "127.0.0.0/8"},
    "identifiers": {
        "imei": IMEI,
        "imsi": "242016601234567",
        "iccid": "8947016601234567890",
        "msisdn": "+4791234567",
        "serial": "B2NGAA8831702345",
        "mac": "a4:50:46:12:34:56",
        "android_id": "9774d56d682e549c",
        "gaid": "38400000-8cf0-11bd-b23e-10b96e40000d",
        "email": "kari.nordmann@example.no",
        "location": {"lat": 59.913868, "lon": 10.752245},
        "cell": {"mcc": 242, "mnc": 1, "lac": 1234, "cid": 56789},
    },
}


def tunnel(proxy, port, payload, host="127.0.0.1", timeout=5.0):
    """CONNECT through the proxy, then send `payload` inside the tunnel; returns what came back."""
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=timeout) as sock:
        sock.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk, "proxy closed during CONNECT"
            head += chunk
        assert head.startswith(b"HTTP/1.1 200"), head
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        out = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                out += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return out


def findings(proxy, count=1):
    return proxy.events("finding", wait_for=lambda e: len(e) >= count)


def test_block_mode_stops_a_leak_before_the_origin_sees_a_byte(leakguard_factory, origin):
    proxy = leakguard_factory({"mode": "block", "devices": [PHONE]})
    got = subprocess.run(["curl", "-sS", "-x", proxy.proxy_url, "-D", "-",
                          f"http://127.0.0.1:{origin.port}/api/v1/ping?imei={IMEI}&ver=3.2"],
                         capture_output=True, timeout=30)
    assert got.stdout.startswith(b"HTTP/1.1 403 "), got.stdout
    assert b"imei" in got.stdout
    assert origin.received() == b"", "not even the head may reach the origin"
    found = findings(proxy)
    assert found[0]["identifier"] == "imei" and found[0]["action"] == "blocked"
    assert found[0]["device"] == "lab-phone-01"
    assert IMEI not in json.dumps(proxy.events())
    assert proxy.events("policy", wait_for=lambda e: e)[0]["event"] == "blocked"


def test_clean_request_passes_in_block_mode(leakguard_factory, origin):
    proxy = leakguard_factory({"mode": "block", "devices": [PHONE]})
    got = subprocess.run(["curl", "-sS", "-x", proxy.proxy_url, f"http://127.0.0.1:{origin.port}/index.html?lang=en"],
                         capture_output=True, timeout=30)
    assert json.loads(got.stdout)["path"] == "/index.html?lang=en"
    assert proxy.events("finding") == []


def test_keep_alive_repeated_headers_still_pair_with_new_ones(leakguard_factory, origin):
    """The proxy leaves header lines a connection sent clean before out of later inspections
    (detectors/header_memo.hpp); a cell id in a new header must still find its network in a
    repeated one, and be blocked."""
    proxy = leakguard_factory({"mode": "block", "devices": [PHONE]})
    base = f"http://127.0.0.1:{origin.port}"
    common = ["-x", proxy.proxy_url, "-H", "X-Carrier: plmn 242 01", "-H", "X-App: 5.12.3"]
    got = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\n", *common,
                          f"{base}/feed?page=1", f"{base}/feed?page=2",
                          "--next", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\n", *common,
                          "-H", "X-Radio: serving 56789", f"{base}/feed?page=3"],
                         capture_output=True, timeout=30)
    assert got.stdout.decode().split("\n")[:3] == ["200 1", "200 0", "403 0"], got  # one connection
    received = origin.received()
    assert b"page=2" in received and b"page=3" not in received and b"56789" not in received
    found = findings(proxy)
    assert [f["identifier"] for f in found] == ["cell"] and found[0]["action"] == "blocked"


def test_log_mode_forwards_byte_for_byte_and_logs(leakguard_factory, origin):
    proxy = leakguard_factory({"mode": "log", "devices": [PHONE]})
    body = b"imsi=242016601234567&iccid=8947016601234567890"
    request = (b"POST /register HTTP/1.1\r\nHost: reg.example.net\r\nX-Odd-CASE:  kept\r\n"
               b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
    tunnel(proxy, origin.port, request)
    received = origin.received()
    # Only the optional whitespace after a header's colon is normalised.
    assert received == request.replace(b"X-Odd-CASE:  kept", b"X-Odd-CASE: kept")
    kinds = {f["identifier"] for f in findings(proxy)}
    assert "imsi" in kinds
    assert all(f["action"] == "logged" for f in proxy.events("finding"))


def test_redact_masks_in_place_and_keeps_content_length(leakguard_factory, origin):
    config = {"mode": "log", "devices": [PHONE], "rules": [{"name": "mask-ids", "action": "redact"}]}
    proxy = leakguard_factory(config)
    body = f'{{"deviceId": "{IMEI}", "model": "TA-1046"}}'
    got = subprocess.run(["curl", "-sS", "-x", proxy.proxy_url, "-H", "Content-Type: application/json",
                          "--data-binary", body, f"http://127.0.0.1:{origin.port}/activate?imei={IMEI}"],
                         capture_output=True, timeout=30)
    answer = json.loads(got.stdout)
    assert answer["body"] == body.replace(IMEI, "*" * len(IMEI))
    assert answer["path"] == "/activate?imei=" + "*" * len(IMEI)
    received = origin.received()
    assert IMEI.encode() not in received
    assert f"Content-Length: {len(body)}".encode() in received
    assert {f["action"] for f in findings(proxy, 2)} == {"redacted"}


def test_redact_masks_every_percent_encoded_copy_in_a_large_log_field(leakguard_factory, origin):
    # A crash log sent as one form field, percent-encoded, naming the IMEI on every line: each copy
    # is located in the bytes as sent (one of them escaped digit by digit) and masked there, the
    # escapes around them untouched.
    config = {"mode": "log", "devices": [PHONE], "rules": [{"name": "mask-ids", "action": "redact"}]}
    proxy = leakguard_factory(config)
    escaped_imei = "".join(f"%{ord(c):02X}" for c in IMEI)
    lines = "".join(f"{i:04d}%20radio%3A%20imei%3D{IMEI}%0A" for i in range(2000))
    body = f"app=news&log={lines}last%3D{escaped_imei}%0A&v=1"
    got = subprocess.run(["curl", "-sS", "-x", proxy.proxy_url, "--data-binary", "@-",
                          "-H", "Content-Type: application/x-www-form-urlencoded",
                          f"http://127.0.0.1:{origin.port}/crash"], input=body.encode(), capture_output=True, timeout=60)
    assert json.loads(got.stdout)["body_length"] == len(body)
    expected = body.replace(IMEI, "*" * len(IMEI)).replace(escaped_imei, "*" * len(escaped_imei))
    assert origin.received().endswith(b"\r\n\r\n" + expected.encode())
    assert {f["action"] for f in findings(proxy)} == {"redacted"}


def test_redact_masks_a_value_in_every_header_line_of_one_name(leakguard_factory, origin):
    # Two lines of one header name are one place ("header:x-device-id"): both copies are masked.
    config = {"mode": "log", "devices": [PHONE], "rules": [{"name": "mask-ids", "action": "redact"}]}
    proxy = leakguard_factory(config)
    got = subprocess.run(["curl", "-sS", "-x", proxy.proxy_url, "-H", f"X-Device-Id: {IMEI}",
                          "-H", f"X-Device-Id: slot2 {IMEI}", f"http://127.0.0.1:{origin.port}/ping"],
                         capture_output=True, timeout=30)
    headers = [value for name, value in json.loads(got.stdout)["headers"] if name == "X-Device-Id"]
    assert headers == ["*" * len(IMEI), "slot2 " + "*" * len(IMEI)]
    assert IMEI.encode() not in origin.received()
    assert [(f["where"], f["action"]) for f in findings(proxy)] == [("header:x-device-id", "redacted")]


def test_redact_falls_back_to_block_for_a_hashed_form(leakguard_factory, origin):
    config = {"devices": [PHONE], "rules": [{"name": "mask-ids", "action": "redact", "otherwise": "block"}]}
    proxy = leakguard_factory(config)
    md5_of_imei = "bddd39b3cfca46dbae3b9450283f5917"  # the shared corpus's case 004
    got = subprocess.run(["curl", "-sS", "-x", proxy.proxy_url, "-o", "/dev/null", "-w", "%{http_code}",
                          f"http://127.0.0.1:{origin.port}/ad?u={md5_of_imei}"], capture_output=True, timeout=30)
    assert got.stdout == b"403"
    assert origin.received() == b""


def test_raw_tcp_leak_is_closed_before_a_byte_is_forwarded(leakguard_factory):
    echo = EchoServer()
    try:
        proxy = leakguard_factory({"mode": "block", "devices": [PHONE]})
        payload = (SHARED / "corpus" / "cases" / "012-raw-tcp.bin").read_bytes()
        answer = tunnel(proxy, echo.port, payload)
        assert answer == b""
        assert bytes(echo.received) == b""
        found = findings(proxy, 2)
        assert {f["identifier"] for f in found} == {"imei", "imsi"}
        assert all(f["transport"] == "tcp" and f["action"] == "blocked" for f in found)
        # A clean raw stream flows.
        assert tunnel(proxy, echo.port, b"\x02HELLO\x03") == b"echo:\x02HELLO\x03"
    finally:
        echo.close()


def test_raw_tcp_in_log_mode_finds_a_value_split_across_writes(leakguard_factory):
    echo = EchoServer()
    try:
        proxy = leakguard_factory({"devices": [PHONE]})
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
            sock.sendall(f"CONNECT 127.0.0.1:{echo.port} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
            sock.sendall(b"\x02REG IMEI:3532090")
            assert sock.recv(4096).startswith(b"echo:")
            sock.sendall(b"91234567;\x03")
            sock.recv(4096)
        found = findings(proxy)
        assert found[0]["identifier"] == "imei" and found[0]["action"] == "logged"
    finally:
        echo.close()


def test_destination_rule_blocks_without_a_finding(leakguard_factory, origin):
    config = {"rules": [{"name": "no-vnet", "match": {"hosts": ["*.vnet.cn", "127.0.0.1"]}, "action": "block"}]}
    proxy = leakguard_factory(config)
    got = subprocess.run(["curl", "-sS", "-x", proxy.proxy_url, "-D", "-",
                          f"http://127.0.0.1:{origin.port}/nothing-secret"], capture_output=True, timeout=30)
    assert got.stdout.startswith(b"HTTP/1.1 403")
    assert b"no-vnet" in got.stdout
    assert origin.received() == b""


def test_country_rule_with_a_test_geoip_database(leakguard_factory, origin, tmp_path):
    mmdb = tmp_path / "test.mmdb"
    subprocess.run(["perl", str(HERE.parent / "data" / "geoip" / "make_test_mmdb.pl"), str(mmdb), "127.0.0.0/8=CN"],
                   check=True)
    config = {"geoip": {"database": str(mmdb)}, "devices": [PHONE],
              "rules": [{"name": "no-plaintext-to-cn", "match": {"country": "CN", "transport": "http"},
                         "action": "block"}]}
    proxy = leakguard_factory(config)
    got = subprocess.run(["curl", "-sS", "-x", proxy.proxy_url, "-o", "/dev/null", "-w", "%{http_code}",
                          f"http://127.0.0.1:{origin.port}/hello"], capture_output=True, timeout=30)
    assert got.stdout == b"403"
    assert origin.received() == b""
    blocked = proxy.events("policy", wait_for=lambda e: e)
    assert blocked[0]["dst"]["country"] == "CN"
    assert blocked[0]["rule"] == "no-plaintext-to-cn"


def activation_request(host):
    """The case that started it all: base64 JSON, line-wrapped, as application/encrypted-json."""
    payload = json.dumps({"IMEI1": IMEI, "SIM1ICCID": "8947016601234567890", "SIM1LTEIMSI": "242016601234567",
                          "SIM1CELLID": "56789", "SIM1MCC": "242", "SIM1MNC": "01", "SIM1LAC": "1234",
                          "MACID": "A4:50:46:12:34:56", "MODEL": "TA-1046", "SWVER": "00WW_3_22C"}).encode()
    body = base64.encodebytes(payload)  # 76-column lines, as the phones sent it
    return (f"POST /zzhc/activation HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/encrypted-json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


@pytest.mark.parametrize("mode", ["block", "log"])
def test_the_activation_leak_that_started_it_all(leakguard_factory, origin, mode):
    proxy = leakguard_factory({"mode": mode, "devices": [PHONE]})
    answer = tunnel(proxy, origin.port, activation_request("zzhc.example.cn"))
    kinds = {f["identifier"] for f in findings(proxy, 5)}
    assert {"imei", "iccid", "imsi", "cell", "mac"} <= kinds
    if mode == "block":
        assert answer.startswith(b"HTTP/1.1 403")
        assert origin.received() == b""
        assert {f["action"] for f in proxy.events("finding")} == {"blocked"}
    else:
        assert answer.startswith(b"HTTP/1.1 200")
        assert origin.received() == activation_request("zzhc.example.cn")
    encodings = {f["encoding"] for f in proxy.events("finding")}
    assert any(e.startswith("base64") for e in encodings), encodings


def test_sighup_reloads_and_a_bad_file_keeps_the_running_configuration(leakguard_factory, origin):
    proxy = leakguard_factory({"mode": "log", "devices": [PHONE]})
    url = f"http://127.0.0.1:{origin.port}/ping?imei={IMEI}"
    curl = lambda: subprocess.run(["curl", "-sS", "-x", proxy.proxy_url, "-o", "/dev/null", "-w", "%{http_code}", url],
                                  capture_output=True, timeout=30).stdout
    assert curl() == b"200"
    config = yaml.safe_load(proxy.config_path.read_text())
    config["mode"] = "block"
    proxy.config_path.write_text(yaml.safe_dump(config))
    proxy.process.send_signal(signal.SIGHUP)
    proxy.events("config", wait_for=lambda e: e)
    assert curl() == b"403"

    proxy.config_path.write_text("mode: sometimes\n")
    proxy.process.send_signal(signal.SIGHUP)
    failed = proxy.events("error", wait_for=lambda e: any(x.get("error") == "config_reload_failed" for x in e))
    assert any("mode" in x.get("detail", "") for x in failed)
    assert curl() == b"403", "the old configuration stays"


def scan_findings(case_file, profile):
    got = subprocess.run([str(BINARY), "scan", "-c", str(profile), str(case_file)], capture_output=True, text=True)
    assert got.returncode in (0, 1), got.stderr
    return sorted((f["identifier"], f["where"], f["encoding"]) for f in map(json.loads, got.stdout.splitlines()))


def test_corpus_through_the_proxy_matches_scan(leakguard_factory, tmp_path):
    """One code path: every shared corpus case replayed through the proxy gives the findings that
    `leakguard scan` gives for the same bytes."""
    profile = tmp_path / "profile.yaml"
    profile.write_text(yaml.safe_dump({"devices": [PHONE]}))
    cases = json.loads((SHARED / "corpus" / "cases.json").read_text())
    origin = RecordingOrigin()
    echo = EchoServer()
    try:
        for case in cases:
            case_file = SHARED / "corpus" / case["file"]
            payload = case_file.read_bytes()
            proxy = leakguard_factory({"devices": [PHONE]}, name=pathlib.Path(case["file"]).stem)
            is_http = payload[:4] in (b"GET ", b"POST", b"PUT ", b"HEAD")
            tunnel(proxy, origin.port if is_http else echo.port, payload)
            expected = scan_findings(case_file, profile)
            live = proxy.events("finding", wait_for=lambda e: len(e) >= len(expected))
            got = sorted((f["identifier"], f["where"], f["encoding"]) for f in live)
            assert got == expected, case["file"]
            proxy.stop()
    finally:
        origin.close()
        echo.close()
