"""TLS interception (issue 5) through the real binary, with real TLS on loopback: an HTTPS origin
with a test CA of its own (made here with the openssl CLI), leakguard with a CA from `ca init`,
curl and openssl s_client as clients through CONNECT. What is checked is what each side saw: the
origin's decrypted bytes, curl's answer and exit status, and leakguard's `tls` / `http` events."""

import os
import signal
import socket
import ssl
import subprocess
import time

import pytest
import yaml

from conftest import BINARY, Started, start_leakguard
from pki import make_ca, make_server_cert
from servers import HttpsOrigin, read_head

IMEI = "353209091234567"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """origin-ca signs `localhost` (DNS:localhost, IP:127.0.0.1) and `otherhost` (DNS:otherhost);
    rogue-ca, which leakguard does not trust, signs another `localhost`."""
    directory = tmp_path_factory.mktemp("pki")
    make_ca(directory, "origin-ca")
    make_ca(directory, "rogue-ca")
    make_server_cert(directory, "localhost", "origin-ca", "DNS:localhost,IP:127.0.0.1")
    make_server_cert(directory, "otherhost", "origin-ca", "DNS:otherhost")
    make_server_cert(directory, "rogue", "rogue-ca", "DNS:localhost,IP:127.0.0.1")
    return directory


@pytest.fixture
def https_origin(pki):
    started = Started(lambda name="localhost": HttpsOrigin(str(pki / f"{name}.pem"), str(pki / f"{name}.key")),
                      HttpsOrigin.close)
    yield started
    started.stop_all()


