#!/usr/bin/python3
"""Memory and descriptors of leakguard per idle connection (issue 16, part 3): N client
connections through leakguard to a local origin, each with one request answered, then all held
idle at once; leakguard's VmRSS and open descriptors are read, every connection then sends a second
request (all must be answered), and after they close the descriptor count must be back.

Two paths, each with a fresh leakguard process:
  plain        explicit proxy, `GET http://origin/ HTTP/1.1`, keep-alive
  intercepted  CONNECT, then TLS with leakguard's forged leaf, leakguard's own TLS to the origin
               (a TLS origin with a test CA): two TLS connections per client connection
KiB per idle connection = (VmRSS with N held - VmRSS with 10 held) / (N - 10).

Descriptors: a proxied connection holds two in leakguard (client and origin side). The script
raises its RLIMIT_NOFILE soft limit to the hard one (leakguard inherits it) and refuses an N the
limit cannot hold; this machine's hard limit is 20,000 per process, so N = 9,000 is the largest
round figure (leakguard ~18,000 descriptors). The packaged unit sets LimitNOFILE=65536.

The origin is an asyncio server in a child process (this script with --origin), so that the
client and the origin each hold N descriptors of their own.

Usage: bench/connections_bench.py [--connections 9000] [--paths plain,intercepted] [--binary build/leakguard]
"""

import argparse
import asyncio
import os
import pathlib
import resource
import signal
import ssl
import subprocess
import sys
import tempfile
import time

import yaml

REPO = pathlib.Path(__file__).resolve().parents[1]
BODY = b"ok\n"
WARM = 10  # connections held when the baseline is read


