// The HeaderMemo must never change a finding. The input is a captured client stream; its requests
// go to two connections, one with a memo and one without: first each header line alone, twice (so
// that every line clean on its own is remembered), then the request itself. Any difference in
// what the two report traps, with one exception: the decoding bounds (decoded bytes, fields,
// buffers) are per request, and lines the memo leaves out take none of them. When the request
// without the memo reaches a bound (a decode_limit anomaly: "the rest was not decoded"), the one
// with the memo decodes more of the rest, so it may report more and other anomalies; then every
// identifier found without the memo must be found with it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz/fuzz_support.hpp"
#include "proxy/http_codec.hpp"
#include "tests/support/findings_text.hpp"

namespace {

bool reached_a_bound(const leakguard::InspectionResult& result) {
  return std::any_of(result.anomalies.begin(), result.anomalies.end(),
                     [](const leakguard::Anomaly& anomaly) { return anomaly.anomaly == "decode_limit"; });
}

// Whether every identifier (kind and value) of `part` is among those of `whole`.
bool identifiers_within(const leakguard::InspectionResult& part, const leakguard::InspectionResult& whole) {
  std::vector<std::pair<leakguard::IdentifierKind, std::string>> found;
  for (const auto& finding : whole.findings) found.emplace_back(finding.kind, finding.value);
  return std::all_of(part.findings.begin(), part.findings.end(), [&](const leakguard::Finding& finding) {
    return std::find(found.begin(), found.end(), std::pair(finding.kind, finding.value)) != found.end();
  });
}

}  // namespace

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
    if (reached_a_bound(b)) {
      if (!identifiers_within(b, a)) __builtin_trap();
    } else if (test::findings_text(a) != test::findings_text(b)) {
      __builtin_trap();
    }
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
