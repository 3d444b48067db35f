"""`leakguard scan` over HAR files through the real binary. The HAR is written by the test from real
exchanges: curl sends leaking requests to a recording origin on 127.0.0.1 (plain and TLS), and
each entry is built from what the origin really received (query, header, cookie, JSON text,
base64 of a gzip body, form params). Also: BOM and whitespace, a cut file, a syntax error, JSON
that is no HAR, bad entries, and `leakguard report` over scan output. And a HAR recorded by a real
browser: Debian's chromium driven by playwright-core (tests/integration/browser, installed pinned by
scripts/install-deps.sh) loads a page whose script leaks, and the HAR it writes is scanned.

Run: /usr/bin/python3 -m pytest tests/integration/test_scan_har.py (binary: build/leakguard, or $LEAKGUARD_BIN).
"""

import base64
import gzip
import json
import pathlib
import shutil
import subprocess
import urllib.parse

import pytest

from conftest import BINARY, SHARED
from pki import make_ca, make_server_cert
from servers import HttpsOrigin, RecordingOrigin
from test_report import report

PROFILE = SHARED / "corpus" / "profile.yaml"
IMEI, IMSI, SERIAL = "353209091234567", "242016601234567", "B2NGAA8831702345"
ANDROID_ID, EMAIL, GAID = "9774d56d682e549c", "kari.nordmann@example.no", "38400000-8cf0-11bd-b23e-10b96e40000d"
RAW_VALUES = [IMEI, IMSI, SERIAL, ANDROID_ID, EMAIL, GAID, "8947016601234567890", "4791234567"]


def scan(*args, timeout=120):
    result = subprocess.run([str(BINARY), "scan", *map(str, args)], capture_output=True, timeout=timeout)
    events = [json.loads(line) for line in result.stdout.decode().splitlines() if line.strip()]
    return result, events


def curl(*args):
    subprocess.run(["curl", "-sS", "-o", "/dev/null", "--max-time", "10", *args], check=True, timeout=30)


def har_entry(origin, scheme, host, started, params_only=False, binary=False):
    """A HAR entry of the last request `origin` received, as a browser would export it."""
    start, headers, body = origin.requests[-1]
    method, target, version = start.split(" ")
    entry_headers = [{"name": name, "value": value} for name, value in headers]
    cookies = []
    for name, value in headers:
        if name.lower() == "cookie":
            for crumb in value.split(";"):
                key, _, val = crumb.strip().partition("=")
                cookies.append({"name": key, "value": val})
    query = urllib.parse.parse_qsl(urllib.parse.urlsplit(target).query)
    request = {"method": method, "url": f"{scheme}://{host}:{origin.port}{target}", "httpVersion": version,
               "headers": entry_headers, "cookies": cookies,
               "queryString": [{"name": k, "value": v} for k, v in query], "headersSize": -1, "bodySize": len(body)}
    mime = next((v for k, v in headers if k.lower() == "content-type"), "")
    if body:
        if params_only:  # as some exporters write a form: decoded params, no text
            request["postData"] = {"mimeType": mime, "params": [{"name": k, "value": v}
                                                               for k, v in urllib.parse.parse_qsl(body.decode())]}
        elif binary:
            request["postData"] = {"mimeType": mime, "text": base64.b64encode(bytes(body)).decode(),
                                   "encoding": "base64"}
        else:
            request["postData"] = {"mimeType": mime, "text": body.decode()}
    return {"startedDateTime": started, "time": 1.5, "request": request,
            "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "headers": [], "cookies": [],
                         "content": {"size": 0, "mimeType": "application/json"}, "redirectURL": "",
                         "headersSize": -1, "bodySize": 0},
            "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0.5}, "serverIPAddress": "127.0.0.1",
            "connection": "1", "_priority": "High", "comment": "written by test_scan_har.py"}


def har_document(entries):
    return {"log": {"version": "1.2", "creator": {"name": "test_scan_har.py", "version": "1"},
                    "pages": [], "entries": entries, "comment": ""}}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")
    make_ca(directory, "origin-ca")
    make_server_cert(directory, "localhost", "origin-ca", "DNS:localhost,IP:127.0.0.1")
    return directory


# path of the request -> (identifier, where the finding must be), one per leak shape.
EXPECTED = {
    "/query": ("imei", "query:imei"),
    "/header": ("serial", "header:x-device-serial"),
    "/cookie": ("imsi", "cookie:"),
    "/json": ("android_id", "body.json:"),
    "/gzip": ("gaid", "body"),
    "/form": ("email", "body.form:"),
    "/tls": ("imei", "body.json:"),
}


