"""The DNS forwarder through the real binary: a real resolver written here (dns_upstream.py) on
127.0.0.1 port 0, real clients (dig, and raw UDP and TCP sockets for what dig will not send).
Every query name is inspected like a Host header; block mode answers NXDOMAIN and the resolver's
own log shows the name never reached it; malformed messages get a clean answer or nothing, and an
event, never a crash. (The raw TCP connection named by DNS needs a redirect: test_hotspot.py.)"""

import json
import re
import shutil
import socket
import struct
import subprocess
import time

import pytest

from dns_upstream import DnsUpstream, encode_name

IMEI = "353209091234567"                 # the profiled phone's (device profile, 127.0.0.1)
HEURISTIC_IMEI = "490154203237518"       # Luhn-valid, in nobody's profile
ZONE = {
    "clean.example": [["A", "192.0.2.10"], ["AAAA", "2001:db8::10"]],
    "alias.example": [["CNAME", "edge.cdn.example"]],
    "edge.cdn.example": [["A", "192.0.2.20"], ["AAAA", "2001:db8::20"]],
    "spoof.example": [["A", "192.0.2.30"]],
    f"{IMEI}.reg.example.cn": [["A", "192.0.2.40"]],
    "tracker.example": [["A", "192.0.2.50"]],
}
PROFILE = {"name": "lab-phone-01", "match": {"ip": "127.0.0.1"}, "identifiers": {"imei": IMEI}}


def query(name, qtype=1, ident=0x1234, flags=0x0100):
    return struct.pack(">HHHHHH", ident, flags, 1, 0, 0, 0) + encode_name(name) + struct.pack(">HH", qtype, 1)


def read_name(message, at):
    labels, jumps = [], 0
    while message[at] != 0:
        if message[at] & 0xC0 == 0xC0:
            at, jumps = struct.unpack(">H", message[at:at + 2])[0] & 0x3FFF, jumps + 1
            assert jumps < 20
            continue
        labels.append(message[at + 1:at + 1 + message[at]].decode("latin-1"))
        at += 1 + message[at]
    return ".".join(labels), at + 1


def parse_reply(message):
    """{"id", "rcode", "qr", "questions": [name], "addresses": [..]} of a reply leakguard sent."""
    ident, flags, qd, an = struct.unpack(">HHHH", message[:8])
    at, questions, addresses = 12, [], []
    for _ in range(qd):
        name, at = read_name(message, at)
        questions.append(name)
        at += 4
    for _ in range(an):
        _, at = read_name(message, at)
        rtype, _, _, length = struct.unpack(">HHIH", message[at:at + 10])
        rdata = message[at + 10:at + 10 + length]
        if rtype in (1, 28):
            addresses.append(socket.inet_ntop(socket.AF_INET if rtype == 1 else socket.AF_INET6, rdata))
        at += 10 + length
    return {"id": ident, "rcode": flags & 0xF, "qr": bool(flags & 0x8000), "questions": questions,
            "addresses": addresses}


def udp_ask(port, message, source="127.0.0.1", timeout=5.0):
    """The reply, or None when none came within `timeout` (for inputs that must get none)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.settimeout(timeout)
        s.sendto(message, ("127.0.0.1", port))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None


def tcp_ask(port, messages, timeout=5.0):
    """Sends every message on one connection (pipelined), returns the replies in order."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"".join(struct.pack(">H", len(m)) + m for m in messages))
        replies = []
        for _ in messages:
            length = s.recv(2, socket.MSG_WAITALL)
            replies.append(s.recv(struct.unpack(">H", length)[0], socket.MSG_WAITALL))
        return replies


def dig(port, name, qtype="A", *extra):
    assert shutil.which("dig"), "dig is missing (scripts/install-deps.sh installs dnsutils)"
    result = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+tries=1", "+time=5", *extra, name, qtype],
                            capture_output=True, text=True, timeout=30)
    status = re.search(r"status: (\w+)", result.stdout)
    return (status.group(1) if status else None), result.stdout


def dns_port(proxy):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        match = re.search(r"^dns listening on [^\n]*:(\d+)$", proxy.stderr_path.read_text(), re.M)
        if match:
            return int(match.group(1))
        time.sleep(0.01)
    raise AssertionError("no 'dns listening on' line: " + proxy.stderr_path.read_text())


