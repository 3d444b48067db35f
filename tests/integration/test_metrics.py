"""The admin listener through the real binary: `admin.listen` on port 0, the "admin listening on"
line, /healthz, /metrics in the Prometheus text format (HELP and TYPE before samples, counters
that only go up and move with traffic), wrong paths and methods; and SIGUSR1 reopening the event
file after logrotate renamed it."""

import gzip
import json
import re
import signal
import subprocess
import time

import pytest

from conftest import BINARY

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\])*",?)*\})? (\d+)$')


def admin_port(proxy, timeout=10.0):
    """The port from the "admin listening on" line (stderr goes to a file, see conftest.py)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in proxy.stderr_path.read_text().splitlines():
            match = re.match(r"admin listening on 127\.0\.0\.1:(\d+)$", line.strip())
            if match:
                return int(match.group(1))
        time.sleep(0.01)
    raise AssertionError("no 'admin listening on' line on stderr in time: " + proxy.stderr_path.read_text())


def curl(*args):
    return subprocess.run(["curl", "-sS", "--noproxy", "*", "-i", *args], capture_output=True, text=True, timeout=30)


def scrape(port):
    got = subprocess.run(["curl", "-sS", "--noproxy", "*", "-D", "-", f"http://127.0.0.1:{port}/metrics"],
                         capture_output=True, text=True, timeout=30)
    assert got.returncode == 0, got.stderr
    head, _, body = got.stdout.partition("\n\n")  # text mode turned CRLF into LF
    assert head.startswith("HTTP/1.1 200")
    assert "content-type: text/plain; version=0.0.4" in head.lower()
    helps, types, samples = set(), {}, {}
    for line in body.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert name in helps, f"TYPE before HELP for {name}"
            assert kind in ("counter", "gauge")
            if kind == "counter":
                assert name.endswith("_total"), name
            types[name] = kind
        else:
            match = SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            assert match.group(1) in types, f"sample before its TYPE: {line}"
            samples[match.group(1) + (match.group(2) or "")] = int(match.group(3))
    return types, samples


@pytest.fixture
def proxy_with_admin(leakguard_factory):
    proxy = leakguard_factory({"admin": {"listen": "127.0.0.1:0"}})
    return proxy, admin_port(proxy)


def test_healthz_and_metrics_move_with_traffic(proxy_with_admin, origin):
    proxy, port = proxy_with_admin
    got = curl(f"http://127.0.0.1:{port}/healthz")
    assert got.returncode == 0 and got.stdout.startswith("HTTP/1.1 200") and got.stdout.endswith("ok\n")

    types, before = scrape(port)
    for family in ("leakguard_connections_total", "leakguard_http_exchanges_total", "leakguard_client_bytes_total",
                   "leakguard_findings_total", "leakguard_tls_connections_total", "leakguard_errors_total",
                   "leakguard_leaf_cache_lookups_total"):
        assert types[family] == "counter", family
    assert types["leakguard_connections_open"] == "gauge"
    assert 'leakguard_findings_total{identifier="imei",action="blocked"}' in before
    assert 'leakguard_tls_connections_total{result="intercepted"}' in before

    for i in range(3):
        got = subprocess.run(["curl", "-sS", "--noproxy", "", "-x", proxy.proxy_url,
                              f"http://127.0.0.1:{origin.port}/x{i}"], capture_output=True, timeout=30)
        assert got.returncode == 0, got.stderr
    proxy.events("conn", wait_for=lambda e: sum(1 for x in e if x.get("event") == "close") >= 3)
    _, after = scrape(port)
    assert after["leakguard_connections_total"] >= before["leakguard_connections_total"] + 3
    assert after["leakguard_http_exchanges_total"] >= before["leakguard_http_exchanges_total"] + 3
    assert after['leakguard_client_bytes_total{direction="received"}'] > before['leakguard_client_bytes_total{direction="received"}']
    assert after['leakguard_client_bytes_total{direction="sent"}'] > before['leakguard_client_bytes_total{direction="sent"}']
    # Counters only go up.
    for name, value in before.items():
        if types.get(re.sub(r"\{.*", "", name)) == "counter":
            assert after[name] >= value, name


def test_wrong_path_and_method(proxy_with_admin):
    _, port = proxy_with_admin
    assert curl(f"http://127.0.0.1:{port}/nope").stdout.startswith("HTTP/1.1 404")
    got = curl("-X", "POST", f"http://127.0.0.1:{port}/metrics")
    assert got.stdout.startswith("HTTP/1.1 405") and "Allow: GET, HEAD" in got.stdout
    got = curl("-I", f"http://127.0.0.1:{port}/metrics")
    assert got.stdout.startswith("HTTP/1.1 200")
    # A query string is not part of the path.
    assert curl(f"http://127.0.0.1:{port}/healthz?probe=1").stdout.startswith("HTTP/1.1 200")


def test_admin_address_in_use_is_a_clear_error(proxy_with_admin, tmp_path):
    _, port = proxy_with_admin
    config = tmp_path / "second.yaml"
    config.write_text(json.dumps({"listen": ["127.0.0.1:0"], "clients": {"allow": ["127.0.0.0/8"]},
                                  "events": {"path": str(tmp_path / "second.jsonl")},
                                  "admin": {"listen": f"127.0.0.1:{port}"}}))
    got = subprocess.run([str(BINARY), "run", "-c", str(config)], capture_output=True, text=True, timeout=30)
    assert got.returncode != 0
    assert f"127.0.0.1:{port}" in got.stderr


def test_sigusr1_reopens_the_event_file(leakguard_factory, origin):
    proxy = leakguard_factory()
    url = f"http://127.0.0.1:{origin.port}"

    def request(path):
        got = subprocess.run(["curl", "-sS", "--noproxy", "", "-x", proxy.proxy_url, url + path],
                             capture_output=True, timeout=30)
        assert got.returncode == 0, got.stderr

    request("/before")
    proxy.events("http", wait_for=lambda e: len(e) >= 1)
    rotated = proxy.events_path.with_name(proxy.events_path.name + ".1")
    proxy.events_path.rename(rotated)  # what logrotate does first
    proxy.process.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 10
    while not proxy.events_path.exists():  # the writer creates the file when it reopens
        assert time.monotonic() < deadline, "SIGUSR1 did not reopen the event file"
        time.sleep(0.02)

    request("/after")
    new_events = proxy.events("http", wait_for=lambda e: len(e) >= 1)
    assert [e["url"].rsplit("/", 1)[1] for e in new_events] == ["after"]
    old_urls = [json.loads(line).get("url", "") for line in rotated.read_text().splitlines() if line.strip()]
    assert any(u.endswith("/before") for u in old_urls)
    assert not any(u.endswith("/after") for u in old_urls)
    assert proxy.events_path.stat().st_mode & 0o777 == 0o600

    # Both halves, the rotated one compressed as logrotate would, make one report.
    proxy.stop()
    compressed = rotated.with_name(rotated.name + ".gz")
    compressed.write_bytes(gzip.compress(rotated.read_bytes()))
    got = subprocess.run([str(BINARY), "report", "--format", "json", str(compressed), str(proxy.events_path)],
                         capture_output=True, text=True, timeout=30)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["inputs"]["event_types"]["http"] == 2
