#include "app/scan_output.hpp"

#include <cstdio>

#include "common/mask.hpp"
#include "events/event_log.hpp"

namespace leakguard {
namespace {

void write_line(const nlohmann::ordered_json& event) {
  std::string line = event.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stdout);
}

}  // namespace

std::string request_url(const HttpRequestHead& head, bool https) {
  if (!head.target.empty() && head.target.front() == '/')
    return (https ? "https://" : "http://") + std::string(head.host()) + head.target;
  return head.target;
}

void ScanOutput::report(const InspectionResult& result, std::string_view transport, const HttpRequestHead* head,
                        const ScanOrigin* origin) {
  const std::vector<std::string> secrets = secrets_of(result);
  for (const auto& finding : result.findings) {
    nlohmann::ordered_json event = start("finding", transport, head, origin, secrets);
    const nlohmann::json fields = finding_event_fields(finding, secrets);
    // design.md order first, then the extras.
    for (const char* key : {"device", "identifier", "detector", "method_of_detection", "encoding", "where", "value",
                            "form", "learned"})
      if (fields.contains(key)) event[key] = fields[key];
    write_line(event);
  }
  for (const auto& anomaly : result.anomalies) {
    nlohmann::ordered_json event = start("anomaly", transport, head, origin, secrets);
    const nlohmann::json fields = anomaly_event_fields(anomaly, secrets);
    for (const char* key : {"anomaly", "where", "encoding", "detail", "input_bytes", "output_bytes"})
      if (fields.contains(key)) event[key] = fields[key];
    write_line(event);
  }
  if (!result.empty()) found_ = true;
}

nlohmann::ordered_json ScanOutput::start(const char* type, std::string_view transport, const HttpRequestHead* head,
                                         const ScanOrigin* origin, const std::vector<std::string>& secrets) const {
  nlohmann::ordered_json event;
  event["type"] = type;
  event["ts"] = origin && !origin->ts.empty() ? origin->ts : rfc3339_now();
  event["source"] = source_;
  if (origin) {
    if (!origin->client.empty()) event["client"] = origin->client;
    // A HAR entry may name its host without the address it reached.
    if (!origin->dst_ip.empty() || !origin->dst_host.empty()) {
      nlohmann::ordered_json dst;
      if (!origin->dst_ip.empty()) dst["ip"] = origin->dst_ip;
      if (origin->dst_port != 0) dst["port"] = origin->dst_port;
      if (!origin->dst_host.empty()) {
        dst["host"] = mask_occurrences(origin->dst_host, secrets);
        if (!origin->dst_host_source.empty()) dst["host_source"] = origin->dst_host_source;
      }
      event["dst"] = std::move(dst);
    }
  }
  event["transport"] = std::string(transport);
  if (head) {
    event["method"] = head->method;
    event["url"] = mask_occurrences(request_url(*head, transport == "https"), secrets);
  }
  return event;
}

}  // namespace leakguard
