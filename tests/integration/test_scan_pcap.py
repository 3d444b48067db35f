"""`leakguard scan` over packet captures the tests make themselves: tcpdump on loopback while real
clients (curl, raw sockets, openssl s_client) send leaks to real servers on 127.0.0.1 or ::1, port 0.
The captures are then rewritten the ways captures come from elsewhere (pcapng, raw IP, cooked
Linux, a MAC address) or break (a reordered, duplicated or lost segment, a truncated file).

tcpdump needs root (CI runs as root); without it the tests skip.
Run: /usr/bin/python3 -m pytest tests/integration/test_scan_pcap.py (binary: build/leakguard or $LEAKGUARD_BIN).
"""

import json
import os
import pty
import re
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
from datetime import datetime, timezone

import pytest
import yaml

from conftest import BINARY, REPO
from servers import RecordingOrigin

IMEI = "353209091234567"
OTHER_IMEI = "490154203237518"
MAC = "a4:50:46:12:34:56"

missing = [tool for tool in ("tcpdump", "editcap", "mergecap", "openssl", "curl") if not shutil.which(tool)]
reason = ("tcpdump needs root" if os.geteuid() != 0 else
          f"missing {', '.join(missing)} (scripts/install-deps.sh installs them)" if missing else None)
pytestmark = pytest.mark.skipif(reason is not None, reason=f"packet capture tests skipped: {reason}")

LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 = 1, 101, 113, 276


# ---- pcap files, a few lines of struct -------------------------------------------------------

def read_pcap(path):
    """(link type, [(ts_sec, ts_usec, frame bytes, original length)]) of a microsecond pcap."""
    data = path.read_bytes()
    magic, _, _, _, _, _, link = struct.unpack("<IHHiIII", data[:24])
    assert magic == 0xa1b2c3d4, "tcpdump writes little-endian microsecond pcap here"
    packets, offset = [], 24
    while offset + 16 <= len(data):
        sec, usec, caplen, origlen = struct.unpack("<IIII", data[offset:offset + 16])
        packets.append((sec, usec, data[offset + 16:offset + 16 + caplen], origlen))
        offset += 16 + caplen
    return link, packets


def write_pcap(path, link, packets):
    out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, link)]
    for sec, usec, frame, origlen in packets:
        out.append(struct.pack("<IIII", sec, usec, len(frame), max(origlen, len(frame))) + frame)
    path.write_bytes(b"".join(out))


def ip_offset(link):
    return {LINKTYPE_ETHERNET: 14, LINKTYPE_LINUX_SLL: 16, LINKTYPE_LINUX_SLL2: 20, LINKTYPE_RAW: 0}[link]


def tcp_of(link, frame):
    """(src port, dst port, flags, payload) of a TCP frame, or None."""
    ip = frame[ip_offset(link):]
    if ip[0] >> 4 == 4:
        if ip[9] != 6:
            return None
        header, total = (ip[0] & 15) * 4, struct.unpack("!H", ip[2:4])[0]
        segment = ip[header:total]
    else:
        if ip[6] != 6:
            return None
        segment = ip[40:40 + struct.unpack("!H", ip[4:6])[0]]
    sport, dport = struct.unpack("!HH", segment[:4])
    return sport, dport, segment[13], segment[(segment[12] >> 4) * 4:]


def client_data(link, packets, server_port):
    """Indexes of the packets that carry client-to-server payload."""
    return [i for i, (_, _, frame, _) in enumerate(packets)
            if (t := tcp_of(link, frame)) and t[1] == server_port and t[3]]


