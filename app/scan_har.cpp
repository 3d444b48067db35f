#include "app/scan_har.hpp"

#include <cstdio>

#include "app/scan_stream.hpp"
#include "capture/har_reader.hpp"

namespace leakguard {

bool scan_har(const Inspector& inspector, const std::string& path, std::string& bytes, InspectionContext context,
              ScanOutput& output) {
  const HarReadResult result = read_har(
      bytes, inspector.config().limits.max_inspect_bytes,
      [&](HarRequest&& entry) {
        ScanOrigin origin;
        origin.dst_ip = std::move(entry.server_ip);
        origin.dst_port = entry.port;
        origin.dst_host = std::move(entry.host);
        origin.dst_host_source = "http";
        origin.ts = std::move(entry.started);
        // An https entry was a TLS exchange: reported as the proxy reports a decrypted one.
        context.transport = entry.https ? "https" : "http";
        output.report(inspector.inspect_request(entry.request, context), context.transport, &entry.request.head,
                      &origin);
      },
      [&](std::size_t index, std::string_view reason) {
        std::fprintf(stderr, "leakguard scan: %s: HAR log.entries[%zu] skipped: %.*s\n", path.c_str(), index,
                     static_cast<int>(reason.size()), reason.data());
      });
  if (result.error) {
    std::fprintf(stderr, "leakguard scan: %s: HAR: %s; %zu entries before it were read\n", path.c_str(),
                 result.error->c_str(), result.entries);
    return false;
  }
  if (!result.is_har) {
    std::fprintf(stderr, "leakguard scan: %s: JSON without log.entries, not a HAR: scanned as raw bytes\n",
                 path.c_str());
    std::string problem;
    scan_client_stream(inspector, bytes, context, output, nullptr, &problem);
    if (!problem.empty()) std::fprintf(stderr, "leakguard scan: %s: %s\n", path.c_str(), problem.c_str());
  }
  return result.bad_entries == 0;
}

}  // namespace leakguard
