// Percent-decoding and its offset maps: decoding never grows the text; PercentOffsets maps every
// decoded byte to the raw bytes it came from (one byte equal to it, or a %XX escape of it), and
// agrees with raw_offset_of_decoded, the one-offset walk.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "detectors/decoders/url.hpp"

namespace {
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  __builtin_trap();  // the map said escape where there is none
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leakguard::decoders;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string out;
  const std::size_t escapes = percent_decode(text, out);
  if (out.size() + 2 * escapes != text.size()) __builtin_trap();
  if ((escapes > 0) != has_percent_escape(text)) __builtin_trap();

  PercentOffsets offsets;
  offsets.index(text);
  if (offsets.raw_offset(out.size()) != text.size() || offsets.raw_offset(out.size() + 5) != text.size()) __builtin_trap();
  for (std::size_t d = 0; d < out.size(); ++d) {
    const std::size_t raw = offsets.raw_offset(d);
    const std::size_t width = offsets.raw_offset(d + 1) - raw;
    if (width == 1) {
      if (text[raw] != out[d]) __builtin_trap();
    } else if (width == 3) {
      if (text[raw] != '%' || hex_digit(text[raw + 1]) * 16 + hex_digit(text[raw + 2]) != static_cast<unsigned char>(out[d]))
        __builtin_trap();
    } else {
      __builtin_trap();
    }
  }
  // The walk is O(n) per offset: nine samples, both ends among them, cost about as much as the
  // decoding itself, so long runs reach their millions of executions.
  for (std::size_t k = 0; k <= 8; ++k) {
    const std::size_t decoded = out.size() * k / 8;
    if (raw_offset_of_decoded(text, decoded) != offsets.raw_offset(decoded)) __builtin_trap();
  }
  return 0;
}
