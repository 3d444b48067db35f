// The raw-stream scanner fed in reads whose sizes come from the input: whatever the split, it
// must not crash, and findings must point inside the stream.
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leakguard;
  if (size < 2) return 0;
  const std::size_t step = 1 + data[0] % 97;
  // Every read rescans the overlap: at most 256 reads per input (and 8 KiB) keep tiny reads as fast
  // to fuzz as large ones; long streams are still reached through the larger read sizes.
  const std::size_t length = std::min<std::size_t>({size - 1, 8192, 256 * step});
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, length);
  LearnedValues learned;
  const InspectionContext context = fuzz::context(learned);
  RawStreamScanner scanner = fuzz::inspector().raw_stream_scanner();
  InspectionResult result;
  for (std::size_t offset = 0; offset < stream.size(); offset += step) scanner.feed(stream.substr(offset, step), context, result);
  scanner.finish(context, result);
  fuzz::check(result);
  for (const auto& finding : result.findings)
    for (const auto& location : finding.locations)
      if (location.offset + location.length > stream.size()) __builtin_trap();
  return 0;
}
