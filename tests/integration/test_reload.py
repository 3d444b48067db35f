"""SIGHUP reload as a supervisor uses it: a signal sent the moment `listening on` is printed is
handled (not the default action, which ends the process), and a reload under load lets every
request in flight and every new one complete."""

import json
import os
import signal
import subprocess
import threading
import time
import urllib.request

import yaml

from conftest import BINARY

PHONE = {"name": "lab-phone", "match": {"cidr": "127.0.0.0/8"}, "identifiers": {"imei": "353209091234567"}}


def spawn_reading_stderr(tmp_path, config):
    """Starts leakguard with stderr on a pipe, returns (process, port) as soon as the `listening
    on` line arrives: the polling of conftest's start_leakguard would give the process a few
    milliseconds of grace this test must not give."""
    path = tmp_path / "reload.yaml"
    path.write_text(yaml.safe_dump(config))
    process = subprocess.Popen([str(BINARY), "run", "-c", str(path)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    line = process.stderr.readline().decode()  # blocks until the line (or EOF if it died)
    assert line.startswith("listening on"), line
    return process, int(line.rsplit(":", 1)[1])


def reload_events(events_path):
    if not events_path.exists():
        return []
    return [e for e in map(json.loads, events_path.read_text().splitlines())
            if e.get("type") == "config" and e.get("event") == "reloaded"]


def test_sighup_right_after_listening_reloads_and_the_process_stays_up(tmp_path, origin):
    # Several starts: the window between the line and the handlers was a few hundred microseconds.
    for attempt in range(8):
        events_path = tmp_path / f"events-{attempt}.jsonl"
        config = {"listen": ["127.0.0.1:0"], "workers": 2, "events": {"path": str(events_path)},
                  "clients": {"allow": ["127.0.0.0/8"]}, "mode": "log", "devices": [PHONE]}
        process, port = spawn_reading_stderr(tmp_path, config)
        try:
            os.kill(process.pid, signal.SIGHUP)
            deadline = time.monotonic() + 10
            while not reload_events(events_path) and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            assert process.poll() is None, f"attempt {attempt}: SIGHUP ended the process ({process.returncode})"
            assert reload_events(events_path), f"attempt {attempt}: no `config reloaded` event"
            proxy = urllib.request.ProxyHandler({"http": f"http://127.0.0.1:{port}"})
            answer = urllib.request.build_opener(proxy).open(f"http://127.0.0.1:{origin.port}/after", timeout=10)
            assert answer.status == 200
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
            process.stderr.close()


def test_reload_under_load_drops_no_request(leakguard_factory, origin):
    """Clients keep requesting (keep-alive and new connections) while the configuration is
    reloaded ten times, flipping the profile's identifiers: every request gets its answer."""
    proxy = leakguard_factory({"mode": "log", "devices": [PHONE]})
    stop = threading.Event()
    failures, done = [], [0]

    def client(keep_alive):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy.proxy_url}))
        while not stop.is_set():
            try:
                if keep_alive:
                    urls = [arg for i in range(20) for arg in ("-o", "/dev/null", f"http://127.0.0.1:{origin.port}/k{i}")]
                    answer = subprocess.run(["curl", "-sS", "-x", proxy.proxy_url, "-w", "%{http_code} ", *urls],
                                            capture_output=True, text=True, timeout=30)
                    codes = answer.stdout.split()
                    if answer.returncode != 0 or codes != ["200"] * 20:
                        failures.append(("keep-alive", answer.returncode, answer.stdout, answer.stderr))
                    done[0] += len(codes)
                else:
                    status = opener.open(f"http://127.0.0.1:{origin.port}/n?imei=353209091234567", timeout=30).status
                    if status != 200:
                        failures.append(("new", status))
                    done[0] += 1
            except Exception as error:  # a refused or reset connection is the failure looked for
                failures.append(("new", repr(error)))

    threads = [threading.Thread(target=client, args=(k,)) for k in (True, False, False)]
    for thread in threads:
        thread.start()
    try:
        config = yaml.safe_load(proxy.config_path.read_text())
        for i in range(10):
            config["devices"][0]["identifiers"]["imsi"] = f"2420166012345{i:02d}"
            proxy.config_path.write_text(yaml.safe_dump(config))
            proxy.process.send_signal(signal.SIGHUP)
            assert proxy.events("config", wait_for=lambda e, n=i + 1: len(e) >= n, timeout=30)[i:], f"reload {i}"
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert proxy.process.poll() is None
    assert done[0] > 0
    assert failures == [], failures[:3]
    assert len(proxy.events("config")) == 10
