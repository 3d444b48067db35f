"""Transparent mode with real nftables REDIRECT in network namespaces: the phone dials the
origin's own address, the router's rule hands the connection to leakguard, and leakguard must
recover where it was going (SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST) and complete the exchange."""

import json
import pathlib
import subprocess

import pytest

from conftest import start_leakguard
from netns import Lab, lab_unavailable_reason, sh

HERE = pathlib.Path(__file__).parent

reason = lab_unavailable_reason()
pytestmark = pytest.mark.skipif(reason is not None, reason=f"transparent-mode lab skipped: {reason}")


def start_origin(lab, kind, host, record):
    process = subprocess.Popen(["ip", "netns", "exec", lab.origin, "/usr/bin/python3", str(HERE / "origin_main.py"),
                                kind, host, str(record)], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert line.startswith("port "), f"origin did not start: {line!r}"
    return process, int(line.split()[1])


@pytest.fixture
def lab():
    with Lab() as lab:
        yield lab


def test_redirected_http_reaches_the_address_the_phone_dialled(lab, tmp_path):
    record = tmp_path / "origin.bin"
    origin, origin_port = start_origin(lab, "http", lab.ORIGIN_V4, record)
    proxy = start_leakguard(tmp_path, {"listen": ["0.0.0.0:0", "[::]:0"],
                                       "clients": {"allow": ["10.200.1.0/24", "fd00:200:1::/64"]}},
                            netns=lab.router)
    try:
        # Port 0 gives each address family its own port: one redirect rule per family.
        v4_port, v6_port = proxy.listening[0][1], proxy.listening[1][1]
        sh("nft", "-f", "-", netns=lab.router, input=f"""
table inet leakguard_test {{
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
    iifname "{lab.router_lan_if}" meta nfproto ipv4 meta l4proto tcp redirect to :{v4_port}
    iifname "{lab.router_lan_if}" meta nfproto ipv6 meta l4proto tcp redirect to :{v6_port}
  }}
}}
""")
        got = sh("curl", "-sS", "--max-time", "10", f"http://{lab.ORIGIN_V4}:{origin_port}/through?x=1", netns=lab.phone)
        assert json.loads(got.stdout)["path"] == "/through?x=1"
        assert b"GET /through?x=1 HTTP/1.1" in record.read_bytes()

        http = proxy.events("http", wait_for=lambda e: e)
        assert http[0]["dst"] == {"ip": lab.ORIGIN_V4, "port": origin_port, "host": lab.ORIGIN_V4,
                                  "host_source": "http"}
        assert http[0]["client"].startswith(lab.PHONE_V4 + ":")
        assert http[0]["transport"] == "http"

        # IPv6 the same way, to an origin listening on the origin host's IPv6 address.
        origin6, origin6_port = start_origin(lab, "http", lab.ORIGIN_V6, tmp_path / "origin6.bin")
        try:
            got = sh("curl", "-sS", "--max-time", "10", f"http://[{lab.ORIGIN_V6}]:{origin6_port}/six", netns=lab.phone)
            assert json.loads(got.stdout)["path"] == "/six"
            http = proxy.events("http", wait_for=lambda e: any(x["dst"].get("ip") == lab.ORIGIN_V6 for x in e))
            assert any(x["dst"].get("ip") == lab.ORIGIN_V6 and x["dst"]["port"] == origin6_port for x in http)
        finally:
            origin6.kill()
    finally:
        proxy.stop()
        origin.kill()


def test_redirected_raw_tcp_is_relayed(lab, tmp_path):
    record = tmp_path / "echo.bin"
    origin, origin_port = start_origin(lab, "echo", lab.ORIGIN_V4, record)
    proxy = start_leakguard(tmp_path, {"listen": ["0.0.0.0:0"], "clients": {"allow": ["10.200.1.0/24"]}},
                            netns=lab.router)
    try:
        lab.redirect_tcp_to(proxy.port)
        script = (f"import socket; s=socket.create_connection(('{lab.ORIGIN_V4}', {origin_port}), timeout=5); "
                  "s.sendall(b'\\x02HELLO raw\\x03'); print(s.recv(100)); s.close()")
        got = sh("/usr/bin/python3", "-c", script, netns=lab.phone)
        assert "echo:\\x02HELLO raw\\x03" in got.stdout
        conns = proxy.events("conn", wait_for=lambda e: any(x.get("event") == "close" for x in e))
        closed = [c for c in conns if c.get("event") == "close"]
        assert closed[0]["transport"] == "tcp"
        assert closed[0]["dst"] == {"ip": lab.ORIGIN_V4, "port": origin_port}
        assert closed[0]["bytes_from_client"] == len(b"\x02HELLO raw\x03")
    finally:
        proxy.stop()
        origin.kill()
