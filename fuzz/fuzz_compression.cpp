// gzip, deflate and br on arbitrary bytes: the first byte picks the codec, output never passes the
// bound, and the status says when the bound was hit.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "detectors/decoders/compression.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leakguard::decoders;
  if (size < 1) return 0;
  static constexpr Compression codecs[] = {Compression::gzip, Compression::deflate, Compression::brotli};
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t bound = 1 << 18;
  std::string out;
  const DecompressStatus status = decompress(codecs[data[0] % 3], input, out, bound);
  if (out.size() > bound) __builtin_trap();
  if (status == DecompressStatus::output_limit && out.size() != bound) __builtin_trap();
  return 0;
}
