"""`leakguard report` through the real binary: JSON/Markdown output over event logs in the shape
design.md fixes, gzip-rotated logs, malformed lines, home country from -c or --home-country, the
batch diff and its exit status (0 same, 1 regression, 2 error), and a report over the log of a real
proxy run."""

import gzip
import json
import subprocess

import pytest
import yaml

from conftest import BINARY


def finding(device="lab-phone-01", host="zzhc.example.cn", ip="203.0.113.7", country="CN", transport="http",
            identifier="imei", action="blocked", ts="2026-11-28T09:00:00.123Z", client="10.42.0.11:51234"):
    event = {"type": "finding", "ts": ts, "flow": "1-3", "client": client,
             "dst": {"ip": ip, "port": 80 if transport == "http" else 443, "host": host, "country": country},
             "transport": transport, "method": "POST", "url": f"http://{host}/", "identifier": identifier,
             "detector": "known_identifiers", "method_of_detection": "known", "encoding": "base64>json",
             "where": "body.json:IMEI1", "value": "35320*********", "action": action}
    if device:
        event["device"] = device
    return event


def conn_close(device, transport, client="10.42.0.11:51234"):
    return {"type": "conn", "event": "close", "ts": "2026-11-28T09:00:01.000Z", "flow": "1-3", "device": device,
            "client": client, "dst": {"ip": "203.0.113.7", "port": 443}, "transport": transport,
            "bytes_from_client": 100, "bytes_to_client": 200}


def write_log(path, events, extra_lines=(), compress=False):
    text = "".join(json.dumps(e) + "\n" for e in events) + "".join(line + "\n" for line in extra_lines)
    if compress:
        with gzip.open(path, "wt") as out:
            out.write(text)
    else:
        path.write_text(text)
    return path


