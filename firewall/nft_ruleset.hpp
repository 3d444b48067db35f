// The nftables rules that put leakguard in the path of a hotspot's or a home network's clients:
// redirect (or TPROXY) their TCP to the proxy and their DNS to its forwarder, drop their UDP 443 so
// apps fall back from QUIC to TCP (and port 853 so phones fall back from encrypted DNS), and leave
// leakguard's own upstream traffic alone. Text generation only, so it is testable;
// `leakguard firewall` (app/firewall_command.cpp) prints and applies it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace leakguard {

struct FirewallOptions {
  std::string client_interface;       // where the phones are: wlan0, br-lan, a veth in the tests
  std::uint16_t proxy_port = 8080;    // leakguard's listening port on this box
  std::vector<std::uint16_t> ports;   // TCP destination ports to intercept; empty: all
  bool tproxy = false;                // TPROXY instead of REDIRECT (listener needs transparent: tproxy)
  std::uint32_t mark = 0x1;           // TPROXY: packet mark routed to the local table
  std::uint32_t route_table = 100;    // TPROXY: policy routing table for marked packets
  bool drop_quic = true;              // drop UDP 443 from clients
  // leakguard's DNS forwarder (`dns.listen`): the clients' UDP and TCP port 53 goes there. Unset:
  // DNS is left alone (it reaches the box's resolver, or passes through the TCP redirect).
  std::optional<std::uint16_t> dns_port;
  // Drop DNS over TLS and over QUIC (port 853, TCP and UDP) from clients: phones fall back to plain
  // DNS, which the forwarder sees. Only with dns_port (without the forwarder nothing would see DNS).
  bool drop_dot = true;
};

// The name of the one table leakguard owns; apply replaces it whole, remove deletes it.
inline constexpr const char* firewall_table = "leakguard";

// A complete `nft -f` script that (re)creates `table inet leakguard` atomically: applying it twice
// leaves one copy of the rules.
std::string nft_apply_script(const FirewallOptions& options);
std::string nft_remove_script();

// TPROXY needs marked packets delivered locally: `ip rule` / `ip route` commands (IPv4 and IPv6).
// `add` false gives the commands that undo them.
std::vector<std::vector<std::string>> tproxy_routing_commands(const FirewallOptions& options, bool add);

// Checks an interface name the way the kernel would accept it (1-15 chars, no '/', ' ', quotes),
// because it is pasted into the nft script.
bool valid_interface_name(const std::string& name);

}  // namespace leakguard
