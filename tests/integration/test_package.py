"""The Debian package installed into a temporary root: an overlay of this machine's / (read-only
below, a temporary directory above), entered with chroot in its own mount and network namespaces.
Everything dpkg and the maintainer scripts write lands in the upper directory, which is what
`remove` and `purge` are checked against; the machine itself is never touched. The package's
dependencies are the machine's installed packages, as on any Debian box that has them; that the
Depends line covers every library the binary needs is checked separately.

Needs root, unshare, overlayfs and the package: LEAKGUARD_DEB=path/to/leakguard_*.deb (scripts/test.sh
makes it with scripts/package.sh --prebuilt build from the tested release tree and sets it). A
chroot made with mmdebstrap was measured instead (a minbase bookworm: 4 min 57 s here, before
installing any dependency) and is too slow for CI."""

import os
import pathlib
import re
import shutil
import subprocess

import pytest

from conftest import REPO

DEB = os.environ.get("LEAKGUARD_DEB")

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="installing a package into a temporary root needs root"),
    pytest.mark.skipif(shutil.which("dpkg-deb") is None or shutil.which("unshare") is None,
                       reason="dpkg-deb and unshare are needed"),
    pytest.mark.skipif(not DEB, reason="no package to test: set LEAKGUARD_DEB (scripts/package.sh builds one)"),
]

# What may differ from the machine after a purge: dpkg's and deb-systemd-helper's bookkeeping, and
# the system user, which Debian keeps on purge (files it owned elsewhere keep a known owner).
BOOKKEEPING = re.compile(r"^(var/lib/dpkg/.*|var/log/dpkg\.log|var/lib/systemd/deb-systemd-helper-.*"
                         r"|etc/(passwd|group|shadow|gshadow|subuid|subgid|\.pwd\.lock)-?|var/cache/.*|var/log/.*\.log)$")


class Root:
    """A temporary root over this machine's /. `run` executes a command inside it."""

    def __init__(self, base):
        self.upper = base / "upper"
        self.work = base / "work"
        self.mountpoint = base / "root"
        for d in (self.upper, self.work, self.mountpoint):
            d.mkdir()
        self.inbox = base / "inbox"  # shown as /tmp/inbox inside
        self.inbox.mkdir()

    def run(self, *command, check=True):
        script = (
            'set -e; R="$1"; shift\n'
            f'mount -t overlay overlay -o lowerdir=/,upperdir={self.upper},workdir={self.work} "$R"\n'
            # No systemd in there (postinst must not start the service), a private /tmp with the package.
            'mount -t tmpfs tmpfs "$R/run"; mount -t tmpfs tmpfs "$R/tmp"\n'
            f'mkdir "$R/tmp/inbox"; mount --bind {self.inbox} "$R/tmp/inbox"\n'
            'mount -t proc proc "$R/proc"; mount --bind /dev "$R/dev"; mount -o bind,ro /sys "$R/sys"\n'
            'exec chroot "$R" "$@"\n'
        )
        got = subprocess.run(["unshare", "--mount", "--net", "--propagation", "private", "sh", "-c", script, "sh",
                              str(self.mountpoint), *command], capture_output=True, text=True, timeout=300)
        if check:
            assert got.returncode == 0, f"{command}: {got.returncode}\n{got.stdout}\n{got.stderr}"
        return got

    def changed(self):
        """Paths (relative) that the root has added or changed, files and symlinks only."""
        return sorted(str(p.relative_to(self.upper)) for p in self.upper.rglob("*")
                      if p.is_file() or p.is_symlink() or (p.is_char_device()))

    def exists(self, path):
        return self.run("test", "-e", path, check=False).returncode == 0


def package_paths(deb):
    listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True).stdout
    return [line.split()[5][2:] for line in listing.splitlines() if not line.split()[5].endswith("/")]


def cmake_version():
    return re.search(r"project\(leakguard VERSION ([0-9.]+)", (REPO / "CMakeLists.txt").read_text()).group(1)


@pytest.fixture
def root(tmp_path):
    root = Root(tmp_path)
    shutil.copy(DEB, root.inbox / "leakguard.deb")
    return root


def test_package_version_is_the_cmake_version():
    version = subprocess.run(["dpkg-deb", "-f", DEB, "Version"], capture_output=True, text=True).stdout.strip()
    assert version == cmake_version()


