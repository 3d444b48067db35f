"""`leakguard ca init` through the real binary: the files it writes, their modes, what openssl sees
in the certificate, and that an existing key survives a second run unless --force is given.

Run: /usr/bin/python3 -m pytest tests/integration/test_ca.py (binary: build/leakguard, or $LEAKGUARD_BIN).
"""

import os
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import BINARY, REPO


def leakguard(*args, cwd):
    return subprocess.run([str(BINARY), *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def openssl(*args):
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=60, check=True)
    return result.stdout


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def need_binary():
    if not BINARY.is_file():
        pytest.fail(f"no leakguard binary at {BINARY} (build it, or set LEAKGUARD_BIN)")


def test_init_writes_the_ca_files_with_safe_modes(tmp_path):
    result = leakguard("ca", "init", "--dir", "tmp", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    ca_dir = tmp_path / "tmp"
    for name in ("ca.pem", "ca.der", "ca.key"):
        assert (ca_dir / name).is_file(), name
    assert mode(ca_dir / "ca.key") == 0o600
    assert mode(ca_dir / "ca.pem") & 0o077 == 0o044  # the certificate is public

    android_name = openssl("x509", "-noout", "-subject_hash_old", "-in", str(ca_dir / "ca.pem")).strip() + ".0"
    assert (ca_dir / android_name).read_bytes() == (ca_dir / "ca.pem").read_bytes()
    assert sorted(p.name for p in ca_dir.iterdir()) == sorted(["ca.pem", "ca.der", "ca.key", android_name])

    # What the command printed is what it wrote.
    assert android_name in result.stdout
    fingerprint = openssl("x509", "-noout", "-fingerprint", "-sha256", "-in", str(ca_dir / "ca.pem"))
    assert fingerprint.strip().split("=", 1)[1] in result.stdout

    # The DER copy is the same certificate.
    der_as_pem = openssl("x509", "-inform", "DER", "-in", str(ca_dir / "ca.der"))
    assert der_as_pem == (ca_dir / "ca.pem").read_text()


def test_certificate_extensions_as_openssl_reads_them(tmp_path):
    assert leakguard("ca", "init", "--dir", "tmp", cwd=tmp_path).returncode == 0
    text = openssl("x509", "-noout", "-text", "-in", str(tmp_path / "tmp" / "ca.pem"))
    assert "X509v3 Basic Constraints: critical" in text
    assert "CA:TRUE" in text
    assert "X509v3 Key Usage: critical" in text
    assert "Certificate Sign, CRL Sign" in text
    assert "X509v3 Subject Key Identifier" in text
    assert "X509v3 Authority Key Identifier" in text
    assert "ASN1 OID: prime256v1" in text
    assert "O = leakguard" in text and "CN = leakguard lab CA " in text
    # The key is the certificate's key.
    key_pub = openssl("pkey", "-in", str(tmp_path / "tmp" / "ca.key"), "-pubout")
    cert_pub = openssl("x509", "-noout", "-pubkey", "-in", str(tmp_path / "tmp" / "ca.pem"))
    assert key_pub == cert_pub


def test_rsa_option(tmp_path):
    assert leakguard("ca", "init", "--dir", "tmp", "--rsa", cwd=tmp_path).returncode == 0
    text = openssl("x509", "-noout", "-text", "-in", str(tmp_path / "tmp" / "ca.pem"))
    assert "Public-Key: (2048 bit)" in text
    assert "rsaEncryption" in text


def test_second_run_refuses_and_force_replaces(tmp_path):
    assert leakguard("ca", "init", "--dir", "tmp", cwd=tmp_path).returncode == 0
    key = tmp_path / "tmp" / "ca.key"
    original_key = key.read_bytes()
    original_cert = (tmp_path / "tmp" / "ca.pem").read_bytes()

    again = leakguard("ca", "init", "--dir", "tmp", cwd=tmp_path)
    assert again.returncode == 1
    assert "already exists" in again.stderr and "--force" in again.stderr
    assert key.read_bytes() == original_key
    assert (tmp_path / "tmp" / "ca.pem").read_bytes() == original_cert

    forced = leakguard("ca", "init", "--dir", "tmp", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert key.read_bytes() != original_key
    assert mode(key) == 0o600
    # Only the new CA's files remain: the old Android file went with the old CA.
    assert len(list((tmp_path / "tmp").iterdir())) == 4


def test_default_directory_is_certs_in_the_working_directory(tmp_path):
    assert leakguard("ca", "init", cwd=tmp_path).returncode == 0
    assert mode(tmp_path / "certs" / "ca.key") == 0o600


@pytest.mark.parametrize("args", [["ca"], ["ca", "init", "--bogus"], ["ca", "init", "--dir"], ["ca", "frobnicate"]])
def test_usage_errors_exit_2(tmp_path, args):
    result = leakguard(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "usage: leakguard ca init" in result.stderr
    assert not (tmp_path / "certs").exists()
