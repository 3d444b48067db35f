"""`leakguard scan` through the real binary: the shared corpus and tests/data/detectors with and
without the device profile, exit codes 0/1/2, standard input, several devices, and no raw
identifier anywhere in the output.

Run: /usr/bin/python3 -m pytest tests/integration/test_scan.py (binary: build/leakguard, or $LEAKGUARD_BIN).
"""

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import BINARY, REPO
CORPORA = [REPO.parent / "shared" / "corpus", REPO / "tests" / "data" / "detectors"]


def scan(*args, stdin=None):
    result = subprocess.run([str(BINARY), "scan", *map(str, args)], input=stdin, capture_output=True, timeout=120)
    events = [json.loads(line) for line in result.stdout.decode().splitlines() if line.strip()]
    return result, events


def identifier_values(profile_path):
    """Every raw string identifier of the profile (what the output must never contain)."""
    profile = yaml.safe_load(Path(profile_path).read_text())
    values = []
    for device in profile["devices"]:
        for kind, value in device["identifiers"].items():
            if kind in ("location", "cell"):
                continue
            values.extend(value if isinstance(value, list) else [value])
    return values


def cases(corpus):
    return [(corpus, case) for case in json.loads((corpus / "cases.json").read_text())]


ALL_CASES = [pytest.param(corpus, case, id=f"{corpus.name}/{Path(case['file']).stem}") for corpus in CORPORA
             for corpus, case in cases(corpus)]


@pytest.fixture(autouse=True)
def need_binary():
    if not BINARY.is_file():
        pytest.fail(f"no leakguard binary at {BINARY} (build it, or set LEAKGUARD_BIN)")


@pytest.mark.parametrize("corpus,case", ALL_CASES)
def test_case_with_profile_reports_exactly_the_expected_kinds(corpus, case):
    result, events = scan("-c", corpus / "profile.yaml", corpus / case["file"])
    kinds = sorted({e["identifier"] for e in events if e["type"] == "finding"})
    assert kinds == case["expect_known"], result.stderr.decode()
    anomaly = any(e["type"] == "anomaly" for e in events)
    assert anomaly == case.get("expect_anomaly", False)
    assert result.returncode == (1 if kinds or anomaly else 0)
    for event in events:
        assert event["source"] == str(corpus / case["file"])
        if event["type"] == "finding":
            assert event["device"] == yaml.safe_load((corpus / "profile.yaml").read_text())["devices"][0]["name"]
            assert event["method_of_detection"] in ("known", "heuristic")
            assert {"ts", "transport", "identifier", "detector", "encoding", "where", "value"} <= event.keys()


@pytest.mark.parametrize("corpus", CORPORA, ids=[c.name for c in CORPORA])
def test_without_profile_heuristics_find_the_expected_kinds(corpus):
    extra = 0
    for _, case in cases(corpus):
        result, events = scan(corpus / case["file"])
        assert result.returncode in (0, 1), result.stderr.decode()
        kinds = {e["identifier"] for e in events if e["type"] == "finding"}
        assert set(case["expect_heuristic"]) <= kinds, case["file"]
        assert all(e["method_of_detection"] == "heuristic" for e in events if e["type"] == "finding")
        extra += sum(1 for e in events if e["type"] == "finding" and e["identifier"] not in case["expect_heuristic"])
    assert extra <= 1


@pytest.mark.parametrize("corpus", CORPORA, ids=[c.name for c in CORPORA])
def test_no_raw_identifier_in_the_output(corpus):
    files = [corpus / case["file"] for _, case in cases(corpus)]
    result, _ = scan("-c", corpus / "profile.yaml", *files)
    assert result.returncode == 1
    output = result.stdout.decode().lower()
    for value in identifier_values(corpus / "profile.yaml"):
        assert value.lower() not in output
        assert value.lower().replace(":", "") not in output


