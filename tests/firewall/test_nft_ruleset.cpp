// The nftables script `leakguard firewall` loads (firewall/nft_ruleset.*): the DNS redirect and the
// port 853 drop, in REDIRECT and TPROXY mode. The rules themselves run in the namespace lab
// (tests/integration/test_hotspot.py); this checks the text and its order.
#include <doctest/doctest.h>

#include <string>

#include "firewall/nft_ruleset.hpp"

using namespace leakguard;

namespace {
FirewallOptions options_for(const std::string& interface) {
  FirewallOptions options;
  options.client_interface = interface;
  options.proxy_port = 15001;
  return options;
}
}  // namespace

TEST_CASE("without a DNS port, DNS is left alone") {
  const auto script = nft_apply_script(options_for("wlan0"));
  CHECK(script.find("dport 53") == std::string::npos);
  CHECK(script.find("853") == std::string::npos);
}

TEST_CASE("a DNS port sends UDP and TCP 53 to the forwarder before the TCP redirect, and drops 853") {
  auto options = options_for("wlan0");
  options.dns_port = 5353;
  const auto script = nft_apply_script(options);
  const auto udp = script.find("iifname \"wlan0\" udp dport 53 redirect to :5353\n");
  const auto tcp = script.find("iifname \"wlan0\" tcp dport 53 redirect to :5353\n");
  const auto all_tcp = script.find("iifname \"wlan0\" meta l4proto tcp redirect to :15001\n");
  REQUIRE(udp != std::string::npos);
  REQUIRE(tcp != std::string::npos);
  REQUIRE(all_tcp != std::string::npos);
  CHECK(script.find("priority dstnat - 10;") < tcp);  // the DNS chain runs before the proxy's
  CHECK(script.find("iifname \"wlan0\" meta l4proto { tcp, udp } th dport 853 drop\n") != std::string::npos);
  CHECK(script.find("type filter hook prerouting priority raw;") != std::string::npos);

  options.drop_dot = false;  // --keep-dot
  CHECK(nft_apply_script(options).find("853") == std::string::npos);
}

TEST_CASE("TPROXY lets TCP 53 pass to the DNS chain instead of taking it") {
  auto options = options_for("br-lan");
  options.tproxy = true;
  options.dns_port = 53;
  const auto script = nft_apply_script(options);
  const auto pass = script.find("iifname \"br-lan\" tcp dport 53 accept\n");
  const auto tproxy = script.find("tproxy ip to :15001");
  REQUIRE(pass != std::string::npos);
  REQUIRE(tproxy != std::string::npos);
  CHECK(pass < tproxy);
  CHECK(script.find("iifname \"br-lan\" udp dport 53 redirect to :53\n") != std::string::npos);
}