@pytest.fixture(scope="module")
def recorded_har(tmp_path_factory, pki):
    """One HAR of real exchanges, one entry per leak shape, the last one over TLS."""
    directory = tmp_path_factory.mktemp("har")
    origin = RecordingOrigin()
    tls_origin = HttpsOrigin(str(pki / "localhost.pem"), str(pki / "localhost.key"))
    entries = []
    base = f"http://127.0.0.1:{origin.port}"
    try:
        def record(started, *args, **kwargs):
            curl(*args)
            entries.append(har_entry(origin, "http", "127.0.0.1", started, **kwargs))

        record("2026-12-01T10:00:00.000+01:00", f"{base}/query?imei={IMEI}&v=2")
        record("2026-12-01T09:00:01.5Z", "-H", f"X-Device-Serial: {SERIAL}", f"{base}/header")
        record("2026-12-01T09:00:02.123456Z", "-b", f"sid=abc; imsi={IMSI}", f"{base}/cookie")
        record("2026-12-01T09:00:03.000Z", "-H", "Content-Type: application/json", "--data-binary",
               json.dumps({"androidId": ANDROID_ID}), f"{base}/json")
        gz = directory / "body.gz"
        gz.write_bytes(gzip.compress(json.dumps({"adid": GAID}).encode()))
        record("2026-12-01T09:00:04.000Z", "-H", "Content-Type: application/json", "-H", "Content-Encoding: gzip",
               "--data-binary", f"@{gz}", f"{base}/gzip", binary=True)
        record("2026-12-01T09:00:05.000Z", "--data-urlencode", f"email={EMAIL}", "-d", "lang=no", f"{base}/form",
               params_only=True)
        curl("--cacert", str(pki / "origin-ca.pem"), "-H", "Content-Type: application/json", "--data-binary",
             json.dumps({"deviceImei": IMEI}), f"https://localhost:{tls_origin.port}/tls")
        entries.append(har_entry(tls_origin, "https", "localhost", "2026-12-01T09:00:06.000Z"))
    finally:
        origin.close()
        tls_origin.close()
    path = directory / "exchange.har"
    path.write_text(json.dumps(har_document(entries), indent=2))
    # The same plain exchanges as the bytes on the wire: a bare HTTP capture, for the report test.
    (directory / "exchange.http").write_bytes(origin.received())
    return path, origin.port, tls_origin.port


@pytest.fixture(autouse=True)
def need_binary():
    if not BINARY.is_file():
        pytest.fail(f"no leakguard binary at {BINARY} (build it, or set LEAKGUARD_BIN)")


def by_path(events):
    found = {}
    for event in events:
        if event["type"] == "finding":
            found.setdefault(urllib.parse.urlsplit(event["url"]).path, []).append(event)
    return found


def assert_every_leak_found(events, http_port, tls_port, source):
    found = by_path(events)
    assert set(found) == set(EXPECTED), found.keys()
    for path, (identifier, where) in EXPECTED.items():
        matches = [e for e in found[path] if e["identifier"] == identifier and e["where"].startswith(where)]
        assert matches, (path, found[path])
        event = matches[0]
        assert event["source"] == str(source) and event["device"] == "lab-phone-01"
        assert event["method_of_detection"] == "known"
        tls = path == "/tls"
        assert event["transport"] == ("https" if tls else "http")
        assert event["dst"] == {"ip": "127.0.0.1", "port": tls_port if tls else http_port,
                                "host": "localhost" if tls else "127.0.0.1", "host_source": "http"}
        assert event["url"].startswith(("https://localhost:" if tls else "http://127.0.0.1:") + str(event["dst"]["port"]))
    assert found["/query"][0]["ts"] == "2026-12-01T09:00:00.000Z"  # +01:00 moved to UTC
    assert found["/header"][0]["ts"] == "2026-12-01T09:00:01.500Z"
    assert found["/cookie"][0]["ts"] == "2026-12-01T09:00:02.123Z"
    assert found["/gzip"][0]["encoding"].startswith("gzip")
    output = json.dumps(events).lower()
    for value in RAW_VALUES:
        assert value.lower() not in output


def test_every_leak_of_a_real_exchange_is_found(recorded_har):
    path, http_port, tls_port = recorded_har
    result, events = scan("-c", PROFILE, path)
    assert result.returncode == 1, result.stderr.decode()
    assert result.stderr == b""
    assert_every_leak_found(events, http_port, tls_port, path)