def report(*args, timeout=60):
    return subprocess.run([str(BINARY), "report", *map(str, args)], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def lab_log(tmp_path):
    events = [
        finding(ts="2026-11-28T09:00:00.100Z"),
        finding(ts="2026-11-28T09:05:00.100Z", action="logged"),
        finding(identifier="iccid"),
        finding(host="ads.example.no", ip="198.51.100.4", country="NO", transport="https", identifier="gaid",
                action="logged"),
        finding(device=None, client="10.42.0.12:40000", host="", ip="192.0.2.9", country="", transport="tcp",
                identifier="imsi", action="logged"),
        conn_close("lab-phone-01", "https"),
        conn_close("lab-phone-01", "https"),
        conn_close("lab-phone-01", "http"),
        conn_close("lab-phone-01", "tls-passthrough"),
        {"type": "tls", "event": "passthrough", "passthrough": "pinned", "device": "lab-phone-01",
         "client": "10.42.0.11:1", "dst": {}, "ts": "2026-11-28T09:00:00.000Z"},
        {"type": "http", "method": "GET", "url": "http://x/", "status": 200, "device": "lab-phone-01"},
        {"type": "something_new", "payload": {"nested": [1, 2]}},
    ]
    return write_log(tmp_path / "events.jsonl", events, extra_lines=["not json", "[]", '{"type":'])


def test_json_report_rows_coverage_and_inputs(lab_log):
    got = report("--home-country", "NO", "--format", "json", lab_log)
    assert got.returncode == 0, got.stderr
    data = json.loads(got.stdout)
    assert data["home_country"] == "NO"
    rows = {(r["device"], r["host"] or r["ip"], r["identifier"]): r for r in data["leaks"]}
    imei = rows[("lab-phone-01", "zzhc.example.cn", "imei")]
    assert imei["count"] == 2
    assert imei["country"] == "CN" and imei["ip"] == "203.0.113.7"
    assert imei["first_seen"] == "2026-11-28T09:00:00.100Z" and imei["last_seen"] == "2026-11-28T09:05:00.100Z"
    assert imei["transports"] == ["http"] and imei["encodings"] == ["base64>json"]
    assert imei["actions"] == {"blocked": 1, "logged": 1}
    assert imei["severity"] == 5 and imei["severity_label"] == "critical"
    assert rows[("lab-phone-01", "ads.example.no", "gaid")]["severity"] == 1
    # An unprofiled client is grouped by its address.
    assert rows[("client 10.42.0.12", "192.0.2.9", "imsi")]["severity"] == 5
    assert data["leaks"][0]["severity"] == 5 and data["leaks"][-1]["severity"] == 1

    device = next(d for d in data["devices"] if d["device"] == "lab-phone-01")
    assert device["coverage"] == {"connections": 4, "decrypted": 2, "plaintext": 1, "passthrough": 0, "pinned": 1,
                                  "raw": 0, "other": 0, "tls_failed": 0}
    assert device["coverage_line"].startswith("4 connections: 50% decrypted, 25% plaintext HTTP")
    inputs = data["inputs"]
    assert inputs["malformed_lines"] == 3
    assert inputs["event_types"]["something_new"] == 1
    assert [p["line"] for p in inputs["problems"]] == [13, 14, 15]
    assert "3 malformed lines" in got.stderr
    # Masked values stay masked: the report carries no value at all.
    assert "35320" not in got.stdout


def test_markdown_is_the_default_and_gz_logs_are_read_as_they_are(tmp_path, lab_log):
    rotated = tmp_path / "events.jsonl.1.gz"
    rotated.write_bytes(gzip.compress(lab_log.read_bytes()))
    got = report("--home-country", "no", lab_log, rotated)
    assert got.returncode == 0, got.stderr
    assert got.stdout.startswith("# leakguard report")
    assert "Home country: NO." in got.stdout
    assert "| 5 critical | lab-phone-01 | zzhc.example.cn | 203.0.113.7 | CN | imei | 4 |" in got.stdout
    assert "## Severity scale" in got.stdout


def test_output_file_and_format_from_its_extension(tmp_path, lab_log):
    for name, marker in (("r.html", "<!DOCTYPE html>"), ("r.json", '"leaks"'), ("r.md", "# leakguard report")):
        out = tmp_path / name
        got = report("-o", out, lab_log)
        assert got.returncode == 0, got.stderr
        assert got.stdout == ""
        assert marker in out.read_text()
    assert not list(tmp_path.glob("*.tmp.*"))


def test_home_country_from_the_configuration(tmp_path, lab_log):
    config = tmp_path / "lab.yaml"
    config.write_text(yaml.safe_dump({"home_country": "CN"}))
    data = json.loads(report("-c", config, "--format", "json", lab_log).stdout)
    assert data["home_country"] == "CN"
    imei = next(r for r in data["leaks"] if r["identifier"] == "imei")
    assert imei["severity"] == 4  # plaintext, but at home now
    # --home-country wins over the file.
    data = json.loads(report("-c", config, "--home-country", "NO", "--format", "json", lab_log).stdout)
    assert data["home_country"] == "NO"
    # Without either, every destination counts as abroad.
    data = json.loads(report("--format", "json", lab_log).stdout)
    assert data["home_country"] is None
    assert next(r for r in data["leaks"] if r["identifier"] == "gaid")["severity"] == 2


def test_baseline_diff_is_a_release_gate(tmp_path):
    old = write_log(tmp_path / "batch1.jsonl", [finding(), finding(identifier="gaid", transport="https")])
    same = write_log(tmp_path / "batch2-same.jsonl", [finding(device="b2-phone-03"),
                                                       finding(device="b2-phone-03", identifier="gaid", transport="https")])
    worse = write_log(tmp_path / "batch2-worse.jsonl", [
        finding(device="b2-phone-03"),
        finding(device="b2-phone-03", identifier="iccid"),
        finding(device="b2-phone-03", host="t.example.net", ip="192.0.2.1", country="US", identifier="serial"),
        finding(device="b2-phone-03", identifier="gaid", transport="http"),
    ])
    better = write_log(tmp_path / "batch2-better.jsonl", [finding(device="b2-phone-03")], compress=False)

    got = report("--home-country", "NO", "--baseline", old, "--", same)
    assert got.returncode == 0, got.stderr
    assert "no regression" in got.stdout

    got = report("--home-country", "NO", "--format", "json", "--baseline", old, "--", worse)
    assert got.returncode == 1, got.stderr
    diff = json.loads(got.stdout)["baseline"]
    assert diff["regression"] is True
    assert diff["new_destinations"] == ["t.example.net"]
    assert diff["new_identifiers"] == ["iccid", "serial"]
    assert {(e["destination"], e["identifier"]) for e in diff["new_leaks"]} == {
        ("zzhc.example.cn", "iccid"), ("t.example.net", "serial")}
    assert [(e["identifier"], e["baseline_severity"], e["severity"]) for e in diff["escalated"]] == [("gaid", 2, 3)]
    assert "regression" in got.stderr

    got = report("--home-country", "NO", "--format", "md", "--baseline", old, "--", better)
    assert got.returncode == 0, got.stderr
    assert "### Gone" in got.stdout and "zzhc.example.cn | CN | gaid" in got.stdout

    # Several logs on each side, and a gzip-rotated one among them.
    rotated = tmp_path / "batch1.jsonl.1.gz"
    rotated.write_bytes(gzip.compress(old.read_bytes()))
    got = report("--baseline", old, rotated, "--", same, same)
    assert got.returncode == 0, got.stderr


@pytest.mark.parametrize("args, message", [
    ([], "no event logs"),
    (["--format", "pdf", "x.jsonl"], "unknown format"),
    (["--bogus", "x.jsonl"], "unknown option"),
    (["--baseline", "--", "x.jsonl"], "--baseline needs"),
    (["--baseline", "x.jsonl"], "no new event logs"),
    (["--home-country", "Norway", "x.jsonl"], "two-letter"),
    (["/nonexistent/events.jsonl"], "cannot open"),
    (["-c", "/nonexistent/lab.yaml", "x.jsonl"], "lab.yaml"),
])
def test_errors_exit_2(tmp_path, args, message):
    (tmp_path / "x.jsonl").write_text(json.dumps(finding()) + "\n")
    got = subprocess.run([str(BINARY), "report", *args], capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert got.returncode == 2, (got.stdout, got.stderr)
    assert message in got.stderr


def test_stdin_and_a_truncated_gzip(tmp_path, lab_log):
    got = subprocess.run([str(BINARY), "report", "--format", "json", "-"], input=lab_log.read_text(),
                         capture_output=True, text=True, timeout=30)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["inputs"]["events"] == 12

    big = "".join(json.dumps(finding(ts=f"2026-11-28T09:00:{i % 60:02d}.000Z")) + "\n" for i in range(5000))
    packed = gzip.compress(big.encode())
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    got = report("--format", "json", cut)
    assert got.returncode == 0, got.stderr
    data = json.loads(got.stdout)
    assert data["inputs"]["read_errors"] == 1
    assert 0 < data["leaks"][0]["count"] < 5000
    assert "read error" in got.stderr


def test_report_over_a_real_proxy_run(leakguard_factory, origin, tmp_path):
    """The events `leakguard run` writes are what `leakguard report` reads: a client without a
    profile shows up by address with its coverage, whatever findings the run produced."""
    proxy = leakguard_factory()
    for path in ("/a", "/b?imei=353209091234567"):
        got = subprocess.run(["curl", "-sS", "--noproxy", "", "-x", proxy.proxy_url,
                              f"http://127.0.0.1:{origin.port}{path}"], capture_output=True, timeout=30)
        assert got.returncode == 0, got.stderr
    proxy.events("conn", wait_for=lambda e: sum(1 for x in e if x.get("event") == "close") >= 2)
    proxy.stop()
    got = report("--format", "json", proxy.events_path)
    assert got.returncode == 0, got.stderr
    data = json.loads(got.stdout)
    assert data["inputs"]["malformed_lines"] == 0
    device = next(d for d in data["devices"] if d["device"] == "client 127.0.0.1")
    assert device["coverage"]["connections"] >= 2
    coverage = device["coverage"]
    assert sum(coverage[k] for k in ("decrypted", "plaintext", "passthrough", "pinned", "raw", "other")) \
        == coverage["connections"]
    # The report never carries request text (URLs), so nothing of what the phone sent is copied.
    assert "353209091234567" not in got.stdout
