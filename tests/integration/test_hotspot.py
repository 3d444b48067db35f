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


def phone_raw_tcp(lab, host, port, payload):
    script = ("import socket,sys\n"
              f"s=socket.create_connection(('{host}', {port}), timeout=5)\n"
              "s.sendall(sys.argv[1].encode()); s.shutdown(socket.SHUT_WR)\n"
              "out=b''\n"
              "while True:\n"
              "    d=s.recv(4096)\n"
              "    if not d: break\n"
              "    out+=d\n"
              "print(out)\n")
    return sh("/usr/bin/python3", "-c", script, payload, netns=lab.phone, check=False)


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
    clean = phone_raw_tcp(lab, lab.ORIGIN_V4, 9999, "\x02PING\x03")
    assert "echo:\\x02PING\\x03" in clean.stdout
    leak = phone_raw_tcp(lab, lab.ORIGIN_V4, 9999, f"\x02REG IMEI:{IMEI};\x03")
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


DNS_PORT = 15053  # leakguard's forwarder, inside the router namespace only


def phone_dig(lab, name, qtype="A", *extra):
    """dig at the router's address, where the phone's resolver (dnsmasq on a real hotspot) is."""
    result = sh("dig", f"@{lab.ROUTER_PHONE_V4}", "+tries=1", "+time=5", *extra, name, qtype, netns=lab.phone,
                check=False)
    status = [line for line in result.stdout.splitlines() if "status:" in line]
    return (status[0].split("status: ")[1].split(",")[0] if status else None), result.stdout


def test_dns_goes_through_leakguard_and_names_later_raw_tcp_connections(tmp_path):
    """`dns:` in the configuration: `firewall apply -c` sends the phone's port 53 to the forwarder
    and drops port 853; names are inspected (block mode: NXDOMAIN, the resolver never sees them);
    a raw TCP connection to an address the phone resolved carries the name (dst.host_source dns)
    and a host rule for TCP applies to it."""
    with Lab() as lab:
        resolver_log = tmp_path / "resolver.jsonl"
        zone = {"activate.reg.example.cn": [["A", lab.ORIGIN_V4]],
                "c2.blocked.example.cn": [["AAAA", lab.ORIGIN_V6]]}
        resolver = subprocess.Popen(["ip", "netns", "exec", lab.origin, "/usr/bin/python3", str(HERE / "dns_upstream.py"),
                                     lab.ORIGIN_V4, "53", str(resolver_log), json.dumps(zone)],
                                    stdout=subprocess.PIPE, text=True)
        assert resolver.stdout.readline().startswith("port ")
        raw, _ = start_in(lab.origin, "echo", lab.ORIGIN_V4, tmp_path / "raw.bin", 9999)
        dot, _ = start_in(lab.origin, "echo", lab.ORIGIN_V4, tmp_path / "dot.bin", 853)
        tls, _ = start_in(lab.origin, "echo", lab.ORIGIN_V4, tmp_path / "tls.bin", 443)  # not TLS: passthrough only
        proxy = start_leakguard(tmp_path, {
            "listen": [f"0.0.0.0:{PROXY_PORT}", f"[::]:{PROXY_PORT}"],
            "clients": {"allow": ["10.200.1.0/24", "fd00:200:1::/64"]},
            "mode": "block",
            "devices": [phone_profile(lab)],
            "dns": {"listen": [f"0.0.0.0:{DNS_PORT}"], "upstream": [f"{lab.ORIGIN_V4}:53"]},
            "rules": [{"name": "no-c2", "match": {"hosts": ["*.blocked.example.cn"], "transport": "tcp"},
                       "action": "block"}],
        }, netns=lab.router, name="dns")
        try:
            applied = sh(str(BINARY), "firewall", "apply", "--interface", lab.router_lan_if, "-c",
                         str(proxy.config_path), netns=lab.router)
            assert f"DNS (port 53) goes to port {DNS_PORT}" in applied.stdout, applied.stdout

            status, out = phone_dig(lab, "activate.reg.example.cn")
            assert status == "NOERROR" and lab.ORIGIN_V4 in out, out
            status, out = phone_dig(lab, "c2.blocked.example.cn", "AAAA", "+tcp")
            assert status == "NOERROR" and lab.ORIGIN_V6 in out, out
            status, _ = phone_dig(lab, f"{IMEI}.reg.example.cn")
            assert status == "NXDOMAIN"
            asked = [json.loads(line)["name"] for line in resolver_log.read_text().splitlines()]
            assert asked == ["activate.reg.example.cn", "c2.blocked.example.cn"], "the leak never reached it"
            dns = proxy.events("dns", wait_for=lambda e: len(e) >= 3)
            assert [e["action"] for e in dns] == ["forwarded", "forwarded", "blocked"]
            assert dns[0]["device"] == "lab-phone-01" and dns[0]["answers"] == [lab.ORIGIN_V4]

            echoed = phone_raw_tcp(lab, lab.ORIGIN_V4, 9999, "\x02PING\x03")
            assert "echo:\\x02PING\\x03" in echoed.stdout, echoed.stdout + echoed.stderr
            closes = proxy.events("conn", wait_for=lambda e: any(c["event"] == "close" for c in e))
            close = [c for c in closes if c["event"] == "close"][0]
            assert close["transport"] == "tcp" and close["dst"]["ip"] == lab.ORIGIN_V4
            assert close["dst"]["host"] == "activate.reg.example.cn" and close["dst"]["host_source"] == "dns"

            # TLS passed through (no interception configured): without SNI the name comes from DNS;
            # with SNI the server name wins (a CDN address serves many names).
            hello = ("import socket,ssl,sys\n"
                     f"s=socket.create_connection(('{lab.ORIGIN_V4}', 443), timeout=5)\n"
                     "c=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); c.check_hostname=False; c.verify_mode=ssl.CERT_NONE\n"
                     "try: c.wrap_socket(s, server_hostname=sys.argv[1] or None)\n"
                     "except (ssl.SSLError, OSError) as e: print(type(e).__name__)\n")
            for sni in ("", "api.origin.test"):
                sh("/usr/bin/python3", "-c", hello, sni, netns=lab.phone, check=False)
            passthrough = lambda events: [e for e in events if e["event"] == "close" and e.get("transport") == "tls-passthrough"]
            tls_closes = passthrough(proxy.events("conn", wait_for=lambda e: len(passthrough(e)) >= 2))
            assert [(c["dst"]["host"], c["dst"]["host_source"]) for c in tls_closes] == [
                ("activate.reg.example.cn", "dns"), ("api.origin.test", "sni")]

            # Asked over IPv4, connected over IPv6: the name follows the device, not the address.
            blocked = phone_raw_tcp(lab, lab.ORIGIN_V6, 9999, "\x02PING\x03")
            assert "echo" not in blocked.stdout
            tcp_policy = lambda events: [e for e in events if e["transport"] == "tcp"]
            policy = tcp_policy(proxy.events("policy", wait_for=lambda e: tcp_policy(e)))[0]
            assert policy["rule"] == "no-c2" and policy["dst"]["host"] == "c2.blocked.example.cn"
            assert policy["dst"]["host_source"] == "dns" and policy["dst"]["ip"] == lab.ORIGIN_V6

            # DNS over TLS is dropped, so the phone falls back to port 53.
            dot_try = phone_raw_tcp(lab, lab.ORIGIN_V4, 853, "hello")
            assert "echo" not in dot_try.stdout and "timed out" in dot_try.stderr
            assert not (tmp_path / "dot.bin").exists() or (tmp_path / "dot.bin").read_bytes() == b""
        finally:
            proxy.stop()
            for process in (resolver, raw, dot, tls):
                process.kill()


