#include "capture/packet_decode.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace leakguard {
namespace {

constexpr std::uint16_t ethertype_ipv4 = 0x0800, ethertype_ipv6 = 0x86dd;
constexpr std::uint16_t arphrd_ether = 1;

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

using Bytes = std::span<const std::uint8_t>;

void transport(std::uint8_t protocol, Bytes data, DecodedPacket& out) {
  if (protocol == 6) {
    if (data.size() < 20) return;
    const std::size_t header = (data[12] >> 4) * 4u;
    if (header < 20 || header > data.size()) return;
    out.src_port = be16(&data[0]);
    out.dst_port = be16(&data[2]);
    out.seq = be32(&data[4]);
    out.ack = be32(&data[8]);
    out.tcp_flags = data[13];
    const auto payload = data.subspan(header);
    out.payload = {reinterpret_cast<const char*>(payload.data()), payload.size()};
    out.kind = DecodedPacket::Kind::tcp;
  } else if (protocol == 17) {
    if (data.size() < 8) return;
    const std::size_t length = be16(&data[4]);
    if (length < 8 || length > data.size()) return;
    out.src_port = be16(&data[0]);
    out.dst_port = be16(&data[2]);
    out.payload = {reinterpret_cast<const char*>(data.data() + 8), length - 8};
    out.kind = DecodedPacket::Kind::udp;
  } else {
    out.kind = DecodedPacket::Kind::other_ip;
  }
}

void ipv4(Bytes data, DecodedPacket& out) {
  if (data.size() < 20 || data[0] >> 4 != 4) return;
  const std::size_t header = (data[0] & 0x0f) * 4u;  // options included
  const std::size_t total = be16(&data[2]);
  // A total length of 0 is TCP segmentation offload on the capturing host: the frame is the packet.
  const std::size_t length = total == 0 ? data.size() : total;
  if (header < 20 || length < header || length > data.size()) return;
  std::memcpy(out.src.bytes.data(), &data[12], 4);
  std::memcpy(out.dst.bytes.data(), &data[16], 4);
  const std::uint16_t fragment = be16(&data[6]);
  if (fragment & 0x3fff) {  // more fragments, or an offset
    out.kind = DecodedPacket::Kind::fragment;
    return;
  }
  transport(data[9], data.subspan(header, length - header), out);
}

void ipv6(Bytes data, DecodedPacket& out) {
  if (data.size() < 40 || data[0] >> 4 != 6) return;
  const std::size_t length = be16(&data[4]);
  if (40 + length > data.size()) return;  // a jumbogram (length 0 with hop-by-hop) is not handled
  out.src.v6 = out.dst.v6 = true;
  std::memcpy(out.src.bytes.data(), &data[8], 16);
  std::memcpy(out.dst.bytes.data(), &data[24], 16);
  std::uint8_t next = data[6];
  Bytes rest = data.subspan(40, length);
  // Extension headers: hop-by-hop, routing, destination options (8-octet units after the first 8),
  // the fragment header (8 octets) and AH (4-octet units plus 2).
  for (int headers = 0; headers < 8; ++headers) {
    if (next == 0 || next == 43 || next == 60 || next == 51 || next == 44) {
      if (rest.size() < 8) return;
      if (next == 44 && (be16(&rest[2]) & 0xfff9) != 0) {  // an offset or the M flag: a real fragment
        out.kind = DecodedPacket::Kind::fragment;
        return;
      }
      const std::size_t size = next == 44 ? 8 : next == 51 ? (rest[1] + 2u) * 4 : (rest[1] + 1u) * 8;
      if (size > rest.size()) return;
      next = rest[0];
      rest = rest.subspan(size);
      continue;
    }
    transport(next, rest, out);
    return;
  }
}

void ip_by_version(Bytes data, DecodedPacket& out) {
  if (data.empty()) return;
  if (data[0] >> 4 == 4) ipv4(data, out);
  else if (data[0] >> 4 == 6) ipv6(data, out);
  else out.kind = DecodedPacket::Kind::not_ip;
}

void by_ethertype(std::uint16_t type, Bytes data, DecodedPacket& out) {
  if (type == ethertype_ipv4) ipv4(data, out);
  else if (type == ethertype_ipv6) ipv6(data, out);
  else out.kind = DecodedPacket::Kind::not_ip;
}

std::array<std::uint8_t, 6> mac_at(const std::uint8_t* p) {
  std::array<std::uint8_t, 6> mac{};
  std::memcpy(mac.data(), p, 6);
  return mac;
}

}  // namespace

std::string PacketAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof text);
  return text;
}

DecodedPacket decode_packet(LinkType link, Bytes frame) {
  DecodedPacket out;
  switch (link) {
    case LinkType::ethernet: {
      if (frame.size() < 14) return out;
      out.dst_mac = mac_at(&frame[0]);
      out.src_mac = mac_at(&frame[6]);
      std::size_t offset = 12;
      std::uint16_t type = be16(&frame[offset]);
      // 802.1Q and 802.1ad tags (a QinQ pair at most in practice; a few more are tolerated).
      for (int tags = 0; (type == 0x8100 || type == 0x88a8 || type == 0x9100) && tags < 4; ++tags) {
        offset += 4;
        if (frame.size() < offset + 2) return out;
        type = be16(&frame[offset]);
      }
      by_ethertype(type, frame.subspan(offset + 2), out);
      break;
    }
    case LinkType::linux_sll: {  // packet type, ARPHRD, address length, 8 address bytes, protocol
      if (frame.size() < 16) return out;
      if (be16(&frame[2]) == arphrd_ether && be16(&frame[4]) == 6) out.src_mac = mac_at(&frame[6]);
      by_ethertype(be16(&frame[14]), frame.subspan(16), out);
      break;
    }
    case LinkType::linux_sll2: {  // protocol, reserved, ifindex, ARPHRD, packet type, address length, address
      if (frame.size() < 20) return out;
      if (be16(&frame[8]) == arphrd_ether && frame[11] == 6) out.src_mac = mac_at(&frame[12]);
      by_ethertype(be16(&frame[0]), frame.subspan(20), out);
      break;
    }
    case LinkType::raw_ip: ip_by_version(frame, out); break;
    case LinkType::ipv4: ipv4(frame, out); break;
    case LinkType::ipv6: ipv6(frame, out); break;
    case LinkType::bsd_null:
    case LinkType::bsd_loop: {
      // The address family, in the capturing host's byte order for DLT_NULL (so either order is
      // accepted) and in network order for DLT_LOOP. AF_INET is 2 everywhere; AF_INET6 is 10
      // (Linux), 24 (NetBSD, OpenBSD), 28 (FreeBSD) or 30 (macOS).
      if (frame.size() < 4) return out;
      std::uint32_t family = be32(&frame[0]);
      if (link == LinkType::bsd_null && family > 0xffff) family = frame[0] | frame[1] << 8;
      const Bytes ip = frame.subspan(4);
      if (family == 2) ipv4(ip, out);
      else if (family == 10 || family == 24 || family == 28 || family == 30) ipv6(ip, out);
      else out.kind = DecodedPacket::Kind::not_ip;
      break;
    }
  }
  return out;
}

}  // namespace leakguard
