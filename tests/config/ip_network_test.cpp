// common/ip_network.hpp as the configuration uses it (clients.allow, device match, rule networks):
// here because these tests pin down what a `cidr:` in a configuration file means.
#include "common/ip_network.hpp"

#include <doctest/doctest.h>

#include <boost/asio/ip/address.hpp>

using leakguard::IpNetwork;

namespace {
boost::asio::ip::address ip(const char* text) { return boost::asio::ip::make_address(text); }
}  // namespace

TEST_CASE("IpNetwork: IPv4 CIDR") {
  const auto network = IpNetwork::parse("10.42.0.0/24");
  REQUIRE(network);
  CHECK(network->to_string() == "10.42.0.0/24");
  CHECK(network->contains(ip("10.42.0.0")));
  CHECK(network->contains(ip("10.42.0.255")));
  CHECK_FALSE(network->contains(ip("10.42.1.0")));
  CHECK_FALSE(network->contains(ip("10.41.255.255")));
  // Prefixes that do not fall on a byte boundary.
  const auto odd = IpNetwork::parse("192.168.1.64/27");
  CHECK(odd->contains(ip("192.168.1.95")));
  CHECK_FALSE(odd->contains(ip("192.168.1.96")));
  CHECK_FALSE(odd->contains(ip("192.168.1.63")));
  // /0 is everything of its family, and only of its family.
  const auto any4 = IpNetwork::parse("0.0.0.0/0");
  CHECK(any4->contains(ip("203.0.113.7")));
  CHECK_FALSE(any4->contains(ip("2001:db8::1")));
}

TEST_CASE("IpNetwork: a bare address is a /32 or /128") {
  CHECK(IpNetwork::parse("10.42.0.11")->to_string() == "10.42.0.11/32");
  CHECK(IpNetwork::parse("10.42.0.11")->contains(ip("10.42.0.11")));
  CHECK_FALSE(IpNetwork::parse("10.42.0.11")->contains(ip("10.42.0.12")));
  CHECK(IpNetwork::parse("::1")->to_string() == "::1/128");
  CHECK(IpNetwork::parse("::1")->contains(ip("::1")));
  CHECK_FALSE(IpNetwork::parse("::1")->contains(ip("::2")));
}

TEST_CASE("IpNetwork: IPv6 CIDR") {
  const auto network = IpNetwork::parse("fd00:42::/64");
  REQUIRE(network);
  CHECK(network->contains(ip("fd00:42::1")));
  CHECK(network->contains(ip("fd00:42::ffff:ffff:ffff:ffff")));
  CHECK_FALSE(network->contains(ip("fd00:42:0:1::1")));
  CHECK_FALSE(network->contains(ip("10.42.0.1")));
  const auto odd = IpNetwork::parse("2001:db8::/29");
  CHECK(odd->contains(ip("2001:dbf:ffff::1")));
  CHECK_FALSE(odd->contains(ip("2001:dc0::1")));
}

TEST_CASE("IpNetwork: IPv4-mapped IPv6 is compared as IPv4") {
  // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; they must match IPv4 rules.
  const auto lan = IpNetwork::parse("10.42.0.0/24");
  CHECK(lan->contains(ip("::ffff:10.42.0.11")));
  CHECK_FALSE(lan->contains(ip("::ffff:10.43.0.11")));
  // A network written in mapped form is the IPv4 network: /120 of mapped space is a /24.
  const auto mapped = IpNetwork::parse("::ffff:10.42.0.0/120");
  REQUIRE(mapped);
  CHECK(mapped->to_string() == "10.42.0.0/24");
  CHECK(mapped->contains(ip("10.42.0.200")));
  CHECK(mapped->contains(ip("::ffff:10.42.0.200")));
  CHECK_FALSE(mapped->contains(ip("10.42.1.1")));
  CHECK(IpNetwork::parse("::ffff:127.0.0.1")->to_string() == "127.0.0.1/32");
  // Shorter than /96 would reach outside the mapped range: refused.
  CHECK_FALSE(IpNetwork::parse("::ffff:10.42.0.0/95"));
}

TEST_CASE("IpNetwork: rejects malformed text") {
  for (const char* text : {"", "10.42.0.0/", "10.42.0.0/33", "10.42.0.0/-1", "10.42.0.0/+8", "10.42.0.0/8x",
                           "10.42.0/24", "fd00::/129", "host.example/24", "10.42.0.0 /24", "/24"}) {
    CAPTURE(text);
    CHECK_FALSE(IpNetwork::parse(text));
  }
}