@pytest.fixture
def upstream():
    server = DnsUpstream("127.0.0.1", ZONE)
    yield server
    server.close()


@pytest.fixture
def forwarder(leakguard_factory, upstream):
    def start(mode="log", rules=None, upstream_port=None, timeout_ms=3000, allow=None, max_pending=1024):
        config = {
            "mode": mode,
            "dns": {"listen": ["127.0.0.1:0"], "upstream": [f"127.0.0.1:{upstream_port or upstream.port}"],
                    "timeout_ms": timeout_ms, "max_pending": max_pending},
            "devices": [PROFILE],
            "rules": rules or [],
        }
        if allow:
            config["clients"] = {"allow": allow}
        proxy = leakguard_factory(config)
        return proxy, dns_port(proxy)
    return start


def dns_events(proxy, count):
    return proxy.events("dns", wait_for=lambda e: len(e) >= count)


def test_clean_names_are_forwarded_over_udp_and_tcp_with_their_answers(forwarder, upstream):
    proxy, port = forwarder()
    status, out = dig(port, "clean.example", "A")
    assert status == "NOERROR" and "192.0.2.10" in out
    status, out = dig(port, "alias.example", "AAAA", "+tcp")
    assert status == "NOERROR" and "edge.cdn.example." in out and "2001:db8::20" in out
    events = dns_events(proxy, 2)
    assert [e["name"] for e in events] == ["clean.example", "alias.example"]
    first, second = events
    assert first["qtype"] == "A" and first["rcode"] == "NOERROR" and first["action"] == "forwarded"
    assert first["answers"] == ["192.0.2.10"] and first["protocol"] == "udp"
    assert first["device"] == "lab-phone-01" and first["client"].startswith("127.0.0.1:")
    assert first["transport"] == "dns"
    assert second["answers"] == ["2001:db8::20"] and second["protocol"] == "tcp"
    assert upstream.names() == ["clean.example", "alias.example"]
    assert not proxy.events("finding")


def test_unknown_names_come_back_nxdomain_from_the_resolver(forwarder, upstream):
    proxy, port = forwarder()
    status, _ = dig(port, "nothing.example")
    assert status == "NXDOMAIN"
    event = dns_events(proxy, 1)[0]
    assert event["rcode"] == "NXDOMAIN" and event["action"] == "forwarded"
    assert upstream.names() == ["nothing.example"]


def test_each_forwarded_query_gets_a_fresh_id_and_the_client_gets_its_own_back(forwarder, upstream):
    proxy, port = forwarder()
    for ident in (0x0101, 0x0101, 0x0101):
        reply = parse_reply(udp_ask(port, query("clean.example", ident=ident)))
        assert reply["id"] == 0x0101 and reply["addresses"] == ["192.0.2.10"]
    assert len(upstream.ids()) == 3
    assert upstream.ids() != [0x0101] * 3, "the resolver saw the client's id every time"


def test_forged_replies_are_ignored(forwarder, upstream):
    """The resolver first sends a reply under another id, then one under the right id for another
    question, then the real one: only the last may reach the client (the DNSpooq lesson)."""
    proxy, port = forwarder()
    reply = parse_reply(udp_ask(port, query("spoof.example")))
    assert reply["addresses"] == ["192.0.2.30"]
    assert reply["questions"] == ["spoof.example"]
    event = dns_events(proxy, 1)[0]
    assert event["answers"] == ["192.0.2.30"]


def test_pipelined_tcp_queries_are_answered_in_order(forwarder, upstream):
    proxy, port = forwarder()
    replies = [parse_reply(r) for r in tcp_ask(port, [query("clean.example", ident=7),
                                                      query("edge.cdn.example", qtype=28, ident=8)])]
    assert [r["id"] for r in replies] == [7, 8]
    assert replies[0]["addresses"] == ["192.0.2.10"] and replies[1]["addresses"] == ["2001:db8::20"]


