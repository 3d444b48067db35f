"""HTTP/2 on redirected connections (issue 14), in the namespace lab (netns.py): the phone dials the
origin's own address, nftables hands the connection to leakguard. Plaintext h2 with prior knowledge
(h2c: the client preface is sniffed as TLS and HTTP/1.x are) and h2 over TLS from `nghttp`, which
has no proxy support and so only meets leakguard this way. Skipped without root / nftables, and
while the binary does not intercept h2 (h2_fixtures.py)."""

import json

import pytest

from conftest import start_leakguard
from h2_fixtures import IMEI, h2_ca_dir, h2_pki, leakguard_speaks_h2, tls_settings  # noqa: F401
from netns import Lab, lab_unavailable_reason, sh
from test_hotspot import start_in

reason = lab_unavailable_reason()
pytestmark = [pytest.mark.skipif(reason is not None, reason=f"namespace lab skipped: {reason}"),
              pytest.mark.usefixtures("leakguard_speaks_h2")]


@pytest.fixture
def lab():
    with Lab() as lab:
        yield lab


def lab_phone(lab):
    return {"name": "lab-phone", "match": {"cidr": "10.200.1.0/24"}, "identifiers": {"imei": IMEI}}


def start_router(lab, tmp_path, h2_pki, h2_ca_dir, **config):
    proxy = start_leakguard(tmp_path, {"listen": ["0.0.0.0:0"], "clients": {"allow": ["10.200.1.0/24"]},
                                       "tls": tls_settings(h2_pki, h2_ca_dir), "devices": [lab_phone(lab)], **config},
                            netns=lab.router)
    lab.redirect_tcp_to(proxy.port)
    return proxy


def streams_in(record):
    return [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []


def path_of(stream):
    return dict(map(tuple, stream["headers"]))[":path"]


def test_h2c_with_prior_knowledge_is_inspected_and_blocked_per_stream(lab, tmp_path, h2_pki, h2_ca_dir):
    record = tmp_path / "h2c.jsonl"
    origin, port = start_in(lab.origin, "h2c", lab.ORIGIN_V4, record)
    proxy = start_router(lab, tmp_path, h2_pki, h2_ca_dir, mode="block")
    try:
        base = f"http://{lab.ORIGIN_V4}:{port}"
        # nghttp speaks h2c with prior knowledge for http:// and puts both requests on one connection
        # (curl 7.88's --http2-prior-knowledge fails the second request on a connection even without
        # leakguard: "Error in the HTTP2 framing layer").
        got = sh("nghttp", "-v", f"{base}/clean?lang=en", f"{base}/leaky?imei={IMEI}", netns=lab.phone, check=False)
        assert got.returncode == 0, got.stderr
        statuses = [line.split(":status: ")[1] for line in got.stdout.splitlines() if ":status: " in line
                    and "recv" in line]
        assert sorted(statuses) == ["200", "403"], got.stdout
        assert [path_of(s) for s in streams_in(record)] == ["/clean?lang=en"]
        assert IMEI not in record.read_text()

        http = proxy.events("http", wait_for=lambda e: len(e) >= 2)
        assert sorted((e["http_version"], e["transport"], e["status"]) for e in http) == [("2", "http", 200),
                                                                                           ("2", "http", 403)]
        assert len({e["flow"] for e in http}) == 1 and http[0]["stream"] != http[1]["stream"]
        assert http[0]["dst"] == {"ip": lab.ORIGIN_V4, "port": port, "host": lab.ORIGIN_V4,
                                  "host_source": "http"}
        [finding] = proxy.events("finding", wait_for=lambda e: e)
        assert (finding["identifier"], finding["where"], finding["action"]) == ("imei", "query:imei", "blocked")
    finally:
        proxy.stop()
        origin.kill()


def test_nghttp_over_tls_through_a_redirect(lab, tmp_path, h2_pki, h2_ca_dir):
    record = tmp_path / "h2.jsonl"
    origin, _ = start_in(lab.origin, "h2", lab.ORIGIN_V4, record, 443, h2_pki / "localhost.pem",
                         h2_pki / "localhost.key")
    proxy = start_router(lab, tmp_path, h2_pki, h2_ca_dir)
    try:
        urls = [f"https://{lab.ORIGIN_V4}/nghttp/{i}?imei={IMEI}" for i in range(3)]
        got = sh("nghttp", "-v", *urls, netns=lab.phone, check=False)
        assert got.returncode == 0, got.stderr
        assert got.stdout.count(":status: 200") == 3
        assert sorted(path_of(s) for s in streams_in(record)) == [f"/nghttp/{i}?imei={IMEI}" for i in range(3)]

        [tls] = proxy.events("tls", wait_for=lambda e: e)
        assert tls["event"] == "intercepted" and tls["alpn"] == "h2" and tls["leaf"] == lab.ORIGIN_V4
        http = proxy.events("http", wait_for=lambda e: len(e) >= 3)
        assert {(e["http_version"], e["transport"], e["flow"]) for e in http} == {("2", "https", tls["flow"])}
        found = proxy.events("finding", wait_for=lambda e: len(e) >= 3)
        assert {(f["identifier"], f["where"], f["action"]) for f in found} == {("imei", "query:imei", "logged")}
    finally:
        proxy.stop()
        origin.kill()
