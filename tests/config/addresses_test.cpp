// MAC and listen-address parsing: the two address formats the configuration defines itself (IP
// networks are common/ip_network.hpp, tested in ip_network_test.cpp).
#include <doctest/doctest.h>

#include "config/config.hpp"

using leakguard::ListenAddress;
using leakguard::MacAddress;

TEST_CASE("MacAddress::parse accepts ':', '-' or no separators, any case") {
  const std::array<std::uint8_t, 6> expected{0xa4, 0x50, 0x46, 0x12, 0x34, 0x56};
  for (const char* text :
       {"a4:50:46:12:34:56", "A4:50:46:12:34:56", "a4-50-46-12-34-56", "a45046123456", "A45046123456"}) {
    CAPTURE(text);
    const auto mac = MacAddress::parse(text);
    REQUIRE(mac);
    CHECK(mac->octets == expected);
    CHECK(mac->to_string() == "a4:50:46:12:34:56");
  }
  CHECK(MacAddress::parse("00:00:00:00:00:00")->to_string() == "00:00:00:00:00:00");
  CHECK(MacAddress::parse("FF-FF-FF-FF-FF-FF")->to_string() == "ff:ff:ff:ff:ff:ff");
  CHECK(*MacAddress::parse("a4:50:46:12:34:56") == *MacAddress::parse("a45046123456"));
  CHECK_FALSE(*MacAddress::parse("a4:50:46:12:34:56") == *MacAddress::parse("a4:50:46:12:34:57"));
}

TEST_CASE("MacAddress::parse rejects everything else") {
  for (const char* text : {"", "a4:50:46:12:34", "a4:50:46:12:34:56:78", "a4:50-46:12:34:56", "a4.50.46.12.34.56",
                           "a4:50:46:12:34:5g", "a4:50:46:12:34:5", "a4:5:046:12:34:56", "a450461234567", "a4504612345",
                           " a4:50:46:12:34:56", "a450.4612.3456", "a4::50:46:12:34:5"}) {
    CAPTURE(text);
    CHECK_FALSE(MacAddress::parse(text));
  }
}

TEST_CASE("ListenAddress::parse: IPv4, bracketed IPv6, ports 0 to 65535") {
  CHECK(ListenAddress::parse("127.0.0.1:8080") == ListenAddress{"127.0.0.1", 8080});
  CHECK(ListenAddress::parse("0.0.0.0:0") == ListenAddress{"0.0.0.0", 0});
  CHECK(ListenAddress::parse("10.42.0.1:65535") == ListenAddress{"10.42.0.1", 65535});
  CHECK(ListenAddress::parse("[::1]:8080") == ListenAddress{"::1", 8080});
  CHECK(ListenAddress::parse("[::]:1") == ListenAddress{"::", 1});
  // IPv6 is stored in canonical form, so equal addresses compare equal.
  CHECK(ListenAddress::parse("[0:0:0:0:0:0:0:1]:80") == ListenAddress{"::1", 80});
  CHECK(ListenAddress::parse("[FD00::1]:80") == ListenAddress{"fd00::1", 80});
}

TEST_CASE("ListenAddress::parse is strict about the port and the address") {
  for (const char* text : {"127.0.0.1",      "127.0.0.1:",    "127.0.0.1:65536", "127.0.0.1:99999", "127.0.0.1:123456",
                           "127.0.0.1:-1",   "127.0.0.1:+80", "127.0.0.1:08080", "127.0.0.1:80a",   "127.0.0.1: 80",
                           "127.0.0.1:0x50", ":8080",         "localhost:8080",  "127.1:8080",      "256.0.0.1:80",
                           "::1:8080",       "[::1]",         "[::1]8080",       "[::1:8080",       "[127.0.0.1]:80",
                           "[]:80",          "1.2.3.4:80:80"}) {
    CAPTURE(text);
    CHECK_FALSE(ListenAddress::parse(text));
  }
}

TEST_CASE("ListenAddress::to_string brackets IPv6 and round-trips") {
  CHECK(ListenAddress{"127.0.0.1", 8080}.to_string() == "127.0.0.1:8080");
  CHECK(ListenAddress{"::1", 0}.to_string() == "[::1]:0");
  for (const char* text : {"10.42.0.1:8080", "[fd00::1]:443", "[::]:0"})
    CHECK(ListenAddress::parse(text)->to_string() == text);
}
