// Hex decoding and the hex-of-text sniff: round trip, and the sniff never accepts what does not
// decode to printable ASCII.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "detectors/decoders/hex.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leakguard::decoders;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string out;
  if (hex_decode(text, out) && out.size() * 2 != text.size()) __builtin_trap();
  if (looks_like_hex_text(text, 2)) {
    std::string decoded;
    if (!hex_decode(text, decoded)) __builtin_trap();
    for (const char c : decoded)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7f) __builtin_trap();
  }
  std::string round;
  if (!hex_decode(hex_encode(text, size % 2), round) || round != text) __builtin_trap();
  return 0;
}
