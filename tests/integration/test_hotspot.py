"""The hotspot, end to end, without Wi-Fi hardware: a "phone" namespace, a "router" namespace that
runs leakguard behind the rules `leakguard firewall apply` loads, and an "internet" namespace with
origins (HTTP, a raw TCP listener on port 9999, UDP sinks). The phone uses ordinary clients against
the origins' own addresses, as if there were no proxy. Every address belongs to the lab's own
namespaces; fixed ports are used only inside them."""

import json
import pathlib
import subprocess
import time

import pytest

from conftest import BINARY, start_leakguard
from netns import Lab, lab_unavailable_reason, sh
from pki import make_ca, make_server_cert

HERE = pathlib.Path(__file__).parent
IMEI = "353209091234567"
PROXY_PORT = 15001  # inside the router namespace only

reason = lab_unavailable_reason()
pytestmark = pytest.mark.skipif(reason is not None, reason=f"hotspot lab skipped: {reason}")


def start_in(lab_ns, kind, host, record, port=0, *extra):
    process = subprocess.Popen(["ip", "netns", "exec", lab_ns, "/usr/bin/python3", str(HERE / "origin_main.py"),
                                kind, host, str(record), str(port), *map(str, extra)], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert line.startswith("port "), f"{kind} server did not start: {line!r}"
    return process, int(line.split()[1])


def phone_profile(lab):
    return {
        "name": "lab-phone-01",
        "match": {"mac": lab.PHONE_MAC},  # a hotspot client's IP changes, its MAC does not
        "identifiers": {"imei": IMEI, "imsi": "242016601234567", "iccid": "8947016601234567890"},
    }


@pytest.fixture
def hotspot(tmp_path):
    with Lab() as lab:
        processes = []
        records = {name: tmp_path / f"{name}.bin"
                   for name in ("http4", "http6", "raw", "udp443", "udp4443", "https")}
        # The origin's own PKI (its CA is what leakguard verifies upstream with) and leakguard's
        # interception CA (what the phone trusts, as a lab phone with the CA installed would).
        pki = tmp_path / "pki"
        pki.mkdir()
        make_ca(pki, "origin-ca")
        make_server_cert(pki, "origin", "origin-ca", f"IP:{lab.ORIGIN_V4},DNS:api.origin.test")
        subprocess.run([str(BINARY), "ca", "init", "--dir", str(tmp_path / "ca")], check=True, capture_output=True)
        https, _ = start_in(lab.origin, "https", lab.ORIGIN_V4, records["https"], 443, pki / "origin.pem",
                            pki / "origin.key")
        http4, http_port = start_in(lab.origin, "http", lab.ORIGIN_V4, records["http4"])
        http6, http6_port = start_in(lab.origin, "http", lab.ORIGIN_V6, records["http6"])
        raw, _ = start_in(lab.origin, "echo", lab.ORIGIN_V4, records["raw"], 9999)
        udp443, _ = start_in(lab.origin, "udp", lab.ORIGIN_V4, records["udp443"], 443)
        udp4443, _ = start_in(lab.origin, "udp", lab.ORIGIN_V4, records["udp4443"], 4443)
        processes += [http4, http6, raw, udp443, udp4443, https]
        proxy = start_leakguard(tmp_path, {
            "listen": [f"0.0.0.0:{PROXY_PORT}", f"[::]:{PROXY_PORT}"],
            "clients": {"allow": ["10.200.1.0/24", "fd00:200:1::/64"]},
            "mode": "block",
            "devices": [phone_profile(lab)],
            "tls": {"intercept": "all", "ca_dir": str(tmp_path / "ca"), "upstream_ca": str(pki / "origin-ca.pem")},
        }, netns=lab.router)
        applied = sh(str(BINARY), "firewall", "apply", "--interface", lab.router_lan_if, "--port", str(PROXY_PORT),
                     netns=lab.router)
        assert "REDIRECT" in applied.stdout
        try:
            lab.interception_ca = tmp_path / "ca" / "ca.pem"
            yield lab, proxy, records, http_port, http6_port
        finally:
            proxy.stop()
            for process in processes:
                process.kill()


def phone_curl(lab, url, *extra):
    return sh("curl", "-sS", "--max-time", "10", "-o", "/dev/stdout", "-w", "\n%{http_code}", *extra, url,
              netns=lab.phone, check=False)


def test_clean_traffic_flows_and_the_destination_is_recovered(hotspot):
    lab, proxy, records, http_port, _ = hotspot
    got = phone_curl(lab, f"http://{lab.ORIGIN_V4}:{http_port}/weather?lang=en")
    assert got.stdout.endswith("\n200"), got.stdout + got.stderr
    http = proxy.events("http", wait_for=lambda e: e)
    assert http[0]["dst"]["ip"] == lab.ORIGIN_V4 and http[0]["dst"]["port"] == http_port
    assert http[0]["device"] == "lab-phone-01", "attributed by MAC from the neighbour table"
    assert http[0]["client"].startswith(lab.PHONE_V4)


def test_block_mode_stops_a_leak_before_the_origin_sees_it(hotspot):
    lab, proxy, records, http_port, _ = hotspot
    got = phone_curl(lab, f"http://{lab.ORIGIN_V4}:{http_port}/activate?imei={IMEI}")
    assert got.stdout.endswith("\n403")
    assert not records["http4"].exists() or records["http4"].read_bytes() == b""
    found = proxy.events("finding", wait_for=lambda e: e)
    assert found[0]["device"] == "lab-phone-01" and found[0]["action"] == "blocked"
    assert found[0]["dst"]["ip"] == lab.ORIGIN_V4


def test_raw_tcp_leak_on_port_9999_is_cut(hotspot):
    lab, proxy, records, _, _ = hotspot
    script = ("import socket,sys\n"
              f"s=socket.create_connection(('{lab.ORIGIN_V4}', 9999), timeout=5)\n"
              "s.sendall(sys.argv[1].encode()); s.shutdown(socket.SHUT_WR)\n"
              "out=b''\n"
              "while True:\n"
              "    d=s.recv(4096)\n"
              "    if not d: break\n"
              "    out+=d\n"
              "print(out)\n")
    clean = sh("/usr/bin/python3", "-c", script, "\x02PING\x03", netns=lab.phone)
    assert "echo:\\x02PING\\x03" in clean.stdout
    leak = sh("/usr/bin/python3", "-c", script, f"\x02REG IMEI:{IMEI};\x03", netns=lab.phone, check=False)
    assert "echo" not in leak.stdout
    assert IMEI.encode() not in records["raw"].read_bytes()
    found = proxy.events("finding", wait_for=lambda e: e)
    assert found[0]["transport"] == "tcp" and found[0]["dst"]["port"] == 9999


def test_quic_is_dropped_so_apps_fall_back_to_tcp(hotspot):
    lab, proxy, records, _, _ = hotspot
    script = ("import socket\n"
              "s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
              f"s.sendto(b'quic-initial', ('{lab.ORIGIN_V4}', 443))\n"
              f"s.sendto(b'other-udp', ('{lab.ORIGIN_V4}', 4443))\n")
    sh("/usr/bin/python3", "-c", script, netns=lab.phone)
    deadline = time.monotonic() + 5
    while not (records["udp4443"].exists() and records["udp4443"].read_bytes()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert records["udp4443"].read_bytes() == b"other-udp", "UDP in general is routed"
    assert not records["udp443"].exists(), "UDP 443 never reached the origin"


def test_ipv6_works_the_same_way(hotspot):
    lab, proxy, records, _, http6_port = hotspot
    got = phone_curl(lab, f"http://[{lab.ORIGIN_V6}]:{http6_port}/six")
    assert got.stdout.endswith("\n200"), got.stdout + got.stderr
    leak = phone_curl(lab, f"http://[{lab.ORIGIN_V6}]:{http6_port}/six?imei={IMEI}")
    assert leak.stdout.endswith("\n403")
    found = proxy.events("finding", wait_for=lambda e: e)
    assert found[0]["dst"]["ip"] == lab.ORIGIN_V6
    assert found[0]["device"] == "lab-phone-01"


def test_firewall_apply_is_idempotent_and_remove_restores_direct_traffic(hotspot):
    lab, proxy, records, http_port, _ = hotspot
    sh(str(BINARY), "firewall", "apply", "--interface", lab.router_lan_if, "--port", str(PROXY_PORT), netns=lab.router)
    table = sh("nft", "list", "table", "inet", "leakguard", netns=lab.router).stdout
    assert table.count("redirect to :") == 1
    sh(str(BINARY), "firewall", "remove", netns=lab.router)
    assert sh("nft", "list", "table", "inet", "leakguard", netns=lab.router, check=False).returncode != 0
    got = phone_curl(lab, f"http://{lab.ORIGIN_V4}:{http_port}/direct?imei={IMEI}")
    assert got.stdout.endswith("\n200"), "without the rules nothing is intercepted"
    assert b"/direct?imei=" in records["http4"].read_bytes()


def test_tls_interception_works_transparently(hotspot):
    lab, proxy, records, _, _ = hotspot
    ca = str(lab.interception_ca)
    # The phone dials the origin's address on 443 and trusts leakguard's CA: the redirect, the
    # ClientHello, the forged leaf and the verified upstream are all invisible to it.
    got = phone_curl(lab, f"https://{lab.ORIGIN_V4}/config?lang=en", "--cacert", ca)
    assert got.stdout.endswith("\n200"), got.stdout + got.stderr
    assert b"GET /config?lang=en HTTP/1.1" in records["https"].read_bytes()
    http = proxy.events("http", wait_for=lambda e: e)
    assert http[0]["transport"] == "https" and http[0]["dst"]["ip"] == lab.ORIGIN_V4
    assert http[0]["device"] == "lab-phone-01"

    leak = phone_curl(lab, f"https://{lab.ORIGIN_V4}/activate?imei={IMEI}", "--cacert", ca)
    assert leak.stdout.endswith("\n403")
    assert IMEI.encode() not in records["https"].read_bytes()
    found = proxy.events("finding", wait_for=lambda e: e)
    assert found[0]["transport"] == "https" and found[0]["action"] == "blocked"


def test_tproxy_variant_keeps_destinations_and_is_recovered(tmp_path):
    """TPROXY: packets keep their destination, policy routing delivers them to the IP_TRANSPARENT
    listener, and the connection's local address is where the phone was going."""
    with Lab() as lab:
        origin, origin_port = start_in(lab.origin, "http", lab.ORIGIN_V4, tmp_path / "tproxy-origin.bin")
        proxy = start_leakguard(tmp_path, {
            "listen": [f"0.0.0.0:{PROXY_PORT}"],
            "transparent": "tproxy",
            "clients": {"allow": ["10.200.1.0/24"]},
            "mode": "block",
            "devices": [phone_profile(lab)],
        }, netns=lab.router, name="tproxy")
        try:
            applied = sh(str(BINARY), "firewall", "apply", "--tproxy", "--interface", lab.router_lan_if,
                         "--port", str(PROXY_PORT), netns=lab.router)
            assert "TPROXY" in applied.stdout
            got = phone_curl(lab, f"http://{lab.ORIGIN_V4}:{origin_port}/via-tproxy")
            assert got.stdout.endswith("\n200"), got.stdout + got.stderr
            http = proxy.events("http", wait_for=lambda e: e)
            assert http[0]["dst"]["ip"] == lab.ORIGIN_V4 and http[0]["dst"]["port"] == origin_port
            leak = phone_curl(lab, f"http://{lab.ORIGIN_V4}:{origin_port}/x?imei={IMEI}")
            assert leak.stdout.endswith("\n403")
            sh(str(BINARY), "firewall", "remove", "--tproxy", netns=lab.router)
            rules = sh("ip", "rule", "list", netns=lab.router).stdout
            assert "lookup 100" not in rules, "remove takes the policy routing away too"
        finally:
            proxy.stop()
            origin.kill()