def rfc3339_ms(sec, usec):
    return datetime.fromtimestamp(sec, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{usec // 1000:03d}Z"


# ---- capturing ---------------------------------------------------------------------------------

class Tcpdump:
    """tcpdump -U on `interface` for `ports`; stop() waits until both ends of `connections` TCP
    connections have sent their FIN into the file (bounded), then stops tcpdump with SIGINT."""

    def __init__(self, path, ports, interface="lo", extra=()):
        self.path = path
        expression = " or ".join(f"port {p}" for p in ports)
        # -U writes each packet as it is read; --immediate-mode is left out: on "any" it stalled
        # delivery here (libpcap 1.10.3), while the default block timeout delivers within a second.
        self.process = subprocess.Popen(["tcpdump", "-i", interface, "-U", "-s", "0", "-n",
                                         *extra, "-w", str(path), expression],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        line = b""
        while b"listening on" not in line:  # tcpdump says so once the capture runs
            assert time.monotonic() < deadline, "tcpdump did not start"
            line = self.process.stderr.readline()
            assert line or self.process.poll() is None, "tcpdump exited before listening"

    def stop(self, connections=1):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.path.exists() and self.path.stat().st_size > 24:
                link, packets = read_pcap(self.path)
                fins = sum(1 for _, _, frame, _ in packets if (t := tcp_of(link, frame)) and t[2] & 1)
                if fins >= 2 * connections:
                    break
            time.sleep(0.02)
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=20)
        return self.path


class LockstepServer:
    """Raw TCP on port 0: answers every read with one byte, so a client that waits for it before
    its next send puts each of its chunks into a TCP segment of its own. With `once`, it closes
    after the first read instead (a TLS client then gives up after its ClientHello)."""

    def __init__(self, host="127.0.0.1", once=False):
        self.once = once
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                while conn.recv(65536) and not self.once:
                    conn.sendall(b"k")

    def send(self, chunks):
        with socket.create_connection((self.host, self.port), timeout=10) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for chunk in chunks:
                sock.sendall(chunk)
                assert sock.recv(1) == b"k"
            sock.shutdown(socket.SHUT_WR)
            assert sock.recv(1) == b""

    def close(self):
        self.sock.close()


def capture_during(path, server, client, **tcpdump):
    """The capture of `client()` talking to `server` (closed after)."""
    try:
        dump = Tcpdump(path, [server.port], **tcpdump)
        client()
        return dump.stop()
    finally:
        server.close()


def capture_lockstep(tmp_path, chunks, host="127.0.0.1", name="lockstep.pcap", **tcpdump):
    server = LockstepServer(host)
    return capture_during(tmp_path / name, server, lambda: server.send(chunks), **tcpdump), server.port


# ---- scanning ----------------------------------------------------------------------------------

def profile(tmp_path, **match):
    """One device profile with IMEI, matched by `match` (ip=..., mac=...), and a second one with
    another IMEI that matches nothing captured here."""
    config = {"devices": [
        {"name": "phone-a", "match": match or {"ip": "127.0.0.1"}, "identifiers": {"imei": IMEI}},
        {"name": "phone-b", "match": {"ip": "192.0.2.99"}, "identifiers": {"imei": OTHER_IMEI}},
    ]}
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def scan(*args, stdin=None):
    result = subprocess.run([str(BINARY), "scan", *map(str, args)], input=stdin, capture_output=True, timeout=120)
    events = [json.loads(line) for line in result.stdout.decode().splitlines() if line.strip()]
    for line in result.stdout.decode().splitlines() + result.stderr.decode().splitlines():
        assert IMEI not in line and OTHER_IMEI not in line, "a raw identifier in the output"
    return result, events


def findings(events):
    return [e for e in events if e["type"] == "finding"]


def post_chunks(host_header, body_parts, path="/upload"):
    """An HTTP request whose head and body parts go out as separate segments."""
    body = b"".join(body_parts)
    head = (f"POST {path} HTTP/1.1\r\nHost: {host_header}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    return [head, *body_parts]


SPLIT_BODY = [b"user=kari&imei=3532", b"0909123", b"4567&v=1"]  # the IMEI spans three segments


# ---- tests -------------------------------------------------------------------------------------

def test_curl_request_through_a_real_origin_is_found_with_flow_fields(tmp_path):
    origin = RecordingOrigin()
    url = f"http://127.0.0.1:{origin.port}/activate?imei={IMEI}"
    path = capture_during(tmp_path / "curl.pcap", origin,
                          lambda: subprocess.run(["curl", "-s", "-o", "/dev/null", url], check=True, timeout=20))
    result, events = scan("-c", profile(tmp_path), path)
    assert result.returncode == 1, result.stderr.decode()
    [finding] = findings(events)
    assert finding["identifier"] == "imei" and finding["method_of_detection"] == "known"
    assert finding["device"] == "phone-a"
    assert finding["transport"] == "http" and finding["method"] == "GET"
    assert finding["dst"] == {"ip": "127.0.0.1", "port": origin.port, "host": "127.0.0.1", "host_source": "http"}
    assert re.fullmatch(r"127\.0\.0\.1:\d+", finding["client"])
    assert finding["source"] == str(path)
    # The time is the capture's, of the packet that carried the request.
    link, packets = read_pcap(path)
    first = client_data(link, packets, origin.port)[0]
    assert finding["ts"] == rfc3339_ms(packets[first][0], packets[first][1])


def test_http_request_sets_dst_host_from_the_host_header(tmp_path):
    path, port = capture_lockstep(tmp_path, post_chunks("zzhc.example.cn", SPLIT_BODY))
    result, events = scan("-c", profile(tmp_path), path)
    [finding] = findings(events)
    assert finding["dst"] == {"ip": "127.0.0.1", "port": port, "host": "zzhc.example.cn", "host_source": "http"}
    assert finding["where"].startswith("body")


def test_raw_tcp_and_heuristics_without_a_profile(tmp_path):
    path, port = capture_lockstep(tmp_path, [b"\x00\x01HELLO", f"imei={IMEI};".encode(), b"bye"])
    result, events = scan(path)  # no configuration: heuristics only
    assert result.returncode == 1, result.stderr.decode()
    [finding] = findings(events)
    assert finding["transport"] == "tcp" and finding["method_of_detection"] == "heuristic"
    assert finding["dst"] == {"ip": "127.0.0.1", "port": port}
    assert "device" not in finding
    link, packets = read_pcap(path)
    first = client_data(link, packets, port)[0]  # raw findings carry the flow's first client data time
    assert finding["ts"] == rfc3339_ms(packets[first][0], packets[first][1])


def test_tls_client_hello_sni_is_inspected_and_names_the_host(tmp_path):
    server = LockstepServer(once=True)
    command = ["openssl", "s_client", "-connect", f"127.0.0.1:{server.port}", "-servername", f"{IMEI}.reg.example.cn"]
    path = capture_during(tmp_path / "tls.pcap", server,
                          lambda: subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=20))
    result, events = scan("-c", profile(tmp_path), path)
    assert result.returncode == 1, result.stderr.decode()
    [finding] = findings(events)
    assert finding["transport"] == "tls" and finding["where"] == "tls.sni"
    assert finding["dst"]["host_source"] == "sni"
    assert finding["dst"]["host"].endswith(".reg.example.cn") and IMEI not in finding["dst"]["host"]


def test_ipv6_loopback(tmp_path):
    path, port = capture_lockstep(tmp_path, post_chunks("v6.example", SPLIT_BODY), host="::1")
    config = tmp_path / "v6.yaml"
    config.write_text(yaml.safe_dump({"devices": [{"name": "phone-v6", "match": {"ip": "::1"},
                                                   "identifiers": {"imei": IMEI}}]}))
    result, events = scan("-c", config, path)
    [finding] = findings(events)
    assert finding["device"] == "phone-v6" and finding["method_of_detection"] == "known"
    assert re.fullmatch(r"\[::1\]:\d+", finding["client"])
    assert finding["dst"]["ip"] == "::1" and finding["dst"]["port"] == port


def test_pcapng_and_standard_input(tmp_path):
    path, _ = capture_lockstep(tmp_path, post_chunks("ng.example", SPLIT_BODY))
    ng = tmp_path / "capture.bin"  # the name says nothing: the content does
    subprocess.run(["editcap", "-F", "pcapng", str(path), str(ng)], check=True, timeout=30)
    assert ng.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"
    _, expected = scan("-c", profile(tmp_path), path)
    result, events = scan("-c", profile(tmp_path), ng)
    assert result.returncode == 1
    assert [(e["identifier"], e["where"], e["ts"]) for e in findings(events)] == \
           [(e["identifier"], e["where"], e["ts"]) for e in findings(expected)]
    # Through a pipe: the bytes read to tell the format are given back to libpcap.
    for data in (ng.read_bytes(), path.read_bytes()):
        result, events = scan("-c", profile(tmp_path), "-", stdin=data)
        assert result.returncode == 1, result.stderr.decode()
        assert len(findings(events)) == 1 and findings(events)[0]["source"] == "-"


def test_pcapng_with_interfaces_of_different_link_types_is_refused_clearly(tmp_path):
    path, port = capture_lockstep(tmp_path, post_chunks("a.example", SPLIT_BODY))
    link, packets = read_pcap(path)
    raw = tmp_path / "raw.pcap"
    write_pcap(raw, LINKTYPE_RAW, [(s, u, f[14:], o - 14) for s, u, f, o in packets])
    merged = tmp_path / "merged.pcapng"
    subprocess.run(["mergecap", "-w", str(merged), str(path), str(raw)], check=True, timeout=30)
    result, _ = scan(merged)
    assert result.returncode == 2
    assert "different link types" in result.stderr.decode() and "split it per interface" in result.stderr.decode()


@pytest.mark.parametrize("link,extra", [(LINKTYPE_LINUX_SLL2, ()), (LINKTYPE_LINUX_SLL, ("-y", "LINUX_SLL"))],
                         ids=["cooked-v2", "cooked-v1"])
def test_linux_cooked_capture_on_any_interface(tmp_path, link, extra):
    path, port = capture_lockstep(tmp_path, post_chunks("any.example", SPLIT_BODY), interface="any", extra=extra)
    assert read_pcap(path)[0] == link
    result, events = scan("-c", profile(tmp_path), path)
    assert result.returncode == 1, result.stderr.decode()
    [finding] = findings(events)
    assert finding["device"] == "phone-a" and finding["dst"]["port"] == port
    assert not [e for e in events if e["type"] == "anomaly"]


def test_raw_ip_link_type(tmp_path):
    path, port = capture_lockstep(tmp_path, post_chunks("raw.example", SPLIT_BODY))
    link, packets = read_pcap(path)
    raw = tmp_path / "raw.pcap"
    write_pcap(raw, LINKTYPE_RAW, [(s, u, f[14:], o - 14) for s, u, f, o in packets])
    result, events = scan("-c", profile(tmp_path), raw)
    [finding] = findings(events)
    assert finding["device"] == "phone-a" and finding["dst"]["port"] == port


def test_device_matched_by_mac_from_the_ethernet_header(tmp_path):
    path, port = capture_lockstep(tmp_path, post_chunks("mac.example", SPLIT_BODY))
    link, packets = read_pcap(path)
    mac = bytes.fromhex(MAC.replace(":", ""))
    rewritten = []
    for s, u, frame, o in packets:
        t = tcp_of(link, frame)
        if t and t[1] == port:  # client to server: the phone's MAC is the source
            frame = frame[:6] + mac + frame[12:]
        elif t:
            frame = mac + frame[6:]
        rewritten.append((s, u, frame, o))
    with_mac = tmp_path / "mac.pcap"
    write_pcap(with_mac, link, rewritten)
    by_mac = profile(tmp_path, mac=MAC)
    [finding] = findings(scan("-c", by_mac, with_mac)[1])
    assert finding["device"] == "phone-a" and finding["method_of_detection"] == "known"
    # The original capture has loopback's all-zero MAC: no profile matches, heuristics still find it.
    [plain] = findings(scan("-c", by_mac, path)[1])
    assert "device" not in plain and plain["method_of_detection"] == "heuristic"


def test_reordered_and_retransmitted_segments_change_nothing(tmp_path):
    path, port = capture_lockstep(tmp_path, post_chunks("order.example", SPLIT_BODY))
    link, packets = read_pcap(path)
    data = client_data(link, packets, port)
    assert len(data) == 4, "head and three body segments"
    _, expected = scan("-c", profile(tmp_path), path)
    [want] = findings(expected)

    # The last body segment moved in front of the one before it (its ACKs stay behind both).
    reordered = list(packets)
    moved = reordered.pop(data[3])
    reordered.insert(data[2], moved)
    write_pcap(tmp_path / "reordered.pcap", link, reordered)
    # A segment sent twice, the copy after the next one.
    duplicated = list(packets)
    duplicated.insert(data[2] + 1, packets[data[1]])
    write_pcap(tmp_path / "duplicated.pcap", link, duplicated)

    for name in ("reordered.pcap", "duplicated.pcap"):
        result, events = scan("-c", profile(tmp_path), tmp_path / name)
        assert result.returncode == 1, result.stderr.decode()
        [got] = findings(events)
        assert (got["identifier"], got["where"], got["value"]) == (want["identifier"], want["where"], want["value"])
        assert not [e for e in events if e["type"] == "anomaly"], name
    again = len(tcp_of(link, packets[data[1]][2])[3])
    assert f" {again} bytes retransmitted (0 differing)" in scan(tmp_path / "duplicated.pcap")[0].stderr.decode()


def test_lost_segment_is_a_gap_with_its_size_and_parsing_resumes_at_the_next_request(tmp_path):
    # The next request's line is itself split over two segments.
    second = [b"GET /ping?imei=", f"{IMEI} HTTP/1.1\r\nHost: gap.example\r\n\r\n".encode()]
    body = [b"a=" + b"x" * 300, b"b=" + b"y" * 500, b"c=" + b"z" * 100]
    path, port = capture_lockstep(tmp_path, post_chunks("gap.example", body) + second)
    link, packets = read_pcap(path)
    data = client_data(link, packets, port)
    lost = packets[data[2]]  # the second body part, 502 bytes
    dropped = [p for i, p in enumerate(packets) if i != data[2]]
    write_pcap(tmp_path / "dropped.pcap", link, dropped)
    result, events = scan("-c", profile(tmp_path), tmp_path / "dropped.pcap")
    assert result.returncode == 1
    [gap] = [e for e in events if e["type"] == "anomaly"]
    assert gap["anomaly"] == "capture_gap" and gap["input_bytes"] == len(tcp_of(link, lost[2])[3]) == 502
    assert gap["client"] and gap["dst"]["port"] == port
    [finding] = findings(events)  # the request after the gap is parsed as a request
    assert finding["method"] == "GET" and finding["where"].startswith("query")
    assert finding["url"].startswith("http://gap.example/ping?imei=")


def test_truncated_file_keeps_earlier_findings_and_exits_2(tmp_path):
    path, port = capture_lockstep(tmp_path, post_chunks("cut.example", SPLIT_BODY) + [b"x" * 2000])
    link, packets = read_pcap(path)
    data = client_data(link, packets, port)
    # Cut inside the last client segment's record: everything before it is whole.
    offset = 24 + sum(16 + len(f) for _, _, f, _ in packets[:data[-1]])
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(path.read_bytes()[:offset + 16 + 100])
    result, events = scan("-c", profile(tmp_path), cut)
    assert result.returncode == 2
    assert len(findings(events)) == 1
    message = result.stderr.decode()
    assert f"packet {data[-1] + 1} (the record at byte offset {offset})" in message
    assert "truncated" in message


def test_progress_on_a_terminal_only(tmp_path):
    # A capture over the 8 MiB threshold: the benchmark's generator, small.
    big = tmp_path / "big.pcap"
    subprocess.run(["/usr/bin/python3", str(REPO / "bench" / "pcap_gen.py"), "--mb", "12", "-o", str(big)],
                   check=True, capture_output=True, timeout=120)
    result, _ = scan(big)
    assert result.returncode == 1 and " MB (" not in result.stderr.decode()

    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen([str(BINARY), "scan", str(big)], stdout=subprocess.DEVNULL, stderr=terminal)
        os.close(terminal)
        seen = b""
        while True:  # until the scanner exits and the terminal reports end of file (EIO)
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        assert process.wait(timeout=120) == 1
    finally:
        os.close(controller)
    text = seen.decode()
    total = big.stat().st_size / 1048576
    assert re.search(r"leakguard scan: .*big\.pcap: \d+\.\d of " + f"{total:.1f}" + r" MB \(\d+%\)", text), text
    assert "packets" in text.splitlines()[-1]  # the summary follows, the progress line cleared


# ---- DNS inside a capture ------------------------------------------------------------------------

def udp_ports_to_53(link, packets, port):
    """The capture with UDP port `port` rewritten to 53 on both sides and the UDP checksum cleared
    (0: none, legal over IPv4): the resolver of these tests listens on a port the kernel chose,
    while scan tells DNS by port 53, as a phone's capture has it."""
    out = []
    for sec, usec, frame, origlen in packets:
        at = ip_offset(link)
        ip = frame[at:]
        if ip[0] >> 4 == 4 and ip[9] == 17:
            udp_at = at + (ip[0] & 15) * 4
            sport, dport = struct.unpack("!HH", frame[udp_at:udp_at + 4])
            frame = bytearray(frame)
            frame[udp_at:udp_at + 4] = struct.pack("!HH", 53 if sport == port else sport, 53 if dport == port else dport)
            frame[udp_at + 6:udp_at + 8] = b"\0\0"
            frame = bytes(frame)
        out.append((sec, usec, frame, origlen))
    return out


def test_dns_in_a_capture_judges_query_names_and_names_later_flows(tmp_path):
    from dns_upstream import DnsUpstream, encode_name

    server = LockstepServer()
    resolver = DnsUpstream(zone={f"{IMEI}.reg.example.cn": [["A", "192.0.2.7"]],
                                 "activation.example.cn": [["A", "127.0.0.1"]]})

    def ask(name):
        message = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + encode_name(name) + struct.pack(">HH", 1, 1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(10)
            sock.sendto(message, ("127.0.0.1", resolver.port))
            assert sock.recvfrom(4096)[0][:2] == b"\x42\x42"

    def client():
        ask(f"{IMEI}.reg.example.cn")  # a leaking name
        ask("activation.example.cn")  # a clean one, whose answer names the connection below
        server.send([b"\x00\x01HELLO", f"imei={IMEI};".encode()])

    try:
        dump = Tcpdump(tmp_path / "dns-raw.pcap", [server.port, resolver.port])
        client()
        raw_path = dump.stop()
    finally:
        server.close()
        resolver.close()
    link, packets = read_pcap(raw_path)
    path = tmp_path / "dns.pcap"
    write_pcap(path, link, udp_ports_to_53(link, packets, resolver.port))

    result, events = scan("-c", profile(tmp_path), path)
    assert result.returncode == 1, result.stderr.decode()
    by_where = {f["where"]: f for f in findings(events)}
    qname = by_where["dns.qname"]
    assert qname["transport"] == "dns" and qname["identifier"] == "imei" and qname["device"] == "phone-a"
    assert qname["dst"]["port"] == 53 and qname["dst"]["host"].endswith(".reg.example.cn")
    raw = [f for f in findings(events) if f["transport"] == "tcp"]
    assert raw and all(f["dst"] == {"ip": "127.0.0.1", "port": server.port, "host": "activation.example.cn",
                                    "host_source": "dns"} for f in raw)
    assert "4 DNS messages" in result.stderr.decode()