def test_a_har_on_standard_input(recorded_har):
    path, http_port, tls_port = recorded_har
    result = subprocess.run([str(BINARY), "scan", "-c", str(PROFILE), "-"], input=path.read_bytes(),
                            capture_output=True, timeout=120)
    events = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert result.returncode == 1, result.stderr.decode()
    assert_every_leak_found(events, http_port, tls_port, "-")


def test_bom_and_whitespace_read_as_the_same_har(recorded_har, tmp_path):
    path, http_port, tls_port = recorded_har
    padded = tmp_path / "fiddler.har"
    padded.write_bytes(b"\xef\xbb\xbf \r\n\t" + path.read_bytes() + b"\r\n\n")
    result, events = scan("-c", PROFILE, padded)
    assert result.returncode == 1, result.stderr.decode()
    assert_every_leak_found(events, http_port, tls_port, padded)


def test_a_cut_har_keeps_the_findings_before_the_cut(recorded_har, tmp_path):
    path, _, _ = recorded_har
    text = path.read_text()
    cut = tmp_path / "cut.har"
    cut.write_text(text[:text.index("/form")])  # inside the sixth entry's URL
    result, events = scan("-c", PROFILE, cut)
    assert result.returncode == 2
    message = result.stderr.decode()
    assert "truncated" in message and "log.entries[5]" in message and f"byte {len(cut.read_bytes())}" in message
    assert set(by_path(events)) == {"/query", "/header", "/cookie", "/json", "/gzip"}


def test_a_syntax_error_names_byte_line_and_entry(recorded_har, tmp_path):
    path, _, _ = recorded_har
    text = path.read_text()
    broken_at = text.index('"method": "POST"')
    bad = tmp_path / "bad.har"
    bad.write_text(text[:broken_at] + '"method" "POST"' + text[broken_at + len('"method": "POST"'):])
    result, events = scan("-c", PROFILE, bad)
    assert result.returncode == 2
    message = result.stderr.decode()
    line = text[:broken_at].count("\n") + 1
    assert "not valid JSON" in message and f"line {line}" in message and "log.entries[3]" in message, message
    assert set(by_path(events)) == {"/query", "/header", "/cookie"}


def test_bad_entries_are_skipped_and_named(recorded_har, tmp_path):
    path, _, _ = recorded_har
    har = json.loads(path.read_text())
    entries = har["log"]["entries"]
    del entries[0]["request"]["url"]
    entries[4]["request"]["postData"]["text"] = "not*base64!"
    entries.insert(2, "a string where an entry belongs")
    bad = tmp_path / "entries.har"
    bad.write_text(json.dumps(har))
    result, events = scan("-c", PROFILE, bad)
    assert result.returncode == 2
    message = result.stderr.decode()
    assert "log.entries[0] skipped: request has no url" in message
    assert "log.entries[2] skipped: no request object" in message
    assert "log.entries[5] skipped: postData.text is not valid base64" in message
    assert set(by_path(events)) == {"/header", "/cookie", "/json", "/form", "/tls"}


def test_json_that_is_no_har_is_scanned_as_raw_bytes(tmp_path):
    other = tmp_path / "export.json"
    other.write_text(json.dumps({"log": f"registered imei={IMEI}", "level": "info"}))
    result, events = scan("-c", PROFILE, other)
    assert result.returncode == 1
    assert b"not a HAR: scanned as raw bytes" in result.stderr
    assert [(e["identifier"], e["transport"]) for e in events] == [("imei", "tcp")]
    empty = tmp_path / "empty.har"
    empty.write_text('{"log": {"version": "1.2", "entries": []}}')
    result, events = scan("-c", PROFILE, empty)
    assert (result.returncode, events, result.stderr) == (0, [], b"")


