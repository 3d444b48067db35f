// Base64 decoding of arbitrary text within an output bound, and the encode/decode round trip for
// both alphabets, padded or not.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "detectors/decoders/base64.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leakguard::decoders;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string out;
  if (base64_decode(text, out, 1 << 16) && out.size() > text.size()) __builtin_trap();
  looks_like_base64(text);
  for (bool url : {false, true})
    for (bool pad : {false, true}) {
      std::string decoded;
      if (!base64_decode(base64_encode(text, url, pad), decoded) || decoded != text) __builtin_trap();
    }
  return 0;
}
