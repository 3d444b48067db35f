"""Runs a recording origin (HTTP) or an echo server (raw TCP) as its own process, so a test can
start it inside a network namespace: `ip netns exec NS python3 origin_main.py http HOST RECORD`.
Prints "port N" once listening; every received byte is appended to RECORD."""

import socket
import sys
import threading

from servers import EchoServer, RecordingOrigin

kind, host, record = sys.argv[1], sys.argv[2], sys.argv[3]
family = socket.AF_INET6 if ":" in host else socket.AF_INET
if kind == "http":
    server = RecordingOrigin(host, family, record_path=record)
else:
    server = EchoServer(host, family, record_path=record)
print("port", server.port, flush=True)
threading.Event().wait()
