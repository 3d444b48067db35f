// The request decoder as `leakguard scan` drives it: the input is a captured client stream, split
// into HTTP requests by the codec, each inspected whole (every decoding layer, both detectors),
// the rest scanned as a raw stream. Nothing in the input may crash it or make it allocate
// without bound; byte locations must point inside the request.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_support.hpp"
#include "proxy/http_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leakguard;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  LearnedValues learned;
  const InspectionContext context = fuzz::context(learned);
  const auto captured = parse_captured_requests(bytes, 1 << 20);
  for (const auto& request : captured.requests) {
    InspectionResult result;
    fuzz::inspector().inspect_request(request, context, result);
    fuzz::check(result);
    for (const auto& finding : result.findings)
      for (const auto& location : finding.locations) {
        std::size_t limit = 0;
        switch (location.part) {
          case RequestPart::target: limit = request.head.target.size(); break;
          case RequestPart::header: limit = location.header_index < request.head.headers.size()
                                                ? request.head.headers[location.header_index].value.size()
                                                : 0; break;
          case RequestPart::trailer: limit = location.header_index < request.trailers.size()
                                                 ? request.trailers[location.header_index].value.size()
                                                 : 0; break;
          case RequestPart::body: limit = request.body.size(); break;
          case RequestPart::stream: limit = 0; break;
        }
        if (location.offset + location.length > limit) __builtin_trap();
      }
  }
  if (!captured.remainder.empty()) {
    RawStreamScanner scanner = fuzz::inspector().raw_stream_scanner();
    InspectionResult result;
    scanner.feed(captured.remainder, context, result);
    scanner.finish(context, result);
    fuzz::check(result);
  }
  return 0;
}
