// Multipart bodies: the first line names the boundary, the rest is the body; every part's body
// lies inside the input at its offset.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "detectors/decoders/multipart.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leakguard::decoders;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  const std::string content_type = "multipart/form-data; boundary=" + std::string(input.substr(0, newline));
  const std::string_view body = input.substr(newline + 1);
  parse_multipart(body, multipart_boundary(content_type), 1000, [&](const MultipartPart& part) {
    if (part.body_offset + part.body.size() > body.size()) __builtin_trap();
    if (body.substr(part.body_offset, part.body.size()) != part.body) __builtin_trap();
  });
  return 0;
}
