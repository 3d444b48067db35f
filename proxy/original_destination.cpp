#include "proxy/original_destination.hpp"

#include <cstring>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common/ip_network.hpp"

namespace leakguard {

std::optional<tcp::endpoint> original_destination(tcp::socket& socket) {
  error_code ec;
  const auto local = socket.local_endpoint(ec);
  if (ec) return std::nullopt;
  const int fd = socket.native_handle();
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (local.address().is_v4() || (local.address().is_v6() && local.address().to_v6().is_v4_mapped())) {
    if (::getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &storage, &length) != 0) return std::nullopt;
  } else {
    if (::getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &storage, &length) != 0) return std::nullopt;
  }
  if (storage.ss_family == AF_INET) {
    sockaddr_in in4{};
    std::memcpy(&in4, &storage, sizeof in4);
    asio::ip::address_v4::bytes_type bytes;
    std::memcpy(bytes.data(), &in4.sin_addr, bytes.size());
    return tcp::endpoint(asio::ip::address_v4(bytes), ntohs(in4.sin_port));
  }
  if (storage.ss_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, &storage, sizeof in6);
    asio::ip::address_v6::bytes_type bytes;
    std::memcpy(bytes.data(), &in6.sin6_addr, bytes.size());
    return tcp::endpoint(asio::ip::address_v6(bytes, in6.sin6_scope_id), ntohs(in6.sin6_port));
  }
  return std::nullopt;
}

bool was_redirected(const std::optional<tcp::endpoint>& original, const tcp::endpoint& local) {
  if (!original) return false;
  return !(unmap_v4(original->address()) == unmap_v4(local.address()) && original->port() == local.port());
}

}  // namespace leakguard
