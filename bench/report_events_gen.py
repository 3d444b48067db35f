#!/usr/bin/env python3
"""Writes a synthetic leakguard event log of about --mb megabytes for bench/report_bench.sh: the
event mix of a lab hotspot (conn open/close, http exchanges, tls decisions, findings in the shape of
design.md, a malformed line now and then), from a fixed seed so every run reports the same log.
Values are masked as leakguard masks them; nothing here is a real identifier."""

import argparse
import json
import random

KINDS = ["imei", "imsi", "iccid", "msisdn", "serial", "mac", "android_id", "gaid", "email", "location", "cell"]
COUNTRIES = ["NO", "NO", "NO", "SE", "DE", "US", "US", "CN", "CN", "SG", "IE", "NL"]
TRANSPORTS = ["http", "https", "https", "https", "tcp", "tls-passthrough"]
ENCODINGS = ["plain", "url", "base64>json", "json", "form", "hex", "gzip>json", "multipart"]
ACTIONS = ["logged", "logged", "logged", "blocked", "redacted", "allowed"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=1024)
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    hosts = [(f"svc{i}.vendor{i % 37}.example", f"203.0.{i // 250}.{i % 250 + 1}", rng.choice(COUNTRIES))
             for i in range(300)]
    devices = [(f"lab-phone-{d:02d}", f"10.42.0.{d + 10}") for d in range(60)]
    devices += [(None, f"10.42.1.{c}") for c in range(10)]  # clients without a profile
    # Each device talks to its own 30 destinations and leaks 4 kinds: a few thousand rows in all.
    profile = {d: (rng.sample(hosts, 30), rng.sample(KINDS, 4)) for d, _ in devices}

    target = args.mb * 1024 * 1024
    written = 0
    flow = 0
    ts_base = 1795856400  # 2026-11-28T09:00:00Z
    chunk = []
    with open(args.output, "w") as out:
        while written < target:
            flow += 1
            device, client_ip = devices[flow % len(devices)]
            targets, kinds = profile[device]
            host, ip, country = targets[rng.randrange(len(targets))]
            transport = TRANSPORTS[rng.randrange(len(TRANSPORTS))]
            port = 80 if transport == "http" else (443 if transport != "tcp" else 5222)
            second = flow // 20
            ts = "2026-11-28T%02d:%02d:%02d.%03dZ" % ((9 + second // 3600) % 24, second // 60 % 60, second % 60,
                                                    flow % 1000)
            base = {"flow": f"{flow % 8}-{flow}", "client": f"{client_ip}:{40000 + flow % 20000}", "ts": ts,
                    "dst": {"ip": ip, "port": port, "host": host, "country": country}}
            if device:
                base["device"] = device
            events = [dict(base, type="conn", event="open", dst={})]
            if transport in ("https", "tls-passthrough"):
                tls = dict(base, type="tls", event="intercepted" if transport == "https" else "passthrough",
                           sni=host, transport=transport)
                if transport == "tls-passthrough":
                    tls["passthrough"] = "pinned" if flow % 3 == 0 else "config"
                events.append(tls)
            if transport in ("http", "https"):
                for exchange in range(1 + flow % 3):
                    events.append(dict(base, type="http", transport=transport, method="POST",
                                       url=f"{'https' if transport == 'https' else 'http'}://{host}/api/v2/report?seq={exchange}",
                                       status=200, request_bytes=812, response_bytes=96, ttfb_ms=12.5,
                                       duration_ms=13.1))
            if transport != "tls-passthrough" and flow % 4 != 0:
                for _ in range(1 + flow % 2):
                    kind = kinds[rng.randrange(len(kinds))]
                    events.append(dict(base, type="finding", transport=transport, method="POST",
                                       url=f"http://{host}/api/v2/report", identifier=kind,
                                       detector="known_identifiers", method_of_detection="known",
                                       encoding=ENCODINGS[rng.randrange(len(ENCODINGS))],
                                       where="body.json:data.device." + kind, value="3532**********",
                                       action=ACTIONS[rng.randrange(len(ACTIONS))]))
            events.append(dict(base, type="conn", event="close", transport=transport, bytes_from_client=1800,
                               bytes_to_client=420, bytes_to_upstream=1800, bytes_from_upstream=420, duration_ms=37))
            for event in events:
                line = json.dumps(event, separators=(",", ":")) + "\n"
                chunk.append(line)
                written += len(line)
            if flow % 50000 == 0:
                chunk.append('{"type":"finding","ts":"2026-11-28T09:00:00.000Z","dst":{"ip"\n')  # a torn line
            if len(chunk) > 20000:
                out.write("".join(chunk))
                chunk.clear()
        out.write("".join(chunk))
    print(f"wrote {written / 1048576:.0f} MiB, {flow} connections to {args.output}")


if __name__ == "__main__":
    main()
