#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "capture/packet_decode.hpp"

using namespace leakguard;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Bytes tcp_segment(std::uint16_t sport, std::uint16_t dport, std::string_view payload) {
  Bytes out{static_cast<std::uint8_t>(sport >> 8), static_cast<std::uint8_t>(sport), static_cast<std::uint8_t>(dport >> 8),
            static_cast<std::uint8_t>(dport), 0, 0, 0, 7, 0, 0, 0, 9, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0};
  for (const char c : payload) out.push_back(static_cast<std::uint8_t>(c));
  return out;
}

Bytes ipv4(const Bytes& transport, std::uint8_t protocol = 6, std::uint16_t fragment = 0x4000,
           const Bytes& options = Bytes(0)) {
  const std::size_t header = 20 + options.size();
  const std::size_t total = header + transport.size();
  Bytes out{static_cast<std::uint8_t>(0x40 | header / 4), 0, static_cast<std::uint8_t>(total >> 8),
            static_cast<std::uint8_t>(total), 0, 0, static_cast<std::uint8_t>(fragment >> 8),
            static_cast<std::uint8_t>(fragment), 64, protocol, 0, 0, 10, 42, 0, 11, 203, 0, 113, 7};
  out.reserve(total);
  for (const Bytes* part : {&options, &transport})
    for (const std::uint8_t byte : *part) out.push_back(byte);
  return out;
}

Bytes ipv6(const Bytes& rest, std::uint8_t next) {
  Bytes out{0x60, 0, 0, 0, static_cast<std::uint8_t>(rest.size() >> 8), static_cast<std::uint8_t>(rest.size()), next, 64};
  Bytes src(16, 0), dst(16, 0);
  src[15] = 1;
  dst[0] = 0x20;
  dst[15] = 2;
  return out + src + dst + rest;
}

const Bytes ether_header{0x02, 0, 0, 0, 0, 1, 0xa4, 0x50, 0x46, 0x12, 0x34, 0x56};

}  // namespace

TEST_CASE("Ethernet with 802.1Q and QinQ tags, IPv4 with options, Ethernet padding cut off") {
  const Bytes ip = ipv4(tcp_segment(51234, 80, "GET /"), 6, 0x4000, {1, 1, 1, 1});
  const Bytes frame = ether_header + Bytes{0x88, 0xa8, 0, 5, 0x81, 0x00, 0, 7, 0x08, 0x00} + ip + Bytes(6, 0);
  const DecodedPacket p = decode_packet(LinkType::ethernet, frame);
  REQUIRE(p.kind == DecodedPacket::Kind::tcp);
  CHECK(p.src.to_string() == "10.42.0.11");
  CHECK(p.dst.to_string() == "203.0.113.7");
  CHECK(p.src_port == 51234);
  CHECK(p.dst_port == 80);
  CHECK(p.payload == "GET /");
  CHECK(p.seq == 7);
  CHECK(p.ack == 9);
  REQUIRE(p.src_mac);
  CHECK((*p.src_mac)[0] == 0xa4);
}

TEST_CASE("Linux cooked v1 and v2 carry the sender's MAC when it is Ethernet") {
  const Bytes ip = ipv4(tcp_segment(1, 2, "x"));
  const Bytes v1 = Bytes{0, 4, 0, 1, 0, 6, 0xa4, 0x50, 0x46, 0x12, 0x34, 0x56, 0, 0, 0x08, 0x00} + ip;
  const DecodedPacket p1 = decode_packet(LinkType::linux_sll, v1);
  REQUIRE(p1.kind == DecodedPacket::Kind::tcp);
  REQUIRE(p1.src_mac);
  CHECK((*p1.src_mac)[5] == 0x56);
  const Bytes v2 = Bytes{0x08, 0x00, 0, 0, 0, 0, 0, 2, 0x03, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} + ip;  // loopback
  const DecodedPacket p2 = decode_packet(LinkType::linux_sll2, v2);
  REQUIRE(p2.kind == DecodedPacket::Kind::tcp);
  CHECK_FALSE(p2.src_mac);
}

TEST_CASE("IPv6 past hop-by-hop and destination options; a real fragment is counted, not parsed") {
  const Bytes hop{60, 0, 0, 0, 0, 0, 0, 0};   // next: destination options, 8 bytes
  const Bytes dest{6, 0, 0, 0, 0, 0, 0, 0};   // next: TCP
  const Bytes frame = ipv6(hop + dest + tcp_segment(5000, 443, "hi"), 0);  // the payload points into it
  const DecodedPacket p = decode_packet(LinkType::raw_ip, frame);
  REQUIRE(p.kind == DecodedPacket::Kind::tcp);
  CHECK(p.src.to_string() == "::1");
  CHECK(p.dst.to_string() == "2000::2");
  CHECK(p.payload == "hi");

  const Bytes atomic{6, 0, 0, 0, 0, 0, 0, 1};      // fragment header, offset 0, no M flag: whole
  CHECK(decode_packet(LinkType::ipv6, ipv6(atomic + tcp_segment(1, 2, "a"), 44)).kind == DecodedPacket::Kind::tcp);
  const Bytes first{6, 0, 0, 1, 0, 0, 0, 1};       // M flag set: the first of several
  CHECK(decode_packet(LinkType::ipv6, ipv6(first + tcp_segment(1, 2, "a"), 44)).kind ==
        DecodedPacket::Kind::fragment);
  CHECK(decode_packet(LinkType::ipv4, ipv4(tcp_segment(1, 2, "a"), 6, 0x2000)).kind == DecodedPacket::Kind::fragment);
}

TEST_CASE("BSD loopback in either byte order, UDP, and what is skipped") {
  const Bytes ip = ipv4(Bytes{0xd4, 0x31, 0, 53, 0, 11, 0, 0, 'q', 'r', 'y'}, 17);
  const Bytes frame = Bytes{2, 0, 0, 0} + ip;
  const DecodedPacket little = decode_packet(LinkType::bsd_null, frame);
  REQUIRE(little.kind == DecodedPacket::Kind::udp);
  CHECK(little.dst_port == 53);
  CHECK(little.payload == "qry");
  CHECK(decode_packet(LinkType::bsd_loop, Bytes{0, 0, 0, 2} + ip).kind == DecodedPacket::Kind::udp);
  CHECK(decode_packet(LinkType::ethernet, ether_header + Bytes{0x08, 0x06} + Bytes(28, 0)).kind ==
        DecodedPacket::Kind::not_ip);  // ARP
  CHECK(decode_packet(LinkType::raw_ip, ipv4(Bytes(8, 0), 1)).kind == DecodedPacket::Kind::other_ip);  // ICMP
}

TEST_CASE("every cut of a packet is malformed or shorter, never read past the end") {
  const Bytes frame = ether_header + Bytes{0x08, 0x00} + ipv4(tcp_segment(1, 2, "payload"));
  for (std::size_t size = 0; size < frame.size(); ++size) {
    const Bytes cut(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(size));
    const DecodedPacket p = decode_packet(LinkType::ethernet, cut);
    CHECK(p.kind != DecodedPacket::Kind::tcp);  // the IP total length says more bytes are due
  }
}