def test_depends_covers_every_library_the_binary_needs(tmp_path):
    subprocess.run(["dpkg-deb", "-x", DEB, str(tmp_path)], check=True)
    needed = re.findall(r"NEEDED\s+(\S+)", subprocess.run(["objdump", "-p", str(tmp_path / "usr/bin/leakguard")],
                                                            capture_output=True, text=True).stdout)
    depends = subprocess.run(["dpkg-deb", "-f", DEB, "Depends"], capture_output=True, text=True).stdout
    declared = {re.split(r"[ (:]", alternative.strip())[0] for alternative in re.split(r"[,|]", depends)}
    for soname in needed:
        owners = subprocess.run(["dpkg", "-S", f"*/{soname}"], capture_output=True, text=True).stdout
        packages = {line.split(":")[0] for line in owners.splitlines()}
        assert packages & declared, f"{soname} (from {packages}) is not in Depends: {depends}"


def test_install_check_remove_purge(root):
    paths = package_paths(DEB)
    for expected in ("usr/bin/leakguard", "etc/leakguard/leakguard.yaml", "lib/systemd/system/leakguard.service",
                     "etc/logrotate.d/leakguard", "usr/share/bash-completion/completions/leakguard",
                     "usr/share/man/man1/leakguard.1.gz", "usr/share/man/man1/leakguard-run.1.gz"):
        assert expected in paths, expected

    root.run("dpkg", "-i", "/tmp/inbox/leakguard.deb")
    assert root.run("leakguard", "--version").stdout.splitlines()[0] == f"leakguard {cmake_version()}"
    got = root.run("leakguard", "check-config", "/etc/leakguard/leakguard.yaml")
    assert got.stdout.strip() == "/etc/leakguard/leakguard.yaml: ok"
    # One man page per command, as the binary lists them.
    for line in root.run("leakguard", "help", "--commands").stdout.splitlines():
        assert root.exists(f"/usr/share/man/man1/leakguard-{line.split()[0]}.1.gz"), line
    conffiles = sorted(line.split()[0][1:] for line in
                       root.run("dpkg-query", "-W", "-f", "${Conffiles}", "leakguard").stdout.splitlines() if line.strip())
    assert conffiles == ["etc/leakguard/leakguard.yaml", "etc/logrotate.d/leakguard"]

    verify = root.run("systemd-analyze", "verify", "/lib/systemd/system/leakguard.service", check=False)
    assert verify.returncode == 0, verify.stderr
    assert "leakguard.service" not in verify.stderr, verify.stderr

    # The service's user and directories exist; no CA was made, and run refuses to intercept
    # without one, naming the command that creates it.
    assert root.run("id", "-u", "_leakguard").stdout.strip().isdigit()
    owner = root.run("stat", "-c", "%U %a", "/var/lib/leakguard", "/var/log/leakguard").stdout.split("\n")
    assert owner[:2] == ["_leakguard 750", "_leakguard 750"]
    assert not root.exists("/var/lib/leakguard/certs")
    refused = root.run("runuser", "-u", "_leakguard", "--", "leakguard", "run", "-c", "/etc/leakguard/leakguard.yaml",
                       check=False)
    assert refused.returncode == 1
    assert "leakguard ca init --dir /var/lib/leakguard/certs" in refused.stderr
    # The CA made as the service's user is what the service then loads.
    root.run("runuser", "-u", "_leakguard", "--", "leakguard", "ca", "init", "--dir", "/var/lib/leakguard/certs")

    root.run("dpkg", "-r", "leakguard")
    assert "deinstall ok config-files" in root.run("dpkg-query", "-W", "-f", "${Status}", "leakguard").stdout
    left = sorted(p for p in paths if root.exists("/" + p))
    assert left == conffiles  # remove keeps the configuration, and only it

    root.run("dpkg", "-P", "leakguard")
    assert root.run("dpkg-query", "-W", "leakguard", check=False).returncode != 0
    for path in ("/etc/leakguard", "/var/lib/leakguard", "/var/log/leakguard", "/usr/bin/leakguard"):
        assert not root.exists(path), path
    leftovers = [p for p in root.changed() if not BOOKKEEPING.match(p)]
    assert leftovers == []
