// Where a connection was going before nftables/iptables REDIRECT sent it to leakguard. The kernel
// keeps it in conntrack; SO_ORIGINAL_DST (IPv4) and IP6T_SO_ORIGINAL_DST (IPv6) read it back.
#pragma once

#include <optional>

#include "common/asio.hpp"

namespace leakguard {

// The original destination of an accepted socket, or nullopt when the kernel has none (no
// conntrack entry: the client connected to leakguard directly).
std::optional<tcp::endpoint> original_destination(tcp::socket& socket);

// A connection was redirected when its original destination is not leakguard's own local address;
// otherwise the client is talking to leakguard as an explicit proxy.
bool was_redirected(const std::optional<tcp::endpoint>& original, const tcp::endpoint& local);

}  // namespace leakguard