def test_a_profiled_identifier_in_a_name_is_a_finding_and_never_shown(forwarder, upstream):
    proxy, port = forwarder()
    status, out = dig(port, f"{IMEI}.reg.example.cn")
    assert status == "NOERROR" and "192.0.2.40" in out, "log mode forwards it"
    finding = proxy.events("finding", wait_for=lambda e: e)[0]
    assert finding["identifier"] == "imei" and finding["method_of_detection"] == "known"
    assert finding["where"] == "dns.qname" and finding["transport"] == "dns"
    assert finding["action"] == "logged" and finding["device"] == "lab-phone-01"
    event = dns_events(proxy, 1)[0]
    assert event["name"].startswith("35320") and event["name"].endswith(".reg.example.cn")
    assert IMEI not in event["name"] and IMEI not in json.dumps(event["dst"])
    assert IMEI not in proxy.events_path.read_text()


def test_an_unprofiled_client_leaking_an_imei_is_found_by_heuristics(forwarder, upstream):
    proxy, port = forwarder()
    reply = udp_ask(port, query(f"d-{HEURISTIC_IMEI}.t.example.com"), source="127.0.0.2")
    assert parse_reply(reply)["rcode"] == 3  # forwarded; the resolver does not know it
    finding = proxy.events("finding", wait_for=lambda e: e)[0]
    assert finding["method_of_detection"] == "heuristic" and finding["where"] == "dns.qname"
    assert "device" not in finding and finding["client"].startswith("127.0.0.2:")
    assert HEURISTIC_IMEI not in proxy.events_path.read_text()


def test_block_mode_answers_nxdomain_and_the_resolver_never_sees_the_name(forwarder, upstream):
    proxy, port = forwarder(mode="block")
    status, _ = dig(port, f"{IMEI}.reg.example.cn")
    assert status == "NXDOMAIN"
    reply = parse_reply(tcp_ask(port, [query(f"x.{IMEI}.reg.example.cn", ident=99)])[0])
    assert reply["rcode"] == 3 and reply["id"] == 99 and reply["questions"] == [f"x.{IMEI}.reg.example.cn"]
    status, out = dig(port, "clean.example")
    assert status == "NOERROR" and "192.0.2.10" in out, "clean names still resolve in block mode"
    assert upstream.names() == ["clean.example"], "the leaking names never reached the resolver"
    events = dns_events(proxy, 3)
    assert [e["action"] for e in events] == ["blocked", "blocked", "forwarded"]
    assert events[0]["rcode"] == "NXDOMAIN" and IMEI not in events[0]["name"]
    findings = proxy.events("finding")
    assert findings and all(f["action"] == "blocked" for f in findings)
    assert proxy.events("policy", wait_for=lambda e: len(e) >= 2)[0]["event"] == "blocked"
    assert IMEI not in proxy.events_path.read_text()


def test_a_blocked_destination_host_is_refused_without_a_finding(forwarder, upstream):
    proxy, port = forwarder(rules=[{"name": "no-reg", "match": {"hosts": ["*.reg.example.cn"]}, "action": "block"},
                                   {"match": {"hosts": ["tracker.example"], "transport": "tcp"}, "action": "block"}])
    status, _ = dig(port, "activate.reg.example.cn")
    assert status == "NXDOMAIN"
    status, out = dig(port, "tracker.example")
    assert status == "NOERROR" and "192.0.2.50" in out, "forwarded: that rule is for TCP connections, not DNS"
    assert upstream.names() == ["tracker.example"]
    policy = proxy.events("policy", wait_for=lambda e: e)[0]
    assert policy["rule"] == "no-reg" and policy["dst"]["host"] == "activate.reg.example.cn"
    assert dns_events(proxy, 2)[0]["action"] == "blocked"


