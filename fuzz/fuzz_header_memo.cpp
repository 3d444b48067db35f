// The HeaderMemo must never change a finding. The input is a captured client stream; its requests
// go to two connections, one with a memo and one without: first each header line alone, twice (so
// that every line clean on its own is remembered), then the request itself. Any difference in
// what the two report traps.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_support.hpp"
#include "proxy/http_codec.hpp"
#include "tests/support/findings_text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leakguard;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Each arm learns what it finds; both must learn the same, so each keeps its own store.
  static LearnedValues learned_with, learned_without;
  HeaderMemo memo;
  InspectionContext with;
  with.device = &fuzz::inspector().config().devices.front();
  with.learned = &learned_with;
  with.header_memo = &memo;
  InspectionContext without = with;
  without.learned = &learned_without;
  without.header_memo = nullptr;
  const auto send = [&](const HttpRequest& request) {
    InspectionResult a, b;
    fuzz::inspector().inspect_request(request, with, a);
    fuzz::inspector().inspect_request(request, without, b);
    fuzz::check(a);
    if (test::findings_text(a) != test::findings_text(b)) __builtin_trap();
  };
  const auto captured = parse_captured_requests(bytes, 1 << 20);
  for (const auto& request : captured.requests) {
    for (const auto& header : request.head.headers) {
      HttpRequest alone;
      alone.head.method = "GET";
      alone.head.target = "/";
      alone.head.headers = {header};
      send(alone);
      send(alone);
    }
    send(request);
  }
  return 0;
}
