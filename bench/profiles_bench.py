#!/usr/bin/python3
"""Start-up, SIGHUP reload and memory of `leakguard run` with many device profiles (issue 16,
part 3), against one profile in the same run.

Each profile has 8 identifiers (imei, imsi, iccid, msisdn, mac, android_id, gaid, email) and an ip
match, as a lab's phones would. For each size, RUNS fresh processes (sizes interleaved):
  start_s   from spawn to the last `listening on` line on stderr (configuration load, Hyperscan
            databases, listeners)
  rss_mib   VmRSS once listening;  hwm_mib: VmHWM (peak) by then
  reload_s  from SIGHUP to the `config reloaded` event's timestamp (the event log writes within
            ~10 ms, which bounds the error; the timestamp is taken when the new snapshot is in)
  rss_after_reload_mib  VmRSS after the reload (the old snapshot freed once nothing uses it)
  all_first_s  then one request from each profile's address (127.x.y.z), one after the other,
            carrying its IMEI, through leakguard to a local origin: the first request of a profile
            compiles its Hyperscan database, so this is what all the profiles' first requests cost
  rss_active_mib  VmRSS with every profile's database compiled
  reload_active_s  SIGHUP again, every database compiled: unchanged profiles keep theirs
Medians are printed as a Markdown table, with the ratio of each size to one profile.

Usage: bench/profiles_bench.py [--profiles 1000] [--runs 3] [--binary build/leakguard]
       bench/profiles_bench.py --profiles 50 --write-config FILE --events FILE
         writes such a configuration (mode log; the last profile is the loopback client 127.0.0.1)
         and prints that profile's IMEI: bench/soak.sh's profiles
"""

import argparse
import http.server
import json
import pathlib
import random
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time

import yaml

REPO = pathlib.Path(__file__).resolve().parents[1]


def luhn_complete(digits):
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return digits + str((10 - total % 10) % 10)


def profile(index, rng):
    hexdigits = "0123456789abcdef"
    return {
        "name": f"phone-{index:04d}",
        # Loopback addresses (127.0.0.0/8 is all local on Linux): the benchmark sends a request
        # from each profile's own address.
        "match": {"ip": f"127.{1 + index // 62500}.{index // 250 % 250}.{1 + index % 250}"},
        "identifiers": {
            "imei": luhn_complete("35" + "".join(rng.choice("0123456789") for _ in range(12))),
            "imsi": "24201" + "".join(rng.choice("0123456789") for _ in range(10)),
            "iccid": luhn_complete("894701" + "".join(rng.choice("0123456789") for _ in range(12))),
            "msisdn": "+479" + "".join(rng.choice("0123456789") for _ in range(7)),
            "mac": ":".join("".join(rng.choice(hexdigits) for _ in range(2)) for _ in range(6)).replace("0", "a", 1),
            "android_id": "".join(rng.choice(hexdigits) for _ in range(15)) + "a",
            "gaid": "-".join("".join(rng.choice(hexdigits) for _ in range(n)) for n in (8, 4, 4, 4, 12)),
            "email": f"user{index}@example.org",
        },
    }


def status_kib(pid, field):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def profiles_config(count, events):
    """A configuration with `count` profiles; the last one is the loopback client (matched after
    every other profile is tried)."""
    rng = random.Random(count)
    devices = [profile(i, rng) for i in range(count)]
    devices[-1]["match"] = {"ip": "127.0.0.1"}
    return {"listen": ["127.0.0.1:0"], "workers": 2, "events": {"path": str(events)}, "devices": devices}


