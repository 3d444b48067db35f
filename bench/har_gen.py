#!/usr/bin/env python3
"""A large HAR in Chrome's shape for `leakguard scan` throughput (bench/har_bench.sh): HTTP/2 and
HTTP/1.1 entries with ~15 request headers, cookies, query strings, JSON, form and base64 request
bodies, and response bodies as text (most of a real export's bytes, which the reader skips). One
entry in 40 leaks an identifier of ../shared/corpus/profile.yaml. Fixed seed: the same file every run.
  usage: har_gen.py --mb 200 -o out.har"""

import argparse
import base64
import json
import random

IMEI, IMSI, GAID = "353209091234567", "242016601234567", "38400000-8cf0-11bd-b23e-10b96e40000d"
HOSTS = [f"api{i}.example.{tld}" for i in range(40) for tld in ("com", "cn", "no")]
UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36"


def entry(rng, n):
    host = rng.choice(HOSTS)
    h2 = rng.random() < 0.7
    leak = n % 40 == 0
    query = "&".join(f"p{i}={rng.getrandbits(32):x}" for i in range(rng.randint(0, 6)))
    if leak and n % 120 == 0:
        query += f"&imei={IMEI}"
    path = f"/v{rng.randint(1, 3)}/{rng.choice(['feed', 'ping', 'config', 'sync', 'ads', 'img'])}/{rng.getrandbits(24):x}"
    url = f"https://{host}{path}" + (f"?{query}" if query else "")
    method = rng.choice(["GET", "GET", "GET", "POST"])
    headers = [{"name": ":authority", "value": host}, {"name": ":method", "value": method},
               {"name": ":path", "value": path}, {"name": ":scheme", "value": "https"}] if h2 else [
        {"name": "Host", "value": host}]
    headers += [{"name": "user-agent", "value": UA}, {"name": "accept", "value": "application/json, text/plain, */*"},
                {"name": "accept-language", "value": "nb-NO,nb;q=0.9,en;q=0.8"},
                {"name": "accept-encoding", "value": "gzip, deflate, br"},
                {"name": "sec-ch-ua", "value": '"Chromium";v="156", "Not.A/Brand";v="24"'},
                {"name": "sec-fetch-site", "value": "same-site"}, {"name": "sec-fetch-mode", "value": "cors"},
                {"name": "x-request-id", "value": f"{rng.getrandbits(128):032x}"},
                {"name": "referer", "value": f"https://www.example.com/page/{rng.getrandbits(20)}"}]
    cookie = f"sid={rng.getrandbits(96):024x}; _ga=GA1.2.{rng.getrandbits(30)}.{rng.getrandbits(30)}"
    if leak and n % 120 == 40:
        cookie += f"; imsi={IMSI}"
    headers.append({"name": "cookie", "value": cookie})
    request = {"method": method, "url": url, "httpVersion": "http/2.0" if h2 else "HTTP/1.1", "headers": headers,
               "queryString": [{"name": k, "value": v} for k, _, v in (p.partition("=") for p in query.split("&") if p)],
               "cookies": [{"name": c.split("=")[0].strip(), "value": c.split("=", 1)[1]} for c in cookie.split(";")],
               "headersSize": -1, "bodySize": 0}
    if method == "POST":
        kind = rng.random()
        fields = {f"k{i}": rng.choice([rng.getrandbits(40), f"v{rng.getrandbits(48):x}", True]) for i in range(rng.randint(4, 30))}
        if leak and n % 120 == 80:
            fields["adid"] = GAID
        if kind < 0.7:
            text = json.dumps(fields)
            request["postData"] = {"mimeType": "application/json", "text": text}
        elif kind < 0.9:
            request["postData"] = {"mimeType": "application/x-www-form-urlencoded",
                                   "params": [{"name": k, "value": str(v)} for k, v in fields.items()]}
        else:
            request["postData"] = {"mimeType": "application/octet-stream", "encoding": "base64",
                                   "text": base64.b64encode(json.dumps(fields).encode()).decode()}
        request["bodySize"] = len(json.dumps(fields))
    body = json.dumps({"items": [{"id": rng.getrandbits(32), "title": f"item {rng.getrandbits(40):x}",
                                  "score": rng.random()} for _ in range(rng.randint(0, 60))]})
    return {"_initiator": {"type": "script"}, "_priority": "High", "_resourceType": "fetch", "cache": {},
            "connection": str(rng.randint(1000, 9999)), "pageref": "page_1", "request": request,
            "response": {"status": 200, "statusText": "", "httpVersion": request["httpVersion"],
                         "headers": [{"name": "content-type", "value": "application/json"},
                                     {"name": "content-length", "value": str(len(body))}],
                         "cookies": [], "content": {"size": len(body), "mimeType": "application/json", "text": body},
                         "redirectURL": "", "headersSize": -1, "bodySize": len(body), "_transferSize": len(body) + 120},
            "serverIPAddress": f"203.0.113.{rng.randint(1, 254)}",
            "startedDateTime": f"2026-12-06T09:{n // 60000 % 60:02d}:{n // 1000 % 60:02d}.{n % 1000:03d}Z",
            "time": rng.random() * 300, "timings": {"blocked": 1.2, "dns": -1, "ssl": -1, "connect": -1,
                                                   "send": 0.1, "wait": rng.random() * 200, "receive": 2.5}}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("-o", required=True)
    args = parser.parse_args()
    rng = random.Random(17)
    limit = args.mb << 20
    with open(args.o, "w") as out:
        head = '{"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}, ' \
               '"pages": [{"startedDateTime": "2026-12-06T09:00:00.000Z", "id": "page_1", "title": "bench", ' \
               '"pageTimings": {}}], "entries": [\n'
        out.write(head)
        written, n = len(head), 0
        while written < limit:
            text = ("" if n == 0 else ",\n") + json.dumps(entry(rng, n), indent=2)
            out.write(text)
            written += len(text)
            n += 1
        out.write("\n]}}\n")
    print(f"{args.o}: {n} entries")


if __name__ == "__main__":
    main()
