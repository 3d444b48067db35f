// A body under every Content-Type and Content-Encoding the decoder knows, without the HTTP codec
// in front: the first byte picks them, the rest is the body. Reaches the structural decoders
// (JSON, form, multipart, XML) and the compression layers with fully arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leakguard;
  if (size < 1) return 0;
  static constexpr std::string_view types[] = {"application/json", "application/x-www-form-urlencoded",
                                                "multipart/form-data; boundary=XyZ", "text/xml", "text/plain",
                                                "application/encrypted-json", "application/octet-stream", ""};
  static constexpr std::string_view codings[] = {"", "gzip", "deflate", "br", "gzip, br", "identity", "x-unknown", ""};
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  LearnedValues learned;
  InspectionResult result;
  fuzz::inspector().inspect_body(body, types[data[0] & 7], codings[(data[0] >> 3) & 7], fuzz::context(learned), result);
  fuzz::check(result);
  return 0;
}
