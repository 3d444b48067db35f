"""The arm64 build (scripts/build.sh arm64) against the amd64 one, both run here: the arm64 binary
under qemu-user through build-arm64/leakguard-qemu. `scan` over the public corpus and the project's
detector cases must give the same findings (every field but the timestamp, in order); `--version` names Vectorscan, which the
arm64 build links instead of Hyperscan. scripts/test.sh also runs a subset of the integration tests
(explicit proxy, a leak blocked) with LEAKGUARD_BIN set to the arm64 wrapper."""

import json
import os
import pathlib
import subprocess

import pytest

from conftest import REPO

ARM64 = pathlib.Path(os.environ.get("LEAKGUARD_ARM64_BIN", REPO / "build-arm64" / "leakguard-qemu"))
AMD64 = pathlib.Path(os.environ.get("LEAKGUARD_AMD64_BIN", REPO / "build" / "leakguard"))
CORPORA = [REPO.parent / "shared" / "corpus", REPO / "tests" / "data" / "detectors"]

pytestmark = pytest.mark.skipif(not (ARM64.exists() and AMD64.exists()),
                                reason=f"needs both builds: {ARM64} (scripts/build.sh arm64) and {AMD64}")


def findings(stdout):
    """The scan output without its timestamps, in order."""
    events = [json.loads(line) for line in stdout.decode().splitlines()]
    for event in events:
        event.pop("ts", None)
    return events


def run(binary, *args):
    return subprocess.run([str(binary), *map(str, args)], capture_output=True, timeout=600)


def test_arm64_binary_is_arm64_and_links_vectorscan():
    real = ARM64.with_name("leakguard")
    assert "ARM aarch64" in subprocess.run(["file", "-L", str(real)], capture_output=True, text=True).stdout
    got = run(ARM64, "--version")
    assert got.returncode == 0, got.stderr
    lines = got.stdout.decode().splitlines()
    assert lines[0] == run(AMD64, "--version").stdout.decode().splitlines()[0]  # the same version
    assert any(line.startswith("Vectorscan ") for line in lines), lines


@pytest.mark.parametrize("corpus", CORPORA, ids=lambda c: c.parent.name + "/" + c.name)
@pytest.mark.parametrize("with_profile", [True, False], ids=["profile", "heuristics"])
def test_scan_gives_the_same_findings_on_arm64(corpus, with_profile):
    files = sorted((corpus / "cases").glob("*"))
    assert files, corpus
    args = (["-c", corpus / "profile.yaml"] if with_profile else []) + files
    amd64 = run(AMD64, "scan", *args)
    arm64 = run(ARM64, "scan", *args)
    assert amd64.returncode in (0, 1), amd64.stderr
    assert arm64.returncode == amd64.returncode, arm64.stderr
    assert findings(amd64.stdout), "the corpus has findings: an empty comparison proves nothing"
    assert findings(arm64.stdout) == findings(amd64.stdout)
