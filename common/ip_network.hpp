// IP networks (CIDR) and address parsing shared by the configuration (client allow-list, device
// match, rules) and the proxy. IPv4-mapped IPv6 addresses are compared as IPv4.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace leakguard {

class IpNetwork {
 public:
  // Accepts "10.42.0.0/24", "fd00::/64", or a bare address (a /32 or /128).
  static std::optional<IpNetwork> parse(std::string_view text);

  bool contains(const boost::asio::ip::address& address) const;
  std::string to_string() const;

 private:
  boost::asio::ip::address network_;
  unsigned prefix_length_ = 0;
};

// Maps ::ffff:a.b.c.d to a.b.c.d, leaves every other address alone.
boost::asio::ip::address unmap_v4(const boost::asio::ip::address& address);

}  // namespace leakguard
