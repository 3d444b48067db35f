// Base64 decoding of arbitrary text within an output bound, the encode/decode round trip for
// both alphabets, padded or not, and the split of a JWT into its base64url parts.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "detectors/decoders/base64.hpp"
#include "detectors/decoders/jwt.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leakguard::decoders;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string out;
  if (base64_decode(text, out, 1 << 16) && out.size() > text.size()) __builtin_trap();
  looks_like_base64(text);
  if (const auto jwt = jwt_parts(text)) {
    // Both parts lie inside the input, the payload after the header.
    const auto inside = [&](std::string_view part) {
      return part.data() >= text.data() && part.data() + part.size() <= text.data() + text.size();
    };
    if (!inside(jwt->header) || !inside(jwt->payload) || jwt->payload.data() <= jwt->header.data()) __builtin_trap();
  }
  for (bool url : {false, true})
    for (bool pad : {false, true}) {
      std::string decoded;
      if (!base64_decode(base64_encode(text, url, pad), decoded) || decoded != text) __builtin_trap();
    }
  return 0;
}
