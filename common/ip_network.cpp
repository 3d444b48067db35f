#include "common/ip_network.hpp"

#include <charconv>

namespace leakguard {

namespace ip = boost::asio::ip;

ip::address unmap_v4(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  return address;
}

std::optional<IpNetwork> IpNetwork::parse(std::string_view text) {
  const auto slash = text.find('/');
  boost::system::error_code ec;
  const auto address = ip::make_address(std::string(text.substr(0, slash)), ec);
  if (ec) return std::nullopt;
  const unsigned max_prefix = address.is_v4() ? 32 : 128;
  unsigned prefix = max_prefix;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (err != std::errc{} || end != digits.data() + digits.size() || digits.empty() || prefix > max_prefix)
      return std::nullopt;
  }
  IpNetwork network;
  network.network_ = unmap_v4(address);
  if (network.network_.is_v4() && address.is_v6()) {  // ::ffff:a.b.c.d/N is the IPv4 network /N-96
    if (prefix < 96) return std::nullopt;
    prefix -= 96;
  }
  network.prefix_length_ = prefix;
  return network;
}

namespace {
template <std::size_t N>
bool prefix_equal(const std::array<unsigned char, N>& a, const std::array<unsigned char, N>& b, unsigned bits) {
  for (std::size_t i = 0; i < N && bits > 0; ++i) {
    const unsigned take = bits >= 8 ? 8 : bits;
    const unsigned char mask = static_cast<unsigned char>(0xFFu << (8 - take));
    if ((a[i] & mask) != (b[i] & mask)) return false;
    bits -= take;
  }
  return true;
}
}  // namespace

bool IpNetwork::contains(const ip::address& candidate) const {
  const auto address = unmap_v4(candidate);
  if (address.is_v4() != network_.is_v4()) return false;
  if (address.is_v4()) return prefix_equal(address.to_v4().to_bytes(), network_.to_v4().to_bytes(), prefix_length_);
  return prefix_equal(address.to_v6().to_bytes(), network_.to_v6().to_bytes(), prefix_length_);
}

std::string IpNetwork::to_string() const { return network_.to_string() + "/" + std::to_string(prefix_length_); }

}  // namespace leakguard