def test_malformed_queries_get_a_clean_answer_or_none_and_an_event(forwarder, upstream):
    proxy, port = forwarder()
    assert udp_ask(port, b"\x00\x01garbage"[:5], timeout=1.0) is None  # shorter than a header: nothing
    garbage = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + b"\x3fabc"
    reply = parse_reply(udp_ask(port, garbage))
    assert reply["id"] == 0x4242 and reply["rcode"] == 1 and reply["qr"] and reply["questions"] == []
    truncated = query("clean.example")[:-3]
    assert parse_reply(udp_ask(port, truncated))["rcode"] == 1
    no_question = struct.pack(">HHHHHH", 0x0505, 0x0100, 0, 0, 0, 0)
    assert parse_reply(udp_ask(port, no_question))["rcode"] == 1
    two = struct.pack(">HHHHHH", 6, 0x0100, 2, 0, 0, 0) + query("a.example")[12:] + query("b.example")[12:]
    assert parse_reply(udp_ask(port, two))["rcode"] == 1
    loop = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c" + struct.pack(">HH", 1, 1)
    assert parse_reply(udp_ask(port, loop))["rcode"] == 1
    notify = query("clean.example", ident=8, flags=0x2000)
    assert parse_reply(udp_ask(port, notify))["rcode"] == 4  # NOTIMP
    response = query("clean.example", ident=9, flags=0x8180)
    assert udp_ask(port, response, timeout=1.0) is None  # a response sent to us is not answered
    # TCP: a length prefix promising more than comes, then the close.
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(struct.pack(">H", 300) + b"\x00" * 10)
    assert upstream.names() == [], "nothing malformed was forwarded"
    status, _ = dig(port, "clean.example")
    assert status == "NOERROR", "still serving"
    actions = [(e["action"], e.get("rcode"), e.get("detail")) for e in dns_events(proxy, 9)]
    assert actions[0] == ("dropped", None, "malformed message")
    assert actions[1] == ("refused", "FORMERR", "malformed message")
    assert ("refused", "FORMERR", "0 questions (one is inspected)") in actions
    assert ("refused", "FORMERR", "2 questions (one is inspected)") in actions
    assert ("refused", "NOTIMP", "opcode 4 is not QUERY") in actions
    assert ("dropped", None, "a response, not a query") in actions
    assert proxy.process.poll() is None


def test_no_answer_within_the_timeout_is_servfail(forwarder, upstream):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # receives, never answers
        proxy, port = forwarder(upstream_port=silent.getsockname()[1], timeout_ms=300)
        reply = parse_reply(udp_ask(port, query("clean.example", ident=77)))
        assert reply["rcode"] == 2 and reply["id"] == 77
        assert silent.recv(65535)[2:] == query("clean.example")[2:], "it was sent, under another id"
    event = dns_events(proxy, 1)[0]
    assert event["action"] == "failed" and event["rcode"] == "SERVFAIL"


def test_queries_beyond_max_pending_get_servfail_at_once(forwarder, upstream):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # holds the first query until its timeout
        proxy, port = forwarder(upstream_port=silent.getsockname()[1], timeout_ms=2000, max_pending=1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as first, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as second:
            first.sendto(query("clean.example", ident=1), ("127.0.0.1", port))
            silent.settimeout(5)
            silent.recv(65535)  # the first is pending upstream now
            second.sendto(query("clean.example", ident=2), ("127.0.0.1", port))
            second.settimeout(5)
            first.settimeout(5)
            assert parse_reply(second.recv(65535))["rcode"] == 2
            assert parse_reply(first.recv(65535))["rcode"] == 2
    details = [e["detail"] for e in dns_events(proxy, 2)]
    assert details == ["dns.max_pending reached", "no upstream answered within dns.timeout_ms"]
    busy = proxy.events("error", wait_for=lambda e: e)
    assert [e["error"] for e in busy] == ["dns_busy"]


def test_clients_outside_the_allow_list_get_nothing(forwarder, upstream):
    proxy, port = forwarder(allow=["127.0.0.2/32"])
    assert udp_ask(port, query("clean.example"), source="127.0.0.1", timeout=1.0) is None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as flood:
        for ident in range(50):  # a flood from outside: dropped, and not one event each
            flood.sendto(query("clean.example", ident=ident), ("127.0.0.1", port))
    assert parse_reply(udp_ask(port, query("clean.example"), source="127.0.0.2"))["addresses"] == ["192.0.2.10"]
    errors = proxy.events("error", wait_for=lambda e: e)
    assert errors[0]["error"] == "client_refused" and errors[0]["client"].startswith("127.0.0.1:")
    assert len(errors) < 10, "refused datagrams are reported at most once a second"
    assert upstream.names() == ["clean.example"]
