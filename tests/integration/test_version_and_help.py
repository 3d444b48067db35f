"""`leakguard --version` (the version from CMake's project(VERSION), the libraries it was built
with), the per-command help that the man pages are made of, and `scripts/run.sh` keeping standard
output for the JSON Lines events only."""

import json
import os
import re
import signal
import subprocess
import time

import pytest
import yaml

from conftest import BINARY, REPO


def project_version():
    match = re.search(r"project\(leakguard VERSION (\d+\.\d+\.\d+)", (REPO / "CMakeLists.txt").read_text())
    assert match, "CMakeLists.txt has no project(leakguard VERSION x.y.z)"
    return match.group(1)


def run_binary(*args):
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=60)


def test_version_names_leakguard_and_every_library():
    got = run_binary("--version")
    assert got.returncode == 0, got.stderr
    lines = got.stdout.splitlines()
    assert lines[0] == f"leakguard {project_version()}"
    names = [line.split()[0] for line in lines[1:]]
    assert names[0] == "OpenSSL" and names[1] == "Boost" and names[3] == "llhttp"
    assert names[2] in ("Hyperscan", "Vectorscan")
    for line in lines[1:]:
        assert re.match(r"^\S+ \d+\.\d+\.\d+\b", line), line


def test_version_reports_the_openssl_that_is_loaded():
    # The binary links libcrypto dynamically: the "running" version is the one the openssl tool
    # on this machine uses too (a security update shows here without a rebuild).
    got = run_binary("--version")
    openssl_line = next(line for line in got.stdout.splitlines() if line.startswith("OpenSSL "))
    system = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.split()[1]
    assert f"(running {system})" in openssl_line


def test_debian_changelog_carries_the_cmake_version():
    changelog = REPO / "debian" / "changelog"
    if not changelog.exists():
        pytest.skip("no debian/changelog in this tree")
    first = changelog.read_text().splitlines()[0]
    match = re.match(r"^leakguard \(([^)]+)\)", first)
    assert match, first
    assert match.group(1).rsplit("-", 1)[0] == project_version(), "bump debian/changelog with project(VERSION)"


def test_every_command_has_help_on_stdout():
    got = run_binary("help", "--commands")
    assert got.returncode == 0, got.stderr
    commands = [line.split("\t")[0] for line in got.stdout.splitlines()]
    assert commands == ["run", "scan", "check-config", "ca", "firewall", "report"]
    for command in commands:
        for args in ((command, "--help"), ("help", command)):
            got = run_binary(*args)
            assert got.returncode == 0, (args, got.stderr)
            assert got.stdout.startswith(f"Usage: leakguard {command}"), (args, got.stdout[:80])
            assert "Exit status:" in got.stdout


def test_help_for_an_unknown_command_is_a_usage_error():
    got = run_binary("help", "frobnicate")
    assert got.returncode == 2
    assert "usage: leakguard" in got.stderr


@pytest.mark.skipif("LEAKGUARD_BIN" in os.environ, reason="tests scripts/run.sh, which builds and runs build/leakguard")
def test_run_script_writes_only_events_to_stdout(tmp_path, origin):
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({
        "listen": ["127.0.0.1:0"],
        "clients": {"allow": ["127.0.0.0/8"]},
        "events": {"path": "-"},
        "workers": 1,
    }))
    stderr_path = tmp_path / "stderr.log"
    with open(stderr_path, "w") as stderr_file:
        process = subprocess.Popen(["bash", str(REPO / "scripts" / "run.sh"), "-c", str(config)],
                                   stdout=subprocess.PIPE, stderr=stderr_file, text=True)
    try:
        # install-deps and the (up to date) build run first; wait for the proxy's own line.
        deadline = time.monotonic() + 600
        port = None
        while port is None:
            match = re.search(r"listening on 127\.0\.0\.1:(\d+)", stderr_path.read_text())
            if match:
                port = int(match.group(1))
            elif process.poll() is not None:
                pytest.fail(f"run.sh exited {process.returncode}: {stderr_path.read_text()[-2000:]}")
            elif time.monotonic() > deadline:
                pytest.fail("run.sh did not start leakguard within 600 s")
            else:
                time.sleep(0.05)
        got = subprocess.run(["curl", "-sS", "--noproxy", "", "-x", f"http://127.0.0.1:{port}",
                              f"http://127.0.0.1:{origin.port}/?imei=353209091234567"],
                             capture_output=True, timeout=60)
        assert got.returncode == 0, got.stderr
    finally:
        process.send_signal(signal.SIGTERM)  # run.sh exec'd leakguard: this is the proxy itself
        stdout, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    events = [json.loads(line) for line in stdout.splitlines()]  # every line is JSON, or this raises
    assert any(e["type"] == "finding" and e["identifier"] == "imei" for e in events)
    assert "install-deps:" in stderr_path.read_text()  # the script's own output went to stderr


@pytest.mark.skipif(not os.path.exists("/usr/share/bash-completion/bash_completion"), reason="bash-completion not installed")
def test_bash_completion_offers_the_binarys_commands(tmp_path):
    # The completion asks `leakguard help --commands`: put the binary under test first on PATH.
    (tmp_path / "leakguard").symlink_to(BINARY)
    script = (
        "source /usr/share/bash-completion/bash_completion\n"
        f"source {REPO / 'packaging' / 'leakguard.bash-completion'}\n"
        'COMP_WORDS=(leakguard ""); COMP_CWORD=1; COMP_LINE="leakguard "; COMP_POINT=10; _leakguard; echo "${COMPREPLY[*]}"\n'
        'COMP_WORDS=(leakguard firewall ""); COMP_CWORD=2; COMP_LINE="leakguard firewall "; COMP_POINT=19; _leakguard; '
        'echo "${COMPREPLY[*]}"\n'
    )
    got = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"})
    lines = got.stdout.splitlines()
    assert lines[0].split()[:6] == ["run", "scan", "check-config", "ca", "firewall", "report"]
    assert lines[1].split() == ["print", "apply", "remove"]
