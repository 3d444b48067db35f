// The HeaderMemo must never change a finding. The input is a captured client stream; its requests
// go to two connections, one with a memo and one without: first each header line alone, twice (so
// that every line clean on its own is remembered), then the request itself. Any difference in
// what the two report traps.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_support.hpp"
#include "proxy/http_codec.hpp"

namespace {

using namespace leakguard;

std::string summary(const InspectionResult& result) {
  std::string out;
  for (const auto& f : result.findings) {
    out += std::string(to_string(f.kind)) + '|' + std::string(to_string(f.method)) + '|' + f.encoding + '|' + f.form +
           '|' + f.where + '|' + f.value + (f.learned ? "|learned" : "");
    for (const auto& l : f.locations)
      out += '|' + std::to_string(l.header_index) + ':' + std::to_string(l.offset) + '+' + std::to_string(l.length);
    out += '\n';
  }
  for (const auto& a : result.anomalies) out += a.anomaly + '|' + a.encoding + '\n';
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
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
    if (summary(a) != summary(b)) __builtin_trap();
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