def test_report_over_scan_output_of_a_har_and_a_bare_capture(recorded_har, tmp_path):
    path, http_port, _ = recorded_har
    har_scan, http_scan = tmp_path / "har.jsonl", tmp_path / "http.jsonl"
    result, _ = scan("-c", PROFILE, path)
    har_scan.write_bytes(result.stdout)
    capture = path.with_name("exchange.http")
    result, events = scan(capture)  # no profile: heuristics only, and no device to group by
    assert result.returncode == 1 and events, result.stderr.decode()
    http_scan.write_bytes(result.stdout)

    got = report("--home-country", "NO", "--format", "json", har_scan, http_scan)
    assert got.returncode == 0, got.stderr
    data = json.loads(got.stdout)
    assert data["inputs"]["malformed_lines"] == 0
    rows = {(r["device"], r["host"], r["identifier"]): r for r in data["leaks"]}
    har_rows = {key for key in rows if key[0] == "lab-phone-01"}
    assert har_rows == {("lab-phone-01", "127.0.0.1", kind) for kind, _ in EXPECTED.values() if kind != "imei"} | {
        ("lab-phone-01", "127.0.0.1", "imei"), ("lab-phone-01", "localhost", "imei")}
    tls = rows[("lab-phone-01", "localhost", "imei")]
    assert tls["transports"] == ["https"] and tls["ip"] == "127.0.0.1" and tls["actions"] == {"scanned": 1}
    assert rows[("lab-phone-01", "127.0.0.1", "imei")]["first_seen"] == "2026-12-01T09:00:00.000Z"
    # The bare capture has no device and no addresses: its file and its URLs' host stand in.
    bare = {key: row for key, row in rows.items() if key[0] == f"source {capture}"}
    assert bare and all(host == "127.0.0.1" for _, host, _ in bare)
    assert all(row["ports"] == [str(http_port)] for row in bare.values())
    assert ("imei" in {kind for _, _, kind in bare}), bare.keys()
    devices = {d["device"] for d in data["devices"]}
    assert devices == {"lab-phone-01", f"source {capture}"}

    # A release gate over two captures: the same one on both sides passes, the HAR adds to the bare one.
    assert report("--baseline", har_scan, "--", har_scan).returncode == 0
    got = report("--format", "json", "--baseline", http_scan, "--", har_scan)
    assert got.returncode == 1, got.stderr
    assert "localhost" in json.loads(got.stdout)["baseline"]["new_destinations"]


BROWSER_DIR = pathlib.Path(__file__).parent / "browser"
PAGE = f"""<!doctype html><title>leaking</title><script>
document.cookie = "imsi={IMSI}; path=/";
(async () => {{
  try {{
    await fetch("/api/reg?imei={IMEI}&v=1");
    await fetch("/api/json", {{method: "POST", headers: {{"Content-Type": "application/json",
                                                          "X-Device-Serial": "{SERIAL}"}},
                               body: JSON.stringify({{androidId: "{ANDROID_ID}"}})}});
    await fetch("/api/form", {{method: "POST", body: new URLSearchParams({{email: "{EMAIL}"}})}});
    document.title = "done";
  }} catch (e) {{ document.title = "error " + e; }}
}})();
</script>"""


class PageOrigin(RecordingOrigin):
    """The recording origin, with the leaking page at /page."""

    def respond(self, handler, start, headers, body, reader):
        if start.split(" ")[1] == "/page":
            page = PAGE.encode()
            handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(page)
                                + page)
            handler.wfile.flush()
            return True
        return super().respond(handler, start, headers, body, reader)


def test_a_har_recorded_by_chromium(tmp_path):
    node = shutil.which("node")
    if not node or not pathlib.Path("/usr/bin/chromium").exists():
        pytest.skip("node or /usr/bin/chromium is absent: install them (scripts/install-deps.sh)")
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        pytest.skip("playwright-core is not installed in tests/integration/browser (scripts/install-deps.sh)")
    origin = PageOrigin()
    har = tmp_path / "chromium.har"
    try:
        recorded = subprocess.run([node, str(BROWSER_DIR / "record_har.js"), f"http://127.0.0.1:{origin.port}/page",
                                   str(har)], capture_output=True, text=True, timeout=120)
        assert recorded.returncode == 0, recorded.stderr
        sent = {start.split(" ")[1].split("?")[0] for start, _, _ in origin.requests}
    finally:
        origin.close()
    assert {"/page", "/api/reg", "/api/json", "/api/form"} <= sent  # the browser really sent them
    assert json.loads(har.read_text())["log"]["creator"]["name"] == "Playwright"

    result, events = scan("-c", PROFILE, har)
    assert result.returncode == 1, result.stderr.decode()
    assert result.stderr == b""
    found = {(urllib.parse.urlsplit(e["url"]).path, e["identifier"], e["where"].split(":")[0]) for e in events
             if e["type"] == "finding"}
    assert {("/api/reg", "imei", "query"), ("/api/reg", "imsi", "cookie"), ("/api/json", "serial", "header"),
            ("/api/json", "android_id", "body.json"), ("/api/form", "email", "body.form")} <= found, found
    for event in events:
        assert event["dst"]["host"] == "127.0.0.1" and event["dst"]["port"] == origin.port
        # Chromium leaves serverIPAddress out of some entries (seen on every few recordings): the
        # address is then unknown, and only said when the HAR says it.
        assert event["dst"].get("ip", "127.0.0.1") == "127.0.0.1"
        assert event["transport"] == "http" and event["ts"].endswith("Z")
    output = json.dumps(events).lower()
    for value in RAW_VALUES:
        assert value.lower() not in output