def raise_nofile(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        sys.exit(f"connections_bench: RLIMIT_NOFILE hard limit {hard} < {needed} needed; lower --connections")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --- the origin (child process) -------------------------------------------------------------

async def origin_main(cert, key):
    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    break
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    context = None
    if cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


# --- the client ------------------------------------------------------------------------------

def proc_figures(pid):
    rss = next(int(line.split()[1]) for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("VmRSS:"))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    body = await reader.readexactly(length)
    return head.split(b" ", 2)[1], body


async def open_one(proxy_port, origin_port, intercepted, client_tls):
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
    if intercepted:
        writer.write(f"CONNECT 127.0.0.1:{origin_port} HTTP/1.1\r\nHost: 127.0.0.1:{origin_port}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head[:40])
        await writer.start_tls(client_tls, server_hostname="127.0.0.1")
        request = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{origin_port}\r\n\r\n".encode()
    else:
        request = f"GET http://127.0.0.1:{origin_port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin_port}\r\n\r\n".encode()
    return reader, writer, request


async def exchange(connection):
    reader, writer, request = connection
    writer.write(request)
    status, body = await read_response(reader)
    return status == b"200" and body == BODY


async def measure_path(path, args, binary, pki, tmp):
    intercepted = path == "intercepted"
    origin = subprocess.Popen([sys.executable, __file__, "--origin", *(["--cert", str(pki / "origin.pem"), "--key",
                               str(pki / "origin.key")] if intercepted else [])], stdout=subprocess.PIPE)
    origin_port = int(origin.stdout.readline())
    events = tmp / f"events-{path}.jsonl"
    config = {"listen": ["127.0.0.1:0"], "clients": {"allow": ["127.0.0.0/8"]}, "events": {"path": str(events)},
              "workers": 2, "limits": {"idle_timeout_ms": 600000, "max_connections": args.connections + 100}}
    if intercepted:
        config["tls"] = {"intercept": "all", "ca_dir": str(tmp / "ca"), "upstream_ca": str(pki / "origin-ca.pem")}
    (tmp / f"{path}.yaml").write_text(yaml.safe_dump(config))
    proxy = subprocess.Popen([str(binary), "run", "-c", str(tmp / f"{path}.yaml")], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    line = proxy.stderr.readline().decode()
    if not line.startswith("listening on"):
        raise RuntimeError(f"leakguard did not start: {line}")
    proxy_port = int(line.rsplit(":", 1)[1])
    client_tls = ssl.create_default_context(cafile=str(tmp / "ca" / "ca.pem")) if intercepted else None
    try:
        connections = []
        failures = 0

        async def add(count):
            nonlocal failures
            limit = asyncio.Semaphore(64 if intercepted else 256)

            async def one():
                nonlocal failures
                async with limit:
                    try:
                        connection = await open_one(proxy_port, origin_port, intercepted, client_tls)
                        if await exchange(connection):
                            connections.append(connection)
                            return
                    except (OSError, asyncio.IncompleteReadError, ssl.SSLError, RuntimeError) as error:
                        if failures < 3:
                            print(f"  {path}: connection failed: {error!r}", file=sys.stderr)
                    failures += 1
            await asyncio.gather(*(one() for _ in range(count)))

        fd_start = proc_figures(proxy.pid)[1]
        await add(WARM)
        await asyncio.sleep(4)
        rss_warm, fd_warm = proc_figures(proxy.pid)
        started = time.monotonic()
        await add(args.connections - WARM)
        opened_s = time.monotonic() - started
        # Idle: a TLS leg quiet for 2 s gives its record buffers back and the heap is trimmed
        # once a second after that (README "Memory"); 4 s covers both.
        await asyncio.sleep(4)
        rss_held, fd_held = proc_figures(proxy.pid)
        held = len(connections)
        second = await asyncio.gather(*(exchange(c) for c in connections), return_exceptions=True)
        answered = sum(1 for ok in second if ok is True)
        for _, writer, _ in connections:
            writer.close()
        deadline = time.monotonic() + 30
        fd_after = proc_figures(proxy.pid)[1]
        while fd_after > fd_start and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            fd_after = proc_figures(proxy.pid)[1]
        per_conn = (rss_held - rss_warm) / max(1, held - WARM)
        return {"path": path, "held": held, "failed": failures, "second_ok": answered, "open_s": opened_s,
                "rss_warm_kib": rss_warm, "rss_held_kib": rss_held, "kib_per_conn": per_conn,
                "fd_start": fd_start, "fd_held": fd_held, "fd_after": fd_after}
    finally:
        proxy.send_signal(signal.SIGTERM)
        try:
            proxy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proxy.kill()
        origin.kill()
        origin.wait()


def make_pki(binary, tmp):
    pki = tmp / "pki"
    pki.mkdir()
    # The origin's test CA and certificate: the same helper tls_bench.sh and soak.sh use.
    subprocess.run(["bash", "-c", f'source "{REPO}/bench/lib.sh" && make_origin_pki "$1" "connections_bench origin CA"',
                    "make_origin_pki", str(pki)],
                   check=True)
    subprocess.run([str(binary), "ca", "init", "--dir", str(tmp / "ca")], check=True, stdout=subprocess.DEVNULL)
    return pki


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=9000)
    parser.add_argument("--paths", default="plain,intercepted")
    parser.add_argument("--binary", default=str(REPO / "build" / "leakguard"))
    parser.add_argument("--origin", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cert", help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    args = parser.parse_args()
    # leakguard holds 2 per connection (+ its own); the client and the origin N each (+ a few).
    raise_nofile(2 * args.connections + 200)
    if args.origin:
        asyncio.run(origin_main(args.cert, args.key))
        return
    binary = pathlib.Path(args.binary).resolve()
    rows = []
    with tempfile.TemporaryDirectory(prefix="connections-bench-") as name:
        tmp = pathlib.Path(name)
        pki = make_pki(binary, tmp)
        for path in args.paths.split(","):
            row = asyncio.run(measure_path(path, args, binary, pki, tmp))
            rows.append(row)
            print(f"  {path}: {row}", file=sys.stderr, flush=True)
    columns = ["held", "failed", "second_ok", "open_s", "rss_warm_kib", "rss_held_kib", "kib_per_conn", "fd_start",
               "fd_held", "fd_after"]
    print("| path | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for row in rows:
        print(f"| {row['path']} | " + " | ".join(f"{row[c]:.1f}" if isinstance(row[c], float) else str(row[c])
                                            for c in columns) + " |")


if __name__ == "__main__":
    main()
