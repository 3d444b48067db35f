#!/usr/bin/env python3
"""Writes a pcap of synthetic but well-formed TCP traffic for bench/pcap_bench.sh: Ethernet, IPv4,
full handshakes and FINs, MSS-sized segments, both directions, `--concurrent` flows interleaved
(so the open-flow count stays the same whatever the file size, above ~100 MB). The mix, by flow: 50 % HTTP/1.1
(1-3 requests: GETs with query strings, form and JSON POSTs, 1 in 10 with an IMEI; responses of
5-60 KB), 30 % TLS (a ClientHello with SNI, then encrypted-looking records both ways), 20 % raw TCP
(text and binary, 1 in 10 with an IMEI). Fixed seed: the same file every time.

usage: bench/pcap_gen.py --mb SIZE -o FILE [--concurrent N]
"""

import argparse
import random
import struct

IMEI = "353209091234567"
MSS = 1448


def client_hello(sni):
    name = sni.encode()
    sni_ext = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    versions = struct.pack("!HHB", 0x002b, 3, 2) + b"\x03\x04"
    extensions = sni_ext + versions
    body = (b"\x03\x03" + bytes(32) + b"\x20" + bytes(32) + struct.pack("!H", 2) + b"\x13\x01" + b"\x01\x00" +
            struct.pack("!H", len(extensions)) + extensions)
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(handshake)) + handshake


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.pool = self.rng.randbytes(1 << 20)  # "encrypted" and binary payloads are cut from it

    def noise(self, size):
        start = self.rng.randrange(0, len(self.pool) - size)
        return self.pool[start:start + size]

    def text(self, size):
        words = [b"status", b"ok", b"battery=87", b"lang=en", b"model=X1", b"{\"k\":1}", b"session", b"0123abcd"]
        out = bytearray()
        while len(out) < size:
            out += self.rng.choice(words) + b" "
        return bytes(out[:size])

    def http_flow(self):
        client, server = [], []
        for _ in range(self.rng.randint(1, 3)):
            leak = f"&imei={IMEI}" if self.rng.random() < 0.1 else ""
            host = f"api{self.rng.randint(1, 50)}.example.com"
            if self.rng.random() < 0.5:
                request = (f"GET /v1/config?device=x1&build=42{leak} HTTP/1.1\r\nHost: {host}\r\n"
                           f"User-Agent: okhttp/4.9.0\r\nAccept: */*\r\n\r\n").encode()
            else:
                json_body = self.rng.random() < 0.5
                body = (b'{"events":"' + self.text(self.rng.randint(2000, 20000)) + leak.encode() + b'"}'
                        if json_body else b"a=1&b=" + self.text(self.rng.randint(2000, 20000)) + leak.encode())
                kind = "application/json" if json_body else "application/x-www-form-urlencoded"
                request = (f"POST /v1/collect HTTP/1.1\r\nHost: {host}\r\nContent-Type: {kind}\r\n"
                           f"Content-Length: {len(body)}\r\n\r\n").encode() + body
            response_body = self.text(self.rng.randint(5000, 60000))
            client.append(request)
            server.append(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                          str(len(response_body)).encode() + b"\r\n\r\n" + response_body)
        return 80, client, server

    def tls_flow(self):
        hello = client_hello(f"cdn{self.rng.randint(1, 500)}.example.net")
        client = [hello, self.noise(self.rng.randint(2000, 20000))]
        server = [self.noise(4000), self.noise(self.rng.randint(10000, 100000))]
        return 443, client, server

    def raw_flow(self):
        payload = self.text(self.rng.randint(1000, 10000)) if self.rng.random() < 0.5 else \
            self.noise(self.rng.randint(1000, 10000))
        if self.rng.random() < 0.1:
            payload += f" id={IMEI} ".encode()
        return 5222, [payload], [self.noise(self.rng.randint(500, 5000))]

    def flow(self):
        pick = self.rng.random()
        return self.http_flow() if pick < 0.5 else self.tls_flow() if pick < 0.8 else self.raw_flow()


def frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000, 64, 6, 0, src, dst)
    return b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00" + ip + tcp + payload


def packets_of(number, generator):
    """Every packet of one flow, in order: handshake, then each client message and its answer."""
    port, client_messages, server_messages = generator.flow()
    src = bytes([10, 42, (number >> 8) & 0x3f, number & 0xff])
    dst = bytes([203, 0, 113, number % 200 + 1])
    sport = 20000 + number % 40000
    cseq, sseq = generator.rng.getrandbits(32), generator.rng.getrandbits(32)
    yield frame(src, dst, sport, port, cseq, 0, 0x02)
    yield frame(dst, src, port, sport, sseq, cseq + 1, 0x12)
    cseq, sseq = cseq + 1, sseq + 1
    yield frame(src, dst, sport, port, cseq & 0xffffffff, sseq, 0x10)
    for request, response in zip(client_messages, server_messages):
        for offset in range(0, len(request), MSS):
            part = request[offset:offset + MSS]
            yield frame(src, dst, sport, port, cseq & 0xffffffff, sseq & 0xffffffff, 0x18, part)
            cseq += len(part)
        for offset in range(0, len(response), MSS):
            part = response[offset:offset + MSS]
            yield frame(dst, src, port, sport, sseq & 0xffffffff, cseq & 0xffffffff, 0x18, part)
            sseq += len(part)
        yield frame(src, dst, sport, port, cseq & 0xffffffff, sseq & 0xffffffff, 0x10)
    yield frame(src, dst, sport, port, cseq & 0xffffffff, sseq & 0xffffffff, 0x11)
    yield frame(dst, src, port, sport, sseq & 0xffffffff, (cseq + 1) & 0xffffffff, 0x11)
    yield frame(src, dst, sport, port, (cseq + 1) & 0xffffffff, (sseq + 1) & 0xffffffff, 0x10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, required=True)
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--concurrent", type=int, default=500)
    args = parser.parse_args()
    generator = Generator(17)
    limit = args.mb << 20
    # Small files get fewer flows at once, or the flows begun would make them much larger than asked.
    concurrent = min(args.concurrent, limit // 200_000 + 1)
    written = 24
    seconds, micros = 1_765_000_000, 0
    next_flow = 0
    active = []
    with open(args.output, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        finished = 0
        while written < limit or active:
            # The flows still open will add about their average size each: stop starting new ones
            # early enough that the file ends near the size asked for.
            tail = len(active) * (written / finished if finished >= 20 else 60_000)
            while written + tail < limit and len(active) < concurrent:
                active.append(packets_of(next_flow, generator))
                next_flow += 1
            index = generator.rng.randrange(len(active))
            packet = next(active[index], None)
            if packet is None:
                active[index] = active[-1]
                active.pop()
                finished += 1
                continue
            micros += 37
            out.write(struct.pack("<IIII", seconds + micros // 1_000_000, micros % 1_000_000, len(packet), len(packet)))
            out.write(packet)
            written += 16 + len(packet)
    print(f"{args.output}: {written} bytes, {next_flow} flows")


if __name__ == "__main__":
    main()