@pytest.fixture
def ca_dir(tmp_path):
    result = subprocess.run([str(BINARY), "ca", "init", "--dir", str(tmp_path / "ca")], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return tmp_path / "ca"


@pytest.fixture
def intercepting(tmp_path, pki, ca_dir):
    """Starts leakguard with interception on (all hosts unless `tls` says otherwise)."""
    def start(tls=None, **config):
        settings = {"intercept": "all", "ca_dir": str(ca_dir), "upstream_ca": str(pki / "origin-ca.pem")}
        settings.update(tls or {})
        return start_leakguard(tmp_path, {"tls": settings, **config}, name=f"leakguard{len(started)}")

    started = Started(start, lambda proxy: proxy.stop())
    yield started
    started.stop_all()


CLEAN_ENV = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


def curl(proxy, url, cacert, *extra):
    return subprocess.run(["curl", "-sS", "--max-time", "10", "-x", proxy.proxy_url, "--cacert", str(cacert), *extra,
                           url], capture_output=True, text=True, timeout=30, env=CLEAN_ENV)


def tls_events(proxy, count, event=None):
    def wanted(events):
        return len([e for e in events if event is None or e["event"] == event]) >= count

    events = proxy.events("tls", wait_for=wanted)
    return [e for e in events if event is None or e["event"] == event]


def test_https_through_connect_is_decrypted_and_takes_the_http_path(intercepting, https_origin, ca_dir):
    origin = https_origin()
    proxy = intercepting()
    got = curl(proxy, f"https://localhost:{origin.port}/hello?x=1", ca_dir / "ca.pem")
    assert got.returncode == 0, got.stderr
    assert '"path": "/hello?x=1"' in got.stdout
    assert b"GET /hello?x=1 HTTP/1.1\r\n" in origin.received()

    [intercepted] = tls_events(proxy, 1, "intercepted")
    assert intercepted["sni"] == "localhost"
    assert intercepted["leaf"] == "localhost"
    assert intercepted["leaf_cache"] == "miss"
    assert intercepted["transport"] == "https"
    assert intercepted["alpn"] == "http/1.1"
    assert intercepted["client_tls"] in ("TLSv1.2", "TLSv1.3") and intercepted["upstream_tls"] == "TLSv1.3"
    assert intercepted["dst"]["port"] == origin.port and intercepted["dst"]["host"] == "localhost"
    assert intercepted["upstream_resumed"] is False

    [http] = proxy.events("http", wait_for=lambda e: e)
    assert http["transport"] == "https"
    assert http["url"] == f"https://localhost:{origin.port}/hello?x=1"
    assert http["status"] == 200 and http["flow"] == intercepted["flow"]

    # A second connection to the same host reuses the forged leaf.
    got = curl(proxy, f"https://localhost:{origin.port}/again", ca_dir / "ca.pem")
    assert got.returncode == 0, got.stderr
    second = tls_events(proxy, 2, "intercepted")[1]
    assert second["leaf_cache"] == "hit"
    # ... and resumes the verified session with the origin instead of a full handshake.
    assert second["upstream_resumed"] is True

    close = proxy.events("conn", wait_for=lambda e: len([x for x in e if x["event"] == "close"]) >= 2)
    assert all(e["transport"] == "https" and e["sni"] == "localhost" for e in close if e["event"] == "close")


def test_keep_alive_requests_share_one_intercepted_connection(intercepting, https_origin, ca_dir):
    origin = https_origin()
    proxy = intercepting()
    url = f"https://localhost:{origin.port}"
    common = ["-x", proxy.proxy_url, "--cacert", str(ca_dir / "ca.pem")]
    got = subprocess.run(["curl", "-sS", "--max-time", "10", *common, f"{url}/one", "--next", *common, f"{url}/two",
                          "--next", *common, "-d", "a=1", f"{url}/three"],
                         capture_output=True, text=True, timeout=30, env=CLEAN_ENV)
    assert got.returncode == 0, got.stderr
    http = proxy.events("http", wait_for=lambda e: len(e) >= 3)
    assert [e["url"].rsplit("/", 1)[1] for e in http] == ["one", "two", "three"]
    assert len({e["flow"] for e in http}) == 1
    assert len(tls_events(proxy, 1, "intercepted")) == 1
    assert origin.handshakes == 1


def test_a_connection_quiet_past_the_buffer_release_still_carries_requests(intercepting, https_origin, ca_dir):
    """After 2 s without traffic leakguard gives both TLS sides' record buffers back
    (Session::tls_quiet_after); the next request on the same connection must not notice."""
    from test_metrics import admin_port, scrape

    origin = https_origin()
    proxy = intercepting(devices=LAB_PHONE, admin={"listen": "127.0.0.1:0"})
    context = ssl.create_default_context(cafile=str(ca_dir / "ca.pem"))
    with socket.create_connection((proxy.host, proxy.port), timeout=10) as raw:
        raw.sendall(f"CONNECT localhost:{origin.port} HTTP/1.1\r\nHost: localhost:{origin.port}\r\n\r\n".encode())
        assert read_head(raw).startswith(b"HTTP/1.1 200 ")
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            for path in ("/first", f"/second?imei={IMEI}"):
                tls.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost:{origin.port}\r\n\r\n".encode())
                head, _, body = read_head(tls).partition(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 200 "), head
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                while len(body) < length:
                    body += tls.recv(length - len(body))
                time.sleep(3)  # quiet for longer than tls_quiet_after, on purpose
    http = proxy.events("http", wait_for=lambda e: len(e) >= 2)
    assert [e["status"] for e in http] == [200, 200] and len({e["flow"] for e in http}) == 1
    [finding] = proxy.events("finding", wait_for=lambda e: e)
    assert finding["identifier"] == "imei" and finding["where"] == "query:imei"
    assert origin.handshakes == 1
    _, samples = scrape(admin_port(proxy))
    assert samples["leakguard_tls_buffer_releases_total"] == 2  # one per quiet spell


def test_client_that_rejects_the_leaf_is_passed_through_afterwards(intercepting, https_origin, pki):
    origin = https_origin()
    proxy = intercepting()
    url = f"https://localhost:{origin.port}/pinned"
    # This client trusts the origin's CA only, as a pinning app trusts only its own server.
    first = curl(proxy, url, pki / "origin-ca.pem")
    assert first.returncode == 60, first.stderr  # curl: the peer certificate cannot be verified
    [rejected] = tls_events(proxy, 1, "client_rejected")
    assert rejected["sni"] == "localhost" and rejected["host"] == "localhost"
    assert "unknown ca" in rejected["reason"]
    assert rejected["passthrough_for_s"] == 3600
    assert b"/pinned" not in origin.received()

    second = curl(proxy, url, pki / "origin-ca.pem")
    assert second.returncode == 0, second.stderr  # end to end with the origin's own certificate
    assert '"path": "/pinned"' in second.stdout
    [passthrough] = tls_events(proxy, 1, "passthrough")
    assert passthrough["passthrough"] == "pinned"
    assert passthrough["transport"] == "tls-passthrough" and passthrough["sni"] == "localhost"
    assert not proxy.events("http")  # nothing decrypted

    close = proxy.events("conn", wait_for=lambda e: len([x for x in e if x["event"] == "close"]) >= 2)
    passed = [e for e in close if e["event"] == "close" and e["flow"] == passthrough["flow"]][0]
    assert passed["bytes_from_client"] > 0 and passed["bytes_to_client"] > 0 and "duration_ms" in passed


def test_pinning_is_per_client_address(intercepting, https_origin, pki, ca_dir):
    origin = https_origin()
    proxy = intercepting()
    url = f"https://localhost:{origin.port}/"
    assert curl(proxy, url, pki / "origin-ca.pem").returncode == 60
    tls_events(proxy, 1, "client_rejected")
    # Another client address (127.0.0.2 is loopback too) still gets interception.
    got = curl(proxy, url, ca_dir / "ca.pem", "--interface", "127.0.0.2")
    assert got.returncode == 0, got.stderr
    [intercepted] = tls_events(proxy, 1, "intercepted")
    assert intercepted["client"].startswith("127.0.0.2:")


def test_client_closing_right_after_the_handshake_counts_as_rejection(intercepting, https_origin, ca_dir):
    """OkHttp's CertificatePinner completes the handshake, checks the pins, and closes at once."""
    origin = https_origin()
    proxy = intercepting()
    context = ssl.create_default_context(cafile=str(ca_dir / "ca.pem"))
    with socket.create_connection((proxy.host, proxy.port), timeout=5) as sock:
        sock.sendall(f"CONNECT localhost:{origin.port} HTTP/1.1\r\nHost: localhost:{origin.port}\r\n\r\n".encode())
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        with context.wrap_socket(sock, server_hostname="localhost") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
    [rejected] = tls_events(proxy, 1, "client_rejected")
    assert rejected["reason"] == "closed after the handshake without a request"
    assert [e["event"] for e in tls_events(proxy, 2)] == ["intercepted", "client_rejected"]


def test_untrusted_origin_is_refused_with_a_handshake_failure(intercepting, https_origin, ca_dir):
    origin = https_origin("rogue")
    proxy = intercepting()
    got = curl(proxy, f"https://localhost:{origin.port}/secret", ca_dir / "ca.pem")
    assert got.returncode == 35, got.stderr  # curl: SSL connect error
    assert "handshake failure" in got.stderr
    [failed] = tls_events(proxy, 1, "upstream_verify_failed")
    assert failed["reason"] == "unable to get local issuer certificate"
    assert failed["sni"] == "localhost"
    assert origin.received() == b""  # not one request byte went to an unverified origin
    assert not tls_events(proxy, 0, "intercepted")
    # The failure is ours, not the client's: it is not remembered as pinning.
    assert not tls_events(proxy, 0, "client_rejected")


def test_origin_certificate_for_another_host_is_refused(intercepting, https_origin, ca_dir):
    origin = https_origin("otherhost")
    proxy = intercepting()
    got = curl(proxy, f"https://localhost:{origin.port}/", ca_dir / "ca.pem")
    assert got.returncode == 35, got.stderr
    got = curl(proxy, f"https://127.0.0.1:{origin.port}/", ca_dir / "ca.pem")
    assert got.returncode == 35, got.stderr
    failed = tls_events(proxy, 2, "upstream_verify_failed")
    assert [e["reason"] for e in failed] == ["hostname mismatch", "IP address mismatch"]
    assert origin.received() == b""


def test_client_hello_without_sni_gets_a_leaf_for_the_destination_address(intercepting, https_origin, ca_dir):
    origin = https_origin()
    proxy = intercepting()
    # curl sends no SNI for an address; the leaf then carries the address as an IP SAN.
    got = curl(proxy, f"https://127.0.0.1:{origin.port}/by-ip", ca_dir / "ca.pem")
    assert got.returncode == 0, got.stderr
    [intercepted] = tls_events(proxy, 1, "intercepted")
    assert intercepted["leaf"] == "127.0.0.1" and "sni" not in intercepted
    assert b"GET /by-ip HTTP/1.1" in origin.received()

    # A host name in CONNECT but no SNI in the hello: the leaf is still for the address dialled.
    s_client = subprocess.run(
        ["openssl", "s_client", "-proxy", f"{proxy.host}:{proxy.port}", "-connect", f"localhost:{origin.port}",
         "-noservername", "-CAfile", str(ca_dir / "ca.pem"), "-verify_ip", "127.0.0.1", "-verify_return_error",
         "-ign_eof", "-quiet"],
        input=b"GET /no-sni HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", capture_output=True, timeout=30)
    assert s_client.returncode == 0, s_client.stderr
    assert b'"path": "/no-sni"' in s_client.stdout
    second = tls_events(proxy, 2, "intercepted")[1]
    assert second["leaf"] == "127.0.0.1" and second["leaf_cache"] == "hit" and "sni" not in second


def test_passthrough_globs_and_intercept_lists(intercepting, https_origin, pki):
    origin = https_origin()
    proxy = intercepting({"passthrough": ["LOCAL*"]})
    got = curl(proxy, f"https://localhost:{origin.port}/bank", pki / "origin-ca.pem")
    assert got.returncode == 0, got.stderr
    [event] = tls_events(proxy, 1, "passthrough")
    assert event["passthrough"] == "config" and event["sni"] == "localhost"

    listed = intercepting({"intercept": ["*.example.com"]})
    got = curl(listed, f"https://localhost:{origin.port}/unlisted", pki / "origin-ca.pem")
    assert got.returncode == 0, got.stderr
    [event] = tls_events(listed, 1, "passthrough")
    assert event["passthrough"] == "not_intercepted"
    assert not listed.events("http")


def test_default_configuration_intercepts_nothing(tmp_path, https_origin, pki):
    origin = https_origin()
    proxy = start_leakguard(tmp_path, {})
    try:
        got = curl(proxy, f"https://localhost:{origin.port}/plain", pki / "origin-ca.pem")
        assert got.returncode == 0, got.stderr
        [event] = tls_events(proxy, 1, "passthrough")
        assert event["passthrough"] == "not_intercepted" and event["sni"] == "localhost"
    finally:
        proxy.stop()


def test_clients_offering_no_relayed_protocol_are_passed_through(intercepting, https_origin, pki):
    # h2 and http/1.1 are intercepted (h2: test_http2.py); a client whose ALPN list names neither
    # speaks something of its own over TLS, which a forged connection would break.
    origin = https_origin()
    proxy = intercepting()
    s_client = subprocess.run(
        ["openssl", "s_client", "-proxy", f"{proxy.host}:{proxy.port}", "-connect", f"localhost:{origin.port}",
         "-servername", "localhost", "-alpn", "xmpp-client", "-CAfile", str(pki / "origin-ca.pem"),
         "-verify_return_error"],
        input=b"", capture_output=True, timeout=30)
    assert s_client.returncode == 0, s_client.stderr
    [event] = tls_events(proxy, 1, "passthrough")
    assert event["passthrough"] == "alpn" and event["alpn_offered"] == ["xmpp-client"]


def test_reload_turns_interception_on(tmp_path, https_origin, pki, ca_dir):
    origin = https_origin()
    proxy = start_leakguard(tmp_path, {})
    try:
        url = f"https://localhost:{origin.port}/"
        assert curl(proxy, url, pki / "origin-ca.pem").returncode == 0
        config = yaml.safe_load(proxy.config_path.read_text())
        config["tls"] = {"intercept": ["localhost"], "ca_dir": str(ca_dir), "upstream_ca": str(pki / "origin-ca.pem")}
        proxy.config_path.write_text(yaml.safe_dump(config))
        proxy.process.send_signal(signal.SIGHUP)
        proxy.events("config", wait_for=lambda e: e)
        got = curl(proxy, url, ca_dir / "ca.pem")
        assert got.returncode == 0, got.stderr
        assert [e["event"] for e in tls_events(proxy, 2)] == ["passthrough", "intercepted"]
    finally:
        proxy.stop()


def run_until_exit(tmp_path, tls):
    """`leakguard run` with a configuration that must be refused: (exit status, stderr)."""
    config = tmp_path / "refused.yaml"
    config.write_text(yaml.safe_dump({"listen": ["127.0.0.1:0"], "events": {"path": str(tmp_path / "refused.jsonl")},
                                      "tls": tls}))
    result = subprocess.run([str(BINARY), "run", "-c", str(config)], capture_output=True, text=True, timeout=30)
    return result.returncode, result.stderr


def test_a_ca_key_others_can_read_is_refused_at_start(tmp_path, pki, ca_dir):
    os.chmod(ca_dir / "ca.key", 0o644)
    status, stderr = run_until_exit(tmp_path, {"intercept": "all", "ca_dir": str(ca_dir),
                                               "upstream_ca": str(pki / "origin-ca.pem")})
    assert status == 1
    assert "listening on" not in stderr
    assert "tls.intercept is on but the CA cannot be used" in stderr and "has mode 0644" in stderr, stderr
    # Interception off: the CA is not even looked at.
    start_leakguard(tmp_path, {"tls": {"intercept": "none", "ca_dir": str(ca_dir)}}).stop()


def test_a_missing_trust_store_is_refused_at_start(tmp_path, ca_dir):
    status, stderr = run_until_exit(tmp_path, {"intercept": "all", "ca_dir": str(ca_dir),
                                               "upstream_ca": str(tmp_path / "nowhere.pem")})
    assert status == 1
    assert "tls.upstream_ca" in stderr and "nowhere.pem" in stderr, stderr


def test_a_leak_inside_https_is_found_and_blocked(intercepting, https_origin, ca_dir):
    origin = https_origin()
    proxy = intercepting(mode="block", devices=[{"name": "lab-phone", "match": {"cidr": "127.0.0.0/8"},
                                                 "identifiers": {"imei": IMEI}}])
    got = curl(proxy, f"https://localhost:{origin.port}/activate?imei={IMEI}", ca_dir / "ca.pem",
               "-o", "/dev/null", "-w", "%{http_code}")
    assert got.stdout != "200"
    assert IMEI.encode() not in origin.received()
    findings = proxy.events("finding", wait_for=lambda e: e)
    assert findings, "no finding event"
    assert findings[0]["transport"] == "https" and findings[0]["identifier"] == "imei"
    assert findings[0]["action"] == "blocked"
    assert IMEI not in proxy.events_path.read_text()


def test_metrics_count_tls_outcomes_and_leaf_cache(intercepting, https_origin, ca_dir, pki):
    from test_metrics import admin_port, scrape
    origin = https_origin()
    proxy = intercepting(admin={"listen": "127.0.0.1:0"})
    port = admin_port(proxy)
    url = f"https://localhost:{origin.port}/"
    for _ in range(2):
        assert curl(proxy, url, ca_dir / "ca.pem").returncode == 0
    assert curl(proxy, url, pki / "origin-ca.pem").returncode == 60  # rejected, then pinned
    assert curl(proxy, url, pki / "origin-ca.pem").returncode == 0   # passed through
    tls_events(proxy, 4)
    _, samples = scrape(port)
    assert samples['leakguard_tls_connections_total{result="intercepted"}'] == 2
    assert samples['leakguard_tls_connections_total{result="client_rejected"}'] == 1
    assert samples['leakguard_tls_connections_total{result="passthrough"}'] == 1
    assert samples['leakguard_tls_connections_total{result="failed"}'] == 0
    # One miss for the first connection, hits for the second and for the rejected one.
    assert samples['leakguard_leaf_cache_lookups_total{result="miss"}'] == 1
    assert samples['leakguard_leaf_cache_lookups_total{result="hit"}'] == 2


def test_upstream_sessions_are_resumed_only_for_the_name_they_were_verified_for(intercepting, https_origin, ca_dir):
    origin = https_origin()
    proxy = intercepting()
    for url in (f"https://localhost:{origin.port}/a", f"https://127.0.0.1:{origin.port}/b",
                f"https://localhost:{origin.port}/c", f"https://127.0.0.1:{origin.port}/d"):
        got = curl(proxy, url, ca_dir / "ca.pem")
        assert got.returncode == 0, got.stderr
    events = tls_events(proxy, 4, "intercepted")
    assert [(e["leaf"], e["upstream_resumed"]) for e in events] == [
        ("localhost", False), ("127.0.0.1", False), ("localhost", True), ("127.0.0.1", True)]


def test_destination_rules_block_passed_through_tls(intercepting, https_origin, pki):
    origin = https_origin()
    proxy = intercepting({"intercept": "none"},
                         rules=[{"name": "no-local-tls", "match": {"hosts": ["localhost"], "transports": ["tls-passthrough"]},
                                 "action": "block"}])
    got = curl(proxy, f"https://localhost:{origin.port}/", pki / "origin-ca.pem")
    assert got.returncode != 0
    [blocked] = proxy.events("policy", wait_for=lambda e: e)
    assert blocked["event"] == "blocked" and blocked["rule"] == "no-local-tls"
    assert blocked["transport"] == "tls-passthrough" and blocked["sni"] == "localhost"
    assert origin.received() == b"" and origin.handshakes == 0


def hello_with_server_name(proxy, origin, server_name):
    """A TLS handshake through CONNECT whose ClientHello names `server_name` (not verified)."""
    return subprocess.run(
        ["openssl", "s_client", "-proxy", f"{proxy.host}:{proxy.port}", "-connect", f"localhost:{origin.port}",
         "-servername", server_name], input=b"", capture_output=True, timeout=30)


LAB_PHONE = [{"name": "lab-phone", "match": {"cidr": "127.0.0.0/8"}, "identifiers": {"imei": IMEI}}]


def test_an_identifier_in_the_server_name_is_blocked_before_the_hello_leaves(intercepting, https_origin):
    origin = https_origin()
    proxy = intercepting(mode="block", devices=LAB_PHONE)
    s_client = hello_with_server_name(proxy, origin, f"{IMEI}.activation.test")
    assert b"BEGIN CERTIFICATE" not in s_client.stdout  # no handshake with anyone
    [finding] = proxy.events("finding", wait_for=lambda e: e)
    assert finding["identifier"] == "imei" and finding["where"] == "tls.sni"
    assert finding["action"] == "blocked" and finding["device"] == "lab-phone"
    [blocked] = proxy.events("policy", wait_for=lambda e: e)
    assert blocked["event"] == "blocked"
    proxy.events("conn", wait_for=lambda e: any(c.get("event") == "close" for c in e))
    assert origin.handshakes == 0 and origin.received() == b""
    assert IMEI not in proxy.events_path.read_text()  # sni and dst.host masked in every event


def test_an_identifier_in_a_passed_through_server_name_is_logged_and_masked(intercepting, https_origin):
    origin = https_origin()
    proxy = intercepting({"intercept": "none"}, devices=LAB_PHONE)
    s_client = hello_with_server_name(proxy, origin, f"{IMEI}.activation.test")
    assert b"BEGIN CERTIFICATE" in s_client.stdout  # passed through to the origin
    [finding] = proxy.events("finding", wait_for=lambda e: e)
    assert finding["where"] == "tls.sni" and finding["action"] == "logged"
    closes = proxy.events("conn", wait_for=lambda e: any(c.get("event") == "close" for c in e))
    close = [c for c in closes if c.get("event") == "close"][0]
    assert close["sni"].endswith(".activation.test") and close["sni"] != f"{IMEI}.activation.test"
    assert origin.handshakes == 1
    assert IMEI not in proxy.events_path.read_text()


def test_a_server_name_without_identifiers_gives_no_finding(intercepting, https_origin, ca_dir):
    origin = https_origin()
    proxy = intercepting(mode="block", devices=LAB_PHONE)
    got = curl(proxy, f"https://localhost:{origin.port}/clean", ca_dir / "ca.pem")
    assert got.returncode == 0, got.stderr
    proxy.events("http", wait_for=lambda e: e)
    assert proxy.events("finding") == []


def connect_to(proxy, authority):
    with socket.create_connection((proxy.host, proxy.port), timeout=10) as client:
        client.sendall(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
        return read_head(client)


def test_an_identifier_in_a_connect_host_is_blocked_before_it_is_resolved(intercepting):
    proxy = intercepting(mode="block", devices=LAB_PHONE)
    reply = connect_to(proxy, f"{IMEI}.activation.invalid:443")
    assert reply.startswith(b"HTTP/1.1 403 ")
    [finding] = proxy.events("finding", wait_for=lambda e: e)
    assert finding["where"] == "connect.host" and finding["action"] == "blocked"
    assert proxy.events("error") == []  # no connection was attempted, so none failed
    proxy.events("conn", wait_for=lambda e: any(c.get("event") == "close" for c in e))
    assert IMEI not in proxy.events_path.read_text()