def reload_seconds(process, events, count, sent):
    """Seconds from `sent` (time.time()) to the `count`-th `config reloaded` event's timestamp."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        reloads = [json.loads(line) for line in (events.read_text().splitlines() if events.exists() else [])]
        reloads = [e for e in reloads if e.get("type") == "config" and e.get("event") == "reloaded"]
        if len(reloads) >= count:
            ts = reloads[count - 1]["ts"]
            return time.mktime(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone + float(ts[19:-1]) - sent
        time.sleep(0.005)
    raise RuntimeError(f"no reload event (process exit status {process.poll()})")


class Origin(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, *args):
        pass


def request_from(address, proxy_port, origin_port, imei):
    """One GET through the proxy from `address`, carrying the profile's IMEI; the status code."""
    with socket.socket() as sock:
        sock.settimeout(30)
        sock.bind((address, 0))
        sock.connect(("127.0.0.1", proxy_port))
        sock.sendall(f"GET http://127.0.0.1:{origin_port}/a?imei={imei} HTTP/1.1\r\nHost: x\r\n"
                     "Connection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    return answer[9:12]


def one_run(binary, directory, count, origin_port):
    events = directory / f"events-{count}.jsonl"
    events.unlink(missing_ok=True)
    config = profiles_config(count, events)
    path = directory / f"profiles-{count}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    stderr_path = directory / f"stderr-{count}.log"
    with open(stderr_path, "w") as stderr:
        started = time.monotonic()
        process = subprocess.Popen([str(binary), "run", "-c", str(path)], stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        while "listening on" not in stderr_path.read_text():
            if process.poll() is not None:
                raise RuntimeError(stderr_path.read_text())
            time.sleep(0.002)
        start_s = time.monotonic() - started
        port = int(stderr_path.read_text().split("listening on ")[1].split()[0].rsplit(":", 1)[1])
        rss = status_kib(process.pid, "VmRSS")
        hwm = status_kib(process.pid, "VmHWM")
        sent = time.time()
        process.send_signal(signal.SIGHUP)
        reload_s = reload_seconds(process, events, 1, sent)
        time.sleep(0.2)  # let the old snapshot go
        rss_after_reload = status_kib(process.pid, "VmRSS")
        # Every profile's first request (its database is compiled then), one after the other.
        started = time.monotonic()
        for device in config["devices"]:
            status = request_from(device["match"]["ip"], port, origin_port, device["identifiers"]["imei"])
            if status != b"200":
                raise RuntimeError(f"{device['name']}: status {status}")
        all_first_s = time.monotonic() - started
        rss_active = status_kib(process.pid, "VmRSS")
        # A reload with every database compiled: the unchanged profiles keep theirs.
        sent = time.time()
        process.send_signal(signal.SIGHUP)
        reload_active_s = reload_seconds(process, events, 2, sent)
        return {"start_s": start_s, "rss_mib": rss / 1024, "hwm_mib": hwm / 1024, "reload_s": reload_s,
                "rss_after_reload_mib": rss_after_reload / 1024, "all_first_s": all_first_s,
                "rss_active_mib": rss_active / 1024, "reload_active_s": reload_active_s}
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--binary", default=str(REPO / "build" / "leakguard"))
    parser.add_argument("--write-config")
    parser.add_argument("--events")
    args = parser.parse_args()
    if args.write_config:
        config = profiles_config(args.profiles, args.events)
        config["mode"] = "log"
        pathlib.Path(args.write_config).write_text(yaml.safe_dump(config, sort_keys=False))
        print(config["devices"][-1]["identifiers"]["imei"])
        return
    sizes = [1, args.profiles]
    results = {size: [] for size in sizes}
    origin = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Origin)
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="profiles-bench-") as tmp:
        for _ in range(args.runs):
            for size in sizes:  # interleaved: a machine that slows down slows both
                results[size].append(one_run(pathlib.Path(args.binary), pathlib.Path(tmp), size, origin.server_port))
    origin.shutdown()
    columns = ["start_s", "reload_s", "rss_mib", "hwm_mib", "rss_after_reload_mib", "all_first_s", "rss_active_mib",
               "reload_active_s"]
    print("| profiles | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    medians = {size: {c: statistics.median(r[c] for r in results[size]) for c in columns} for size in sizes}
    for size in sizes:
        print(f"| {size} | " + " | ".join(f"{medians[size][c]:.3f}" for c in columns) + " |")
    print(f"| ratio {args.profiles}/1 | " + " | ".join(f"{medians[args.profiles][c] / medians[1][c]:.1f}x" for c in columns)
          + " |")


if __name__ == "__main__":
    main()
