// Percent-decoding and its offset map: decoding never grows the text, and every decoded offset
// maps to a raw offset inside the input, in order.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "detectors/decoders/url.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leakguard::decoders;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string out;
  const std::size_t escapes = percent_decode(text, out);
  if (out.size() + 2 * escapes != text.size()) __builtin_trap();
  if ((escapes > 0) != has_percent_escape(text)) __builtin_trap();
  // The map is O(n) per offset: nine samples, both ends among them, cost about as much as the
  // decoding itself, so long runs reach their millions of executions.
  std::size_t previous = 0;
  for (std::size_t k = 0; k <= 8; ++k) {
    const std::size_t raw = raw_offset_of_decoded(text, out.size() * k / 8);
    if (raw > text.size() || raw < previous) __builtin_trap();
    previous = raw;
  }
  return 0;
}
