// The kernel's neighbour table (ARP for IPv4, NDP for IPv6) read over rtnetlink: a hotspot client's
// IP changes between sessions, its MAC does not, so device profiles can match on `mac`.
#pragma once

#include <optional>

#include <boost/asio/ip/address.hpp>

#include "config/config.hpp"

namespace leakguard {

// The MAC address the kernel has for a directly connected neighbour, or nullopt (not on a local
// link, or not resolved). One netlink dump per call: call it once per connection, not per request.
std::optional<MacAddress> neighbor_mac(const boost::asio::ip::address& address);

}  // namespace leakguard
