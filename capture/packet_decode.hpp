// One captured frame taken apart down to TCP or UDP: the link layers a phone lab's captures come
// in (Ethernet with VLAN tags, Linux cooked v1/v2 from `tcpdump -i any`, raw IP, BSD loopback),
// IPv4 with options and IPv6 past its extension headers. Pure and bounds-checked (it is fuzzed);
// the numbers of the link types are libpcap's, mapped by the reader (capture/pcap_reader.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace leakguard {

enum class LinkType { ethernet, linux_sll, linux_sll2, raw_ip, ipv4, ipv6, bsd_null, bsd_loop };

struct PacketAddress {
  std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first four
  bool v6 = false;
  bool operator==(const PacketAddress&) const = default;
  std::string to_string() const;
};

struct DecodedPacket {
  enum class Kind {
    tcp,
    udp,
    fragment,   // an IP fragment: counted, not reassembled
    not_ip,     // ARP, LLDP, other protocols: skipped
    other_ip,   // ICMP, SCTP, ...: skipped
    malformed,  // a header cut short or inconsistent
  };
  Kind kind = Kind::malformed;
  PacketAddress src, dst;
  std::uint16_t src_port = 0, dst_port = 0;
  std::optional<std::array<std::uint8_t, 6>> src_mac;  // Ethernet and cooked captures of Ethernet
  std::optional<std::array<std::uint8_t, 6>> dst_mac;  // Ethernet only
  std::uint32_t seq = 0, ack = 0;  // TCP
  std::uint8_t tcp_flags = 0;
  std::string_view payload;  // TCP or UDP payload, cut to the IP length (Ethernet padding dropped)
};

namespace tcp_flag {
inline constexpr std::uint8_t fin = 0x01, syn = 0x02, rst = 0x04, ack = 0x10;
}

DecodedPacket decode_packet(LinkType link, std::span<const std::uint8_t> frame);

}  // namespace leakguard
