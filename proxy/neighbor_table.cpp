#include "proxy/neighbor_table.hpp"

#include <array>
#include <cstring>

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ip_network.hpp"

namespace leakguard {

namespace {
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};
}  // namespace

std::optional<MacAddress> neighbor_mac(const boost::asio::ip::address& candidate) {
  const auto address = unmap_v4(candidate);
  const int family = address.is_v4() ? AF_INET : AF_INET6;
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return std::nullopt;
  FdCloser closer{fd};
  timeval timeout{0, 200000};  // the kernel answers at once; never hang an I/O thread on it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

  struct {
    nlmsghdr header;
    ndmsg body;
  } request{};
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(ndmsg));
  request.header.nlmsg_type = RTM_GETNEIGH;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.header.nlmsg_seq = 1;
  request.body.ndm_family = static_cast<unsigned char>(family);
  if (::send(fd, &request, request.header.nlmsg_len, 0) < 0) return std::nullopt;

  std::array<char, 32768> buffer;
  for (;;) {
    const ssize_t received = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (received <= 0) return std::nullopt;
    unsigned remaining = static_cast<unsigned>(received);
    for (auto* header = reinterpret_cast<nlmsghdr*>(buffer.data()); NLMSG_OK(header, remaining);
         header = NLMSG_NEXT(header, remaining)) {
      if (header->nlmsg_type == NLMSG_DONE || header->nlmsg_type == NLMSG_ERROR) return std::nullopt;
      if (header->nlmsg_type != RTM_NEWNEIGH) continue;
      auto* neighbour = static_cast<ndmsg*>(NLMSG_DATA(header));
      if (neighbour->ndm_family != family) continue;
      if (neighbour->ndm_state & (NUD_INCOMPLETE | NUD_FAILED)) continue;
      std::optional<boost::asio::ip::address> dst;
      std::optional<MacAddress> mac;
      int length = static_cast<int>(RTM_PAYLOAD(header));
      for (auto* attribute = RTM_RTA(neighbour); RTA_OK(attribute, length); attribute = RTA_NEXT(attribute, length)) {
        if (attribute->rta_type == NDA_DST) {
          if (family == AF_INET && RTA_PAYLOAD(attribute) == 4) {
            boost::asio::ip::address_v4::bytes_type bytes;
            std::memcpy(bytes.data(), RTA_DATA(attribute), 4);
            dst = boost::asio::ip::address_v4(bytes);
          } else if (family == AF_INET6 && RTA_PAYLOAD(attribute) == 16) {
            boost::asio::ip::address_v6::bytes_type bytes;
            std::memcpy(bytes.data(), RTA_DATA(attribute), 16);
            dst = boost::asio::ip::address_v6(bytes);
          }
        } else if (attribute->rta_type == NDA_LLADDR && RTA_PAYLOAD(attribute) == 6) {
          MacAddress value;
          std::memcpy(value.octets.data(), RTA_DATA(attribute), 6);
          mac = value;
        }
      }
      if (dst && mac && *dst == address) return mac;
    }
  }
}

}  // namespace leakguard
