// The address -> name map fed by DNS answers (proxy/dns_names.*): per client, TTL floor and ceiling,
// expiry, and the LRU bound.
#include <doctest/doctest.h>

#include "proxy/dns_names.hpp"

using namespace leakguard;
using boost::asio::ip::make_address;
using namespace std::chrono_literals;

namespace {
std::string key(const char* address) { return DnsNameMap::client_key("", make_address(address)); }
}  // namespace

TEST_CASE("a name is known to the client that asked, for the address it got") {
  DnsNameMap map;
  const auto now = DnsNameMap::Clock::now();
  map.remember(key("10.42.0.11"), make_address("203.0.113.7"), "zzhc.example.cn", 300s, now);
  CHECK(map.lookup(key("10.42.0.11"), make_address("203.0.113.7"), now) == "zzhc.example.cn");
  CHECK_FALSE(map.lookup(key("10.42.0.12"), make_address("203.0.113.7"), now));
  CHECK_FALSE(map.lookup(key("10.42.0.11"), make_address("203.0.113.8"), now));
  // A v4-mapped client or destination is the same pair.
  CHECK(map.lookup(key("::ffff:10.42.0.11"), make_address("::ffff:203.0.113.7"), now) == "zzhc.example.cn");
}

TEST_CASE("a profiled phone is one client whatever address it asks and connects from") {
  DnsNameMap map;
  const auto v4 = DnsNameMap::client_key("lab-phone-01", make_address("10.42.0.11"));
  const auto v6 = DnsNameMap::client_key("lab-phone-01", make_address("fd00::11"));
  CHECK(v4 == v6);
  map.remember(v4, make_address("2001:db8::7"), "zzhc.example.cn", 300s);
  CHECK(map.lookup(v6, make_address("2001:db8::7")) == "zzhc.example.cn");
  CHECK_FALSE(map.lookup(DnsNameMap::client_key("lab-phone-02", make_address("10.42.0.11")), make_address("2001:db8::7")));
}

TEST_CASE("TTLs are clamped to the floor and the ceiling, and names expire") {
  DnsNameMap map;
  const auto now = DnsNameMap::Clock::now();
  const auto client = key("10.42.0.11");
  map.remember(client, make_address("192.0.2.1"), "zero.example", 0s, now);
  map.remember(client, make_address("192.0.2.2"), "week.example", std::chrono::seconds(7 * 86400), now);
  CHECK(map.lookup(client, make_address("192.0.2.1"), now + DnsNameMap::ttl_floor - 1s) == "zero.example");
  CHECK_FALSE(map.lookup(client, make_address("192.0.2.1"), now + DnsNameMap::ttl_floor));
  CHECK(map.lookup(client, make_address("192.0.2.2"), now + DnsNameMap::ttl_ceiling - 1s) == "week.example");
  CHECK_FALSE(map.lookup(client, make_address("192.0.2.2"), now + DnsNameMap::ttl_ceiling));
  CHECK(map.size() == 0);
}

TEST_CASE("the newest answer wins and the least recently used pair leaves a full map") {
  DnsNameMap map(2);
  const auto client = key("fd00::11");
  map.remember(client, make_address("2001:db8::1"), "one.example", 300s);
  map.remember(client, make_address("2001:db8::2"), "two.example", 300s);
  map.remember(client, make_address("2001:db8::1"), "uno.example", 300s);
  CHECK(map.lookup(client, make_address("2001:db8::1")) == "uno.example");
  map.remember(client, make_address("2001:db8::3"), "three.example", 300s);  // evicts ::2, used least recently
  CHECK(map.size() == 2);
  CHECK_FALSE(map.lookup(client, make_address("2001:db8::2")));
  CHECK(map.lookup(client, make_address("2001:db8::3")) == "three.example");
}
