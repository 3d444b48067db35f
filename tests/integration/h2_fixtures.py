"""Fixtures shared by the HTTP/2 test modules (imported by name into each): the tests' own PKI,
leakguard's CA, real h2 origins, leakguard with interception on, and the probe that skips the h2
modules while the binary under test does not speak h2 (issue 14).

The probe: a client offering ALPN `h2` alone, through CONNECT, to an h2-only origin, trusting only
leakguard's CA. A binary without the h2 path passes such a client through (`passthrough: alpn`), so
the client meets the origin's own certificate and the handshake fails verification; a binary with
it completes the handshake with a forged leaf and ALPN h2. LEAKGUARD_REQUIRE_H2=1 turns the skip
into a failure, so a CI that expects the h2 path cannot go green by skipping."""

import os
import ssl
import subprocess
import time

import pytest

from conftest import BINARY, Started, start_leakguard
from h2_client import tls_through
from h2_servers import GrpcOrigin, H2Origin, NginxH2Origin
from pki import make_ca, make_server_cert

IMEI = "353209091234567"
IMSI = "242016601234567"
PHONE = {"name": "lab-phone", "match": {"cidr": "127.0.0.0/8"}, "identifiers": {"imei": IMEI, "imsi": IMSI}}
# The namespace lab's origin address (netns.Lab.ORIGIN_V4) is in the certificate too, for the
# transparent tests.
SUBJECT_ALT_NAMES = "DNS:localhost,IP:127.0.0.1,IP:10.200.2.2"


@pytest.fixture(scope="session")
def h2_pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("h2-pki")
    make_ca(directory, "origin-ca")
    make_server_cert(directory, "localhost", "origin-ca", SUBJECT_ALT_NAMES)
    return directory


@pytest.fixture(scope="session")
def h2_ca_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("h2-leakguard-ca") / "ca"
    result = subprocess.run([str(BINARY), "ca", "init", "--dir", str(directory)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return directory


def wait_until(predicate, timeout=10.0):
    """Polls `predicate` until it holds or `timeout` passes (for state of another thread or
    process, as conftest's `events(wait_for=...)` does for the event log); returns its last value."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return value


def tls_settings(h2_pki, h2_ca_dir, **extra):
    return {"intercept": "all", "ca_dir": str(h2_ca_dir), "upstream_ca": str(h2_pki / "origin-ca.pem"), **extra}


def why_no_h2(tmp_path, h2_pki, h2_ca_dir):
    """None when leakguard intercepts an h2-only client; else what happened instead."""
    origin = H2Origin(str(h2_pki / "localhost.pem"), str(h2_pki / "localhost.key"))
    proxy = start_leakguard(tmp_path, {"tls": tls_settings(h2_pki, h2_ca_dir)}, name="h2-probe")
    try:
        try:
            sock = tls_through(proxy, "localhost", origin.port, h2_ca_dir / "ca.pem")
        except ssl.SSLCertVerificationError:
            events = [e.get("passthrough") or e.get("event") for e in proxy.events("tls", wait_for=lambda e: e)]
            return f"a client offering ALPN h2 alone met the origin's own certificate (tls events: {events})"
        except (ssl.SSLError, OSError) as error:
            return f"the h2 client's handshake through leakguard failed: {error}"
        with sock:
            chosen = sock.selected_alpn_protocol()
        return None if chosen == "h2" else f"the intercepted connection negotiated ALPN {chosen!r}, not h2"
    finally:
        proxy.stop()
        origin.close()


@pytest.fixture(scope="session")
def leakguard_speaks_h2(tmp_path_factory, h2_pki, h2_ca_dir):
    reason = why_no_h2(tmp_path_factory.mktemp("h2-probe"), h2_pki, h2_ca_dir)
    if reason is not None:
        message = f"{BINARY} does not intercept HTTP/2 yet (issue 14): {reason}"
        if os.environ.get("LEAKGUARD_REQUIRE_H2") == "1":
            pytest.fail(message + " [LEAKGUARD_REQUIRE_H2=1]")
        pytest.skip(message)


@pytest.fixture
def h2_origin(h2_pki):
    started = Started(lambda **kwargs: H2Origin(str(h2_pki / "localhost.pem"), str(h2_pki / "localhost.key"), **kwargs),
                      H2Origin.close)
    yield started
    started.stop_all()


@pytest.fixture
def nginx_h2(tmp_path, h2_pki):
    origin = NginxH2Origin(tmp_path / "nginx", h2_pki / "localhost.pem", h2_pki / "localhost.key")
    yield origin
    origin.close()


@pytest.fixture
def grpc_origin(h2_pki):
    origin = GrpcOrigin(h2_pki / "localhost.pem", h2_pki / "localhost.key")
    yield origin
    origin.close()


@pytest.fixture
def intercepting(tmp_path, h2_pki, h2_ca_dir):
    """leakguard intercepting everything, with the lab phone's profile; `config` is merged over."""
    def start(tls=None, **config):
        settings = {"tls": tls_settings(h2_pki, h2_ca_dir, **(tls or {})), "devices": [PHONE], **config}
        return start_leakguard(tmp_path, settings, name=f"leakguard{len(started)}")

    started = Started(start, lambda proxy: proxy.stop())
    yield started
    started.stop_all()
