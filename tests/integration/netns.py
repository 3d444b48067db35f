"""A three-host lab in network namespaces: a phone, a router that runs leakguard behind real
nftables rules, and an origin on the "internet" side. Every address belongs to namespaces this
module creates (10.200.1.0/24, 10.200.2.0/24, fd00:200:1::/64, fd00:200:2::/64), and everything is
removed again on exit."""

import os
import shutil
import subprocess
import uuid


def lab_unavailable_reason():
    """Why the namespace lab cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces (CI runs as root)"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"'{tool}' is not installed (scripts/install-deps.sh installs iproute2 and nftables)"
    probe = f"lgprobe{uuid.uuid4().hex[:6]}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return "cannot create a network namespace: " + made.stderr.strip()
    try:
        nft = subprocess.run(["ip", "netns", "exec", probe, "nft", "list", "ruleset"], capture_output=True, text=True)
        if nft.returncode != 0:
            return "nftables is not usable in a namespace: " + nft.stderr.strip()
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def sh(*args, check=True, netns=None, input=None):
    command = list(args)
    if netns:
        command = ["ip", "netns", "exec", netns, *command]
    result = subprocess.run(command, capture_output=True, text=True, input=input)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return result


class Lab:
    PHONE_V4, ROUTER_PHONE_V4 = "10.200.1.2", "10.200.1.1"
    ROUTER_WAN_V4, ORIGIN_V4 = "10.200.2.1", "10.200.2.2"
    PHONE_V6, ROUTER_PHONE_V6 = "fd00:200:1::2", "fd00:200:1::1"
    ROUTER_WAN_V6, ORIGIN_V6 = "fd00:200:2::1", "fd00:200:2::2"
    PHONE_MAC = "a4:50:46:12:34:56"

    def __init__(self):
        tag = uuid.uuid4().hex[:6]
        self.phone, self.router, self.origin = f"lgphone{tag}", f"lgrouter{tag}", f"lgorigin{tag}"
        self.phone_if = "veth-phone"        # in the phone namespace
        self.router_lan_if = "veth-lan"     # router side facing the phone
        self.router_wan_if = "veth-wan"     # router side facing the origin
        self.origin_if = "veth-origin"

    def __enter__(self):
        for ns in (self.phone, self.router, self.origin):
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "set", "lo", "up", netns=ns)
        tag = self.phone[-6:]
        a, b = f"lgp{tag}", f"lgl{tag}"
        sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        sh("ip", "link", "set", a, "netns", self.phone)
        sh("ip", "link", "set", b, "netns", self.router)
        sh("ip", "link", "set", a, "name", self.phone_if, netns=self.phone)
        sh("ip", "link", "set", b, "name", self.router_lan_if, netns=self.router)
        c, d = f"lgw{tag}", f"lgo{tag}"
        sh("ip", "link", "add", c, "type", "veth", "peer", "name", d)
        sh("ip", "link", "set", c, "netns", self.router)
        sh("ip", "link", "set", d, "netns", self.origin)
        sh("ip", "link", "set", c, "name", self.router_wan_if, netns=self.router)
        sh("ip", "link", "set", d, "name", self.origin_if, netns=self.origin)
        sh("ip", "link", "set", self.phone_if, "address", self.PHONE_MAC, netns=self.phone)

        for ns, ifname, v4, v6 in (
                (self.phone, self.phone_if, self.PHONE_V4, self.PHONE_V6),
                (self.router, self.router_lan_if, self.ROUTER_PHONE_V4, self.ROUTER_PHONE_V6),
                (self.router, self.router_wan_if, self.ROUTER_WAN_V4, self.ROUTER_WAN_V6),
                (self.origin, self.origin_if, self.ORIGIN_V4, self.ORIGIN_V6)):
            sh("ip", "addr", "add", f"{v4}/24", "dev", ifname, netns=ns)
            sh("ip", "-6", "addr", "add", f"{v6}/64", "dev", ifname, "nodad", netns=ns)
            sh("ip", "link", "set", ifname, "up", netns=ns)
        sh("ip", "route", "add", "default", "via", self.ROUTER_PHONE_V4, netns=self.phone)
        sh("ip", "-6", "route", "add", "default", "via", self.ROUTER_PHONE_V6, netns=self.phone)
        sh("ip", "route", "add", "default", "via", self.ROUTER_WAN_V4, netns=self.origin)
        sh("ip", "-6", "route", "add", "default", "via", self.ROUTER_WAN_V6, netns=self.origin)
        sh("sysctl", "-qw", "net.ipv4.ip_forward=1", netns=self.router)
        sh("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1", netns=self.router)
        return self

    def __exit__(self, *exc):
        for ns in (self.phone, self.router, self.origin):
            sh("ip", "netns", "pids", ns, check=False)
            for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
                sh("kill", "-9", pid, check=False)
            sh("ip", "netns", "del", ns, check=False)

    def redirect_tcp_to(self, port, extra_rules=""):
        """The rule a hotspot uses: every TCP connection from the phone side goes to leakguard."""
        ruleset = f"""
table inet leakguard_test {{
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
    iifname "{self.router_lan_if}" meta l4proto tcp redirect to :{port}
  }}
  {extra_rules}
}}
"""
        sh("nft", "-f", "-", netns=self.router, input=ruleset)
