// Protobuf wire bytes built by hand for tests, benchmarks and fuzz seeds (no libprotobuf: the
// detector never sees a schema either). tests/data/protobuf/generate.py builds the same shapes in
// Python for the labelled cases.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>

namespace leakguard::test::pb {

inline std::string varint(std::uint64_t value) {
  std::string out;
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
  return out;
}

inline std::uint64_t zigzag(std::int64_t value) {
  return (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
}

inline std::string tag(std::uint32_t field, int wire) { return varint((std::uint64_t{field} << 3) | wire); }

inline std::string number(std::uint32_t field, std::uint64_t value) { return tag(field, 0) + varint(value); }

inline std::string bytes(std::uint32_t field, std::string_view content) {
  return tag(field, 2) + varint(content.size()) + std::string(content);
}

inline std::string little_endian(std::uint64_t value, int size) {
  std::string out;
  for (int i = 0; i < size; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
  return out;
}

inline std::string fixed64(std::uint32_t field, std::uint64_t value) { return tag(field, 1) + little_endian(value, 8); }
inline std::string fixed32(std::uint32_t field, std::uint32_t value) { return tag(field, 5) + little_endian(value, 4); }
inline std::string double_field(std::uint32_t field, double value) { return fixed64(field, std::bit_cast<std::uint64_t>(value)); }
inline std::string float_field(std::uint32_t field, float value) { return fixed32(field, std::bit_cast<std::uint32_t>(value)); }

// A "protobuf array" element: varint length, then the message.
inline std::string delimited(std::string_view message) { return varint(message.size()) + std::string(message); }

// A gRPC frame: flags (1 compressed, 0x80 gRPC-web trailers), big-endian length, message.
inline std::string grpc_frame(std::string_view message, bool compressed = false, bool trailers = false) {
  std::string out(1, static_cast<char>((compressed ? 1 : 0) | (trailers ? 0x80 : 0)));
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(message.size() >> shift));
  return out + std::string(message);
}

}  // namespace leakguard::test::pb
