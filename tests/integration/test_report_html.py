"""The HTML report in a real browser: headless Chromium (Debian's `chromium`) loads the file with
background networking off, the page's own script builds the tables and the SVG chart from the JSON
it embeds, and the dumped DOM must hold them. A hostile host name must render as text. A screenshot
is kept as an artifact ($LEAKGUARD_ARTIFACTS, else the test's temporary directory). Skips, saying
why, where Chromium is not installed (scripts/install-deps.sh installs it, so CI runs it)."""

import html.parser
import json
import os
import pathlib
import subprocess
import tempfile

import pytest

from conftest import BINARY
from test_report import conn_close, finding, write_log

CHROMIUM = pathlib.Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="/usr/bin/chromium is absent: install Debian's chromium (scripts/install-deps.sh)")

HOSTILE = "<img src=x onerror=alert(1)>.example"


def chromium(*args, timeout=120):
    with tempfile.TemporaryDirectory() as profile:
        command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                   "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                   f"--user-data-dir={profile}", *args]
        return subprocess.run(command, capture_output=True, timeout=timeout)


class DomCounter(html.parser.HTMLParser):
    """Counts what the page's script built: rows per table id, chart bars, images."""

    def __init__(self):
        super().__init__()
        self.table = None
        self.cells = 0
        self.rows = {}
        self.bars = []
        self.tags = {}
        self.attributes = {}
        self.text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "table":
            self.table = attrs.get("id")
            self.rows[self.table] = 0
        elif tag == "td" and self.table:
            self.cells += 1
        elif tag == "tr" and self.table:
            self.cells = 0
        elif tag == "g" and attrs.get("class") == "bar":
            self.bars.append(attrs)
        if "id" in attrs:
            self.attributes[attrs["id"]] = attrs

    def handle_endtag(self, tag):
        if tag == "table":
            self.table = None
        elif tag == "tr" and self.table and self.cells:  # a body row (the heading row has th cells)
            self.rows[self.table] += 1

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture
def html_report(tmp_path):
    events = [finding(), finding(identifier="iccid"),
              finding(host="ads.example.no", ip="198.51.100.4", country="NO", transport="https", identifier="gaid"),
              finding(device="lab-phone-02", client="10.42.0.12:1", host=HOSTILE, country="US", identifier="serial"),
              finding(device=None, client="10.42.0.13:1", host="", ip="192.0.2.9", country="", transport="tcp",
                      identifier="imsi"),
              conn_close("lab-phone-01", "https"), conn_close("lab-phone-01", "http")]
    new = write_log(tmp_path / "new.jsonl", events, extra_lines=["not json"])
    old = write_log(tmp_path / "old.jsonl", [finding()])
    out = tmp_path / "report.html"
    got = subprocess.run([str(BINARY), "report", "--home-country", "NO", "-o", str(out), "--baseline", str(old), "--",
                          str(new)], capture_output=True, text=True, timeout=60)
    assert got.returncode == 1, got.stderr  # the new batch leaks more than the old one
    data = json.loads(subprocess.run([str(BINARY), "report", "--home-country", "NO", "--format", "json", str(new)],
                                     capture_output=True, text=True, timeout=60).stdout)
    return out, data


def test_page_builds_tables_and_chart_in_chromium(html_report):
    path, data = html_report
    got = chromium("--dump-dom", path.as_uri())
    assert got.returncode == 0, got.stderr.decode(errors="replace")[-2000:]
    dom = DomCounter()
    dom.feed(got.stdout.decode())
    assert dom.attributes.get("report-data") is not None
    text = "".join(dom.text)
    # The script ran to its end and built every table from the embedded JSON.
    assert 'data-rendered="yes"' in got.stdout.decode()
    assert dom.rows["leaks-table"] == len(data["leaks"]) == 5
    assert dom.rows["diff-new"] == 4
    assert dom.rows["scale-table"] == len(data["severity_scale"]) == 12
    assert dom.rows["devices-table"] == len(data["devices"]) == 3
    assert "Regression: the new batch leaks what the baseline did not" in text
    # The chart: one bar per device and destination, all identifier kinds together.
    pairs = {(r["device"], r["host"] or r["ip"]) for r in data["leaks"]}
    assert {(b["data-device"], b["data-destination"]) for b in dom.bars} == pairs
    assert dom.attributes["chart-svg"]["role"] == "img"
    # The hostile host name is text, never an element.
    assert dom.tags.get("img", 0) == 0
    assert HOSTILE in text


def test_page_screenshot_is_kept_as_an_artifact(html_report, tmp_path):
    path, _ = html_report
    artifacts = pathlib.Path(os.environ.get("LEAKGUARD_ARTIFACTS", tmp_path))
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / "report_html.png"
    got = chromium(f"--screenshot={shot}", "--window-size=1280,900", path.as_uri())
    assert got.returncode == 0, got.stderr.decode(errors="replace")[-2000:]
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert shot.stat().st_size > 10_000  # a blank page is a few hundred bytes
    print(f"report screenshot: {shot}")
