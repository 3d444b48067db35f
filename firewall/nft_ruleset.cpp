#include "firewall/nft_ruleset.hpp"

#include <cctype>
#include <cstdio>

namespace leakguard {

namespace {

std::string port_match(const FirewallOptions& options) {
  if (options.ports.empty()) return "meta l4proto tcp";
  std::string set = "tcp dport { ";
  for (std::size_t i = 0; i < options.ports.size(); ++i) set += (i ? ", " : "") + std::to_string(options.ports[i]);
  return set + " }";
}

std::string hex_mark(std::uint32_t mark) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "0x%08x", mark);
  return buffer;
}

}  // namespace

bool valid_interface_name(const std::string& name) {
  if (name.empty() || name.size() > 15) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '@')) return false;
  return true;
}

std::string nft_apply_script(const FirewallOptions& options) {
  const std::string iif = "iifname \"" + options.client_interface + "\" ";
  const std::string port = std::to_string(options.proxy_port);
  std::string script;
  // Creating the table first makes the delete succeed on a first apply; both run in one
  // transaction, so there is never a moment without rules.
  script += "table inet leakguard {}\n";
  script += "delete table inet leakguard\n";
  script += "table inet leakguard {\n";
  if (options.dns_port) {
    // DNS to the forwarder, by REDIRECT in either mode (the forwarder's sockets are ordinary ones).
    // Its own chain runs at dstnat priority, after a TPROXY rule has let port 53 pass.
    const std::string dns = std::to_string(*options.dns_port);
    script += "  chain dns {\n";
    script += "    type nat hook prerouting priority dstnat - 10; policy accept;\n";
    script += "    " + iif + "udp dport 53 redirect to :" + dns + "\n";
    script += "    " + iif + "tcp dport 53 redirect to :" + dns + "\n";
    script += "  }\n";
    if (options.drop_dot) {
      // Before any redirect: DNS over TLS (TCP 853) and over QUIC (UDP 853) cannot be read; a phone
      // in opportunistic mode (Android's "Private DNS: automatic") then falls back to port 53.
      script += "  chain encrypted_dns {\n";
      script += "    type filter hook prerouting priority raw; policy accept;\n";
      script += "    " + iif + "meta l4proto { tcp, udp } th dport 853 drop\n";
      script += "  }\n";
    }
  }
  if (options.tproxy) {
    // Packets keep their destination; the mark routes them to the local stack, where the
    // IP_TRANSPARENT listener accepts them. Only packets arriving on the client interface match,
    // so leakguard's own upstream connections (locally generated) are never touched.
    script += "  chain prerouting {\n";
    script += "    type filter hook prerouting priority mangle; policy accept;\n";
    if (options.dns_port) script += "    " + iif + "tcp dport 53 accept\n";  // the dns chain redirects it
    script += "    " + iif + "meta nfproto ipv4 " + port_match(options) + " tproxy ip to :" + port +
              " meta mark set " + hex_mark(options.mark) + " accept\n";
    script += "    " + iif + "meta nfproto ipv6 " + port_match(options) + " tproxy ip6 to :" + port +
              " meta mark set " + hex_mark(options.mark) + " accept\n";
    script += "  }\n";
  } else {
    // REDIRECT rewrites the destination to this box; conntrack remembers the original one for
    // SO_ORIGINAL_DST. Locally generated traffic never passes prerouting.
    script += "  chain prerouting {\n";
    script += "    type nat hook prerouting priority dstnat; policy accept;\n";
    script += "    " + iif + port_match(options) + " redirect to :" + port + "\n";
    script += "  }\n";
  }
  if (options.drop_quic) {
    // QUIC (UDP 443) cannot be inspected; dropping it makes apps and browsers fall back to TCP.
    script += "  chain forward {\n";
    script += "    type filter hook forward priority filter; policy accept;\n";
    script += "    " + iif + "udp dport 443 drop\n";
    script += "  }\n";
    script += "  chain input {\n";
    script += "    type filter hook input priority filter; policy accept;\n";
    script += "    " + iif + "udp dport 443 drop\n";
    script += "  }\n";
  }
  script += "}\n";
  return script;
}

std::string nft_remove_script() { return "table inet leakguard {}\ndelete table inet leakguard\n"; }

std::vector<std::vector<std::string>> tproxy_routing_commands(const FirewallOptions& options, bool add) {
  const std::string verb = add ? "add" : "del";
  const std::string mark = hex_mark(options.mark);
  const std::string table = std::to_string(options.route_table);
  std::vector<std::vector<std::string>> commands;
  for (const char* family : {"-4", "-6"}) {
    commands.push_back({"ip", family, "rule", verb, "fwmark", mark, "lookup", table});
    commands.push_back({"ip", family, "route", verb, "local", std::string(family) == "-4" ? "0.0.0.0/0" : "::/0",
                        "dev", "lo", "table", table});
  }
  return commands;
}

}  // namespace leakguard
