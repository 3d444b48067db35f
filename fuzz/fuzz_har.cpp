// HAR files as `leakguard scan` reads them: the reader (simdjson On-Demand, the '}' patch for a cut
// file, entries rebuilt into requests) and then inspection of every request. Nothing in the input
// may crash it; the entries it reports must add up and each request must be one the proxy could
// have built (no pseudo-header, a Host first or present, a body within the bound).
#include <cstddef>
#include <cstdint>
#include <string>

#include "capture/har_reader.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leakguard;
  constexpr std::size_t max_body = 64 << 10;
  std::string bytes(reinterpret_cast<const char*>(data), size);
  const std::string before = bytes;
  LearnedValues learned;
  const InspectionContext context = fuzz::context(learned);
  std::size_t delivered = 0;
  std::size_t next_index = 0;
  std::size_t bad = 0;
  const HarReadResult result = read_har(
      bytes, max_body,
      [&](HarRequest&& entry) {
        if (entry.index < next_index) __builtin_trap();  // file order
        next_index = entry.index + 1;
        ++delivered;
        const auto& request = entry.request;
        if (request.body.size() > max_body || request.head.method.empty() || !request.head.header("host") ||
            entry.host.empty())
          __builtin_trap();
        if (!request.head.target.starts_with('/')) __builtin_trap();
        for (const auto& header : request.head.headers)
          if (header.name.starts_with(':')) __builtin_trap();
        InspectionResult inspected;
        fuzz::inspector().inspect_request(request, context, inspected);
        fuzz::check(inspected);
      },
      [&](std::size_t index, std::string_view reason) {
        if (index < next_index || reason.empty()) __builtin_trap();
        next_index = index + 1;
        ++bad;
      });
  if (bytes != before) __builtin_trap();  // the padding and the cut's patch are taken back
  if (delivered + bad != result.entries || bad != result.bad_entries) __builtin_trap();
  if (!result.is_har && (result.entries != 0 || result.error)) __builtin_trap();
  return 0;
}
