"""Runs a recording origin (HTTP), an echo server (raw TCP) or a UDP sink as its own process, so a
test can start it inside a network namespace:
    ip netns exec NS python3 origin_main.py http|echo|udp HOST RECORD [PORT]
    ip netns exec NS python3 origin_main.py https HOST RECORD PORT CERT KEY
    ip netns exec NS python3 origin_main.py h2 HOST RECORD PORT CERT KEY   (HTTP/2 only, ALPN h2)
    ip netns exec NS python3 origin_main.py h2c HOST RECORD [PORT]         (HTTP/2 with prior knowledge)
Prints "port N" once listening; every received byte is appended to RECORD (h2, h2c: one JSON line per stream, h2_servers.StreamRecord). A fixed PORT is only
for namespaces the test owns (nothing else can hold the port there)."""

import socket
import sys
import threading

from servers import EchoServer, HttpsOrigin, RecordingOrigin

kind, host, record = sys.argv[1], sys.argv[2], sys.argv[3]
port = int(sys.argv[4]) if len(sys.argv) > 4 else 0
family = socket.AF_INET6 if ":" in host else socket.AF_INET
if kind == "udp":
    sink = socket.socket(family, socket.SOCK_DGRAM)
    sink.bind((host, port))
    print("port", sink.getsockname()[1], flush=True)
    while True:
        data = sink.recv(65536)
        with open(record, "ab") as f:
            f.write(data)
if kind in ("h2", "h2c"):
    from h2_servers import H2Origin
    cert, key = (sys.argv[5], sys.argv[6]) if kind == "h2" else (None, None)
    server = H2Origin(cert, key, host, family, port=port, record_path=record)
elif kind == "https":
    server = HttpsOrigin(sys.argv[5], sys.argv[6], host, family, record_path=record, port=port)
elif kind == "http":
    server = RecordingOrigin(host, family, record_path=record, port=port)
else:
    server = EchoServer(host, family, record_path=record, port=port)
print("port", server.port, flush=True)
threading.Event().wait()
