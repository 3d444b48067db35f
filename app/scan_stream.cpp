#include "app/scan_stream.hpp"

#include <string>

namespace leakguard {
namespace {

constexpr std::size_t raw_chunk = 64 * 1024;

void scan_raw(const Inspector& inspector, std::string_view bytes, const InspectionContext& context,
              ScanOutput& output, const ScanOrigin* origin) {
  RawStreamScanner scanner = inspector.raw_stream_scanner();
  InspectionResult result;
  // Fed in reads, as the proxy would: the same code path, split identifiers included.
  for (std::size_t offset = 0; offset < bytes.size(); offset += raw_chunk) {
    scanner.feed(bytes.substr(offset, raw_chunk), context, result);
    output.report(result, "tcp", nullptr, origin);
    result.clear();
  }
  scanner.finish(context, result);
  output.report(result, "tcp", nullptr, origin);
}

}  // namespace

void scan_client_stream(const Inspector& inspector, std::string_view bytes, InspectionContext context,
                        ScanOutput& output, const ScanOrigin* origin, std::string* problem) {
  std::string_view raw = bytes;
  if (looks_like_http_request(bytes)) {
    const CapturedRequests captured = parse_captured_requests(bytes, inspector.config().limits.max_inspect_bytes);
    context.transport = "http";
    HeaderMemo memo;  // one stream is one connection's requests, as the proxy sees them
    context.header_memo = &memo;
    for (const auto& request : captured.requests)
      output.report(inspector.inspect_request(request, context), "http", &request.head, origin);
    // Where parsing stopped: a cut request (inspected as far as it goes) or bytes that are not HTTP.
    if (captured.error && problem)
      *problem = *captured.error + " at byte " + std::to_string(bytes.size() - captured.remainder.size()) +
                 (captured.remainder.empty() ? std::string()
                                             : "; the last " + std::to_string(captured.remainder.size()) +
                                                   " bytes are scanned as raw bytes");
    context.header_memo = nullptr;
    raw = captured.remainder;
  }
  if (!raw.empty()) {
    context.transport = "tcp";
    scan_raw(inspector, raw, context, output, origin);
  }
}

}  // namespace leakguard
