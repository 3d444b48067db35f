"""A tiny real DNS resolver for the tests: UDP and TCP on one port, answers A, AAAA and CNAME
chains from a zone dict, NXDOMAIN for the rest, and logs every question it receives (id, name,
type), so a test can assert what reached it and what did not. Also runs as its own process inside a
namespace:  python3 dns_upstream.py HOST PORT LOG ZONE_JSON   (prints "port N" once listening).

Zone: {"name": [["A", "192.0.2.1"], ["AAAA", "2001:db8::1"], ["CNAME", "other.name"]]}.
A name "spoof.*" is answered three times: a reply with another id, one with the right id for
another question (what an off-path attacker would try), then the real one; a forwarder must take
only the last."""

import json
import socket
import struct
import sys
import threading

TYPES = {"A": 1, "CNAME": 5, "AAAA": 28}


def encode_name(name):
    out = b""
    for label in name.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def parse_question(message):
    """(id, flags, name, qtype, question bytes) of a query, or None when it is not one we can read."""
    if len(message) < 12:
        return None
    ident, flags, qdcount = struct.unpack(">HHH", message[:6])
    if qdcount != 1:
        return None
    at, labels = 12, []
    while at < len(message) and message[at] != 0:
        length = message[at]
        if length & 0xC0 or at + 1 + length > len(message):
            return None
        labels.append(message[at + 1:at + 1 + length].decode("latin-1"))
        at += 1 + length
    if at + 5 > len(message):
        return None
    qtype = struct.unpack(">H", message[at + 1:at + 3])[0]
    return ident, flags, ".".join(labels), qtype, message[12:at + 5]


def record(owner, rtype, ttl, rdata):
    return encode_name(owner) + struct.pack(">HHIH", TYPES[rtype], 1, ttl, len(rdata)) + rdata


def answer(zone, query, ident=None, override=None):
    ident0, flags, name, qtype, question = query
    lower = name.lower()
    records, rcode, chain = [], 3, lower
    for _ in range(8):
        entries = (override or zone).get(chain)
        if entries is None:
            break
        rcode = 0
        cname = [value for kind, value in entries if kind == "CNAME"]
        if cname:
            records.append(record(chain, "CNAME", 300, encode_name(cname[0])))
            chain = cname[0].lower()
            continue
        for kind, value in entries:
            if TYPES[kind] == qtype:
                family = socket.AF_INET if kind == "A" else socket.AF_INET6
                records.append(record(chain, kind, 120, socket.inet_pton(family, value)))
        break
    header = struct.pack(">HHHHHH", ident0 if ident is None else ident, 0x8180 | (flags & 0x0100) | rcode, 1,
                         len(records), 0, 0)
    return header + question + b"".join(records)


class DnsUpstream:
    def __init__(self, host="127.0.0.1", zone=None, port=0, log_path=None):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.zone = {k.lower(): v for k, v in (zone or {}).items()}
        self.log_path = log_path
        self.questions = []  # (id, name, qtype) in arrival order
        self.lock = threading.Lock()
        # One port for UDP and TCP: with port 0 the UDP socket picks it, and when TCP finds that
        # port taken (another test's listener) both try again, a bounded number of times.
        for attempt in range(32):
            self.udp = socket.socket(family, socket.SOCK_DGRAM)
            self.udp.bind((host, port))
            self.port = self.udp.getsockname()[1]
            self.tcp = socket.socket(family, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self.tcp.bind((host, self.port))
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
                if port != 0 or attempt == 31:
                    raise
        self.tcp.listen(16)
        self.closed = False
        for target in (self._serve_udp, self._serve_tcp):
            threading.Thread(target=target, daemon=True).start()

    def names(self):
        with self.lock:
            return [name for _, name, _ in self.questions]

    def ids(self):
        with self.lock:
            return [ident for ident, _, _ in self.questions]

    def _log(self, query):
        with self.lock:
            self.questions.append((query[0], query[2], query[3]))
            if self.log_path:
                with open(self.log_path, "a") as f:
                    f.write(json.dumps({"id": query[0], "name": query[2], "qtype": query[3]}) + "\n")

    def _replies(self, message):
        query = parse_question(message)
        if query is None:
            return []
        self._log(query)
        if query[2].lower().startswith("spoof."):
            other = "other." + query[2]
            wrong_question = (query[0], query[1], other, query[3], encode_name(other) + query[4][-4:])
            return [answer(self.zone, query, ident=query[0] ^ 0x5A5A, override={query[2].lower(): [["A", "203.0.113.66"]]}),
                    answer(self.zone, wrong_question, override={other.lower(): [["A", "203.0.113.67"]]}),
                    answer(self.zone, query)]
        return [answer(self.zone, query)]

    def _serve_udp(self):
        while not self.closed:
            try:
                message, peer = self.udp.recvfrom(65535)
            except OSError:
                return
            for reply in self._replies(message):
                self.udp.sendto(reply, peer)

    def _serve_tcp(self):
        while not self.closed:
            try:
                connection, _ = self.tcp.accept()
            except OSError:
                return
            threading.Thread(target=self._serve_tcp_connection, args=(connection,), daemon=True).start()

    def _serve_tcp_connection(self, connection):
        with connection:
            connection.settimeout(10)
            try:
                while True:
                    length = _read_exactly(connection, 2)
                    if length is None:
                        return
                    message = _read_exactly(connection, struct.unpack(">H", length)[0])
                    if message is None:
                        return
                    for reply in self._replies(message):
                        connection.sendall(struct.pack(">H", len(reply)) + reply)
            except OSError:
                return

    def close(self):
        self.closed = True
        self.udp.close()
        self.tcp.close()


def _read_exactly(connection, count):
    data = b""
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


if __name__ == "__main__":
    server = DnsUpstream(sys.argv[1], json.loads(sys.argv[4]), int(sys.argv[2]), sys.argv[3])
    print("port", server.port, flush=True)
    threading.Event().wait()
