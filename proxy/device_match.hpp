// Which device profile a client is: the first profile whose `ip`/`cidr` contains the client's
// address or whose `mac` is the client's hardware address (design.md, "Device profiles"). Shared
// by the proxy's sessions, the DNS forwarder and `scan` over packet captures.
#pragma once

#include <functional>
#include <optional>

#include "common/asio.hpp"
#include "config/config.hpp"

namespace leakguard {

// `mac_of_client` is asked at most once, and only when a profile before the match names a MAC
// (the proxy reads the kernel's neighbour table for it; a capture has it in the Ethernet header).
const DeviceProfile* match_device(const Config& config, const asio::ip::address& client,
                                  const std::function<std::optional<MacAddress>()>& mac_of_client);

}  // namespace leakguard
