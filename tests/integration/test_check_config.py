"""`leakguard check-config` validates what `run` would load, detector options and files included,
and names the file, line and column of what is wrong."""

import subprocess

from conftest import BINARY, REPO


def check(path):
    return subprocess.run([str(BINARY), "check-config", str(path)], capture_output=True, text=True, timeout=30)


def test_the_shipped_examples_are_valid():
    got = check(REPO / "config" / "examples" / "hotspot.example.yaml")
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip().endswith(": ok")


def test_errors_name_file_line_and_column(tmp_path):
    cases = {
        "mode: sometimes\n": (1, 7, "mode"),
        "listen: [\"127.0.0.1:99999\"]\n": (1, 10, "port"),
        "detectors:\n  known_identifiers:\n    bogus: 1\n": (3, 5, "bogus"),
        "detectors:\n  nosuch: {}\n": (2, 11, "nosuch"),
        "geoip:\n  database: /nonexistent.mmdb\n": (None, None, "nonexistent.mmdb"),
    }
    for text, (line, column, fragment) in cases.items():
        path = tmp_path / "bad.yaml"
        path.write_text(text)
        got = check(path)
        assert got.returncode == 1, text
        assert fragment in got.stderr, (text, got.stderr)
        if line is not None:
            assert got.stderr.startswith(f"{path}:{line}:{column}: "), (text, got.stderr)


def test_a_bad_descriptor_set_names_the_file_and_the_problem(tmp_path):
    not_a_set = tmp_path / "checkin.proto"
    not_a_set.write_text('syntax = "proto3";\nmessage CheckinRequest { string imei = 1; }\n')
    for descriptor, problem in [(tmp_path / "missing.pb", "cannot be read"), (not_a_set, "not a FileDescriptorSet")]:
        path = tmp_path / "bad.yaml"
        path.write_text(f'protobuf:\n  descriptor_sets: ["{descriptor}"]\n')
        got = check(path)
        assert got.returncode == 1, got.stdout
        assert f"{descriptor}: {problem}" in got.stderr, got.stderr
