"""Fixtures that start the real `leakguard` binary on port 0 with a configuration written for the
test, and read back what it wrote: the `listening on` line and the JSON Lines event log."""

import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import pytest
import yaml

sys.path.insert(0, str(pathlib.Path(__file__).parent))

REPO = pathlib.Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
# Absolute, so tests that run the binary from another working directory find it too.
BINARY = pathlib.Path(os.environ.get("LEAKGUARD_BIN", REPO / "build" / "leakguard")).resolve()


class Leakguard:
    """A running `leakguard run`. `port` is the first listening port; `events()` parses the log."""

    def __init__(self, config_path, events_path, process, listening, stderr_path=None):
        self.stderr_path = stderr_path
        self.config_path = config_path
        self.events_path = events_path
        self.process = process
        self.listening = listening
        self.host, self.port = listening[0]

    @property
    def proxy_url(self):
        return f"http://{self.host}:{self.port}"

    def events(self, type=None, wait_for=None, timeout=5.0):
        """All events so far (optionally of one type). With `wait_for` (a predicate over the list),
        re-reads until it holds or `timeout` passes: the log is written by a background thread."""
        deadline = time.monotonic() + timeout
        while True:
            events = []
            if self.events_path.exists():
                for line in self.events_path.read_text().splitlines():
                    if line.strip():
                        events.append(json.loads(line))
            if type is not None:
                events = [e for e in events if e.get("type") == type]
            if wait_for is None or wait_for(events) or time.monotonic() > deadline:
                return events
            time.sleep(0.02)

    def rss_kib(self, peak=True):
        field = "VmHWM" if peak else "VmRSS"
        for line in pathlib.Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise AssertionError("no " + field)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_leakguard(tmp_path, config=None, extra_args=(), netns=None, name="leakguard", wrapper=()):
    """Writes `config` (a dict merged over a loopback default) and starts the binary. Waits for
    every `listening on` line on stderr — no sleeping for readiness. `wrapper` is a command that
    execs its arguments (so the pid stays leakguard's), e.g. one that mounts a file system first."""
    assert BINARY.exists(), f"{BINARY} is missing: build first (scripts/test.sh does)"
    events_path = tmp_path / f"{name}-events.jsonl"
    merged = {
        "listen": ["127.0.0.1:0"],
        "clients": {"allow": ["127.0.0.0/8", "::1/128"]},
        "events": {"path": str(events_path)},
        "workers": 2,
    }
    merged.update(config or {})
    config_path = tmp_path / f"{name}.yaml"
    config_path.write_text(yaml.safe_dump(merged, sort_keys=False))
    command = [str(BINARY), "run", "-c", str(config_path), *extra_args]
    if netns:
        command = ["ip", "netns", "exec", netns, *command]
    command = [*wrapper, *command]
    # stderr goes to a file, not a pipe nobody drains: a chatty proxy must never block on it.
    stderr_path = tmp_path / f"{name}-stderr.log"
    with open(stderr_path, "w") as stderr_file:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr_file)
    expected = len(merged["listen"])
    deadline = time.monotonic() + 30
    listening = []
    while len(listening) < expected:
        lines = stderr_path.read_text().splitlines()
        listening = []
        for line in lines:
            match = re.match(r"listening on \[?([^\]]+?)\]?:(\d+)$", line.strip())
            if match:
                listening.append((match.group(1), int(match.group(2))))
        if len(listening) >= expected:
            break
        if process.poll() is not None:
            raise AssertionError(f"leakguard exited ({process.returncode}) before listening: {stderr_path.read_text()}")
        if time.monotonic() > deadline:
            raise AssertionError("leakguard did not report its listening sockets within 30 s")
        time.sleep(0.01)
    return Leakguard(config_path, events_path, process, listening, stderr_path)


class Started:
    """A factory fixture's factory: calls `make` and remembers what it made, so the fixture can
    stop it all when the test ends (`stop_all`). len() says how many were made so far."""

    def __init__(self, make, stop):
        self._make, self._stop, self._items = make, stop, []

    def __call__(self, *args, **kwargs):
        item = self._make(*args, **kwargs)
        self._items.append(item)
        return item

    def __len__(self):
        return len(self._items)

    def stop_all(self):
        for item in self._items:
            self._stop(item)


@pytest.fixture
def leakguard_factory(tmp_path):
    started = Started(lambda config=None, **kwargs: start_leakguard(tmp_path, config, **kwargs), lambda p: p.stop())
    yield started
    started.stop_all()


@pytest.fixture
def origin():
    from servers import RecordingOrigin
    server = RecordingOrigin()
    yield server
    server.close()