def test_exit_codes_and_standard_input(tmp_path):
    shared = CORPORA[0]
    clean = (shared / "cases" / "013-neg-clean.bin").read_bytes()
    leak = (shared / "cases" / "000-query-imei.bin").read_bytes()
    result, events = scan("-", stdin=clean)
    assert (result.returncode, events) == (0, [])
    result, events = scan("-c", shared / "profile.yaml", "-", stdin=leak)
    assert result.returncode == 1
    assert events[0]["source"] == "-" and events[0]["identifier"] == "imei"
    assert events[0]["url"].startswith("http://stats.example.com/api/v1/ping?imei=")
    assert "353209091234567" not in events[0]["url"]

    result, _ = scan(tmp_path / "missing.bin")
    assert result.returncode == 2 and b"missing.bin" in result.stderr
    result, _ = scan()
    assert result.returncode == 2
    result, _ = scan("--bogus", shared / "cases" / "000-query-imei.bin")
    assert result.returncode == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("detectors:\n  no_such_detector: {}\n")
    result, _ = scan("-c", bad, shared / "cases" / "000-query-imei.bin")
    assert result.returncode == 2 and b"bad.yaml:2" in result.stderr


def test_several_devices_need_device(tmp_path):
    shared = CORPORA[0]
    profile = yaml.safe_load((shared / "profile.yaml").read_text())
    other = {"name": "other", "match": {"ip": "10.42.0.12"}, "identifiers": {"serial": "QQ11WW22EE33"}}
    config = tmp_path / "two.yaml"
    config.write_text(yaml.safe_dump({"devices": profile["devices"] + [other]}))
    case = shared / "cases" / "017-serial-header.bin"
    result, _ = scan("-c", config, case)
    assert result.returncode == 2 and b"--device" in result.stderr
    result, events = scan("-c", config, "--device", "lab-phone-01", case)
    assert result.returncode == 1 and events[0]["identifier"] == "serial"
    result, events = scan("-c", config, "--device", "other", case)
    assert (result.returncode, events) == (0, [])
    result, _ = scan("-c", config, "--device", "nobody", case)
    assert result.returncode == 2


def test_learning_across_files_of_one_run(tmp_path):
    """A value a heuristic finds in one file is known, hashed, in the next (same device, same run)."""
    config = tmp_path / "unprofiled.yaml"
    config.write_text("devices:\n  - name: new-phone\n    match: {ip: 10.42.0.50}\n")
    plain = tmp_path / "a.bin"
    plain.write_bytes(b"GET /?imei=353209091234567 HTTP/1.1\r\nHost: a\r\n\r\n")
    hashed = (CORPORA[0] / "cases" / "004-md5-imei.bin")
    result, events = scan("-c", config, plain, hashed)
    assert result.returncode == 1
    learned = [e for e in events if e["source"] == str(hashed)]
    assert len(learned) == 1 and learned[0]["encoding"] == "md5" and learned[0]["learned"] is True


def test_a_cut_or_malformed_http_capture_says_where_and_exits_2(tmp_path):
    """The requests before the problem are reported; the message names the byte where parsing stopped."""
    cut = tmp_path / "cut.http"
    cut.write_bytes(b"GET /?imei=353209091234567 HTTP/1.1\r\nHost: a\r\n\r\n"
                    b"POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nimsi=242016601234567")
    result, events = scan("-c", CORPORA[0] / "profile.yaml", cut)
    assert result.returncode == 2
    assert f"capture ends in the middle of a request at byte {len(cut.read_bytes())}".encode() in result.stderr
    assert sorted(e["identifier"] for e in events) == ["imei", "imsi"]  # the cut body is inspected as far as it goes

    bad = tmp_path / "bad.http"
    first = b"GET /?imei=353209091234567 HTTP/1.1\r\nHost: a\r\n\r\n"
    bad.write_bytes(first + b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\nserial=B2NGAA8831702345")
    result, events = scan("-c", CORPORA[0] / "profile.yaml", bad)
    assert result.returncode == 2
    message = result.stderr.decode()
    assert "Content-Length" in message and "scanned as raw bytes" in message, message
    assert [e["identifier"] for e in events if e["transport"] == "http"] == ["imei"]