def test_dns_redirect_works_beside_tproxy(tmp_path):
    """TPROXY mode lets TCP 53 pass its mangle rule, and the DNS chain redirects UDP and TCP 53 to
    the forwarder as in REDIRECT mode."""
    with Lab() as lab:
        zone = {"activate.reg.example.cn": [["A", lab.ORIGIN_V4]]}
        resolver = subprocess.Popen(["ip", "netns", "exec", lab.origin, "/usr/bin/python3", str(HERE / "dns_upstream.py"),
                                     lab.ORIGIN_V4, "53", str(tmp_path / "resolver.jsonl"), json.dumps(zone)],
                                    stdout=subprocess.PIPE, text=True)
        assert resolver.stdout.readline().startswith("port ")
        proxy = start_leakguard(tmp_path, {
            "listen": [f"0.0.0.0:{PROXY_PORT}"],
            "transparent": "tproxy",
            "clients": {"allow": ["10.200.1.0/24"]},
            "dns": {"listen": [f"0.0.0.0:{DNS_PORT}"], "upstream": [f"{lab.ORIGIN_V4}:53"]},
        }, netns=lab.router, name="tproxy-dns")
        try:
            sh(str(BINARY), "firewall", "apply", "--tproxy", "--interface", lab.router_lan_if, "-c",
               str(proxy.config_path), netns=lab.router)
            for extra in ((), ("+tcp",)):
                status, out = phone_dig(lab, "activate.reg.example.cn", "A", *extra)
                assert status == "NOERROR" and lab.ORIGIN_V4 in out, out
            dns = proxy.events("dns", wait_for=lambda e: len(e) >= 2)
            assert [e["protocol"] for e in dns] == ["udp", "tcp"]
        finally:
            sh(str(BINARY), "firewall", "remove", "--tproxy", netns=lab.router, check=False)
            proxy.stop()
            resolver.kill()
