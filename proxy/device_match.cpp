#include "proxy/device_match.hpp"

#include "common/ip_network.hpp"

namespace leakguard {

const DeviceProfile* match_device(const Config& config, const asio::ip::address& client,
                                  const std::function<std::optional<MacAddress>()>& mac_of_client) {
  const auto address = unmap_v4(client);
  std::optional<std::optional<MacAddress>> mac;  // looked up at most once, and only if a profile asks
  for (const auto& device : config.devices) {
    const auto& match = device.match;
    if (match.network && match.network->contains(address)) return &device;
    if (match.mac) {
      if (!mac) mac = mac_of_client();
      if (*mac && **mac == *match.mac) return &device;
    }
  }
  return nullptr;
}

}  // namespace leakguard
