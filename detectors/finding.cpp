#include "detectors/finding.hpp"

#include <algorithm>

#include "common/mask.hpp"

namespace leakguard {

std::string_view to_string(DetectionMethod method) {
  return method == DetectionMethod::known ? "known" : "heuristic";
}

std::string_view to_string(RequestPart part) {
  switch (part) {
    case RequestPart::target: return "target";
    case RequestPart::header: return "header";
    case RequestPart::body: return "body";
    case RequestPart::trailer: return "trailer";
    case RequestPart::stream: return "stream";
  }
  return "body";
}

std::vector<std::string> secrets_of(const Finding& finding) {
  std::vector<std::string> out;
  out.push_back(finding.value);
  for (const auto& text : finding.matched) out.push_back(text);
  return out;
}

std::vector<std::string> secrets_of(const InspectionResult& result) {
  std::vector<std::string> out;
  for (const auto& finding : result.findings)
    for (auto& secret : secrets_of(finding)) out.push_back(std::move(secret));
  // Longest first, so that a value is masked whole before a shorter text inside it is looked for.
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

nlohmann::json finding_event_fields(const Finding& finding, const std::vector<std::string>& extra_secrets) {
  std::vector<std::string> secrets = secrets_of(finding);
  secrets.insert(secrets.end(), extra_secrets.begin(), extra_secrets.end());
  std::sort(secrets.begin(), secrets.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  nlohmann::json event;
  if (!finding.device.empty()) event["device"] = finding.device;
  event["identifier"] = std::string(to_string(finding.kind));
  event["detector"] = finding.detector;
  event["method_of_detection"] = std::string(to_string(finding.method));
  event["encoding"] = finding.encoding;
  if (!finding.form.empty()) event["form"] = finding.form;
  event["where"] = mask_occurrences(finding.where, secrets);
  event["value"] = mask_value(finding.value);
  if (finding.learned) event["learned"] = true;
  return event;
}

nlohmann::json anomaly_event_fields(const Anomaly& anomaly, const std::vector<std::string>& secrets) {
  nlohmann::json event;
  event["anomaly"] = anomaly.anomaly;
  event["where"] = mask_occurrences(anomaly.where, secrets);
  event["encoding"] = anomaly.encoding;
  if (!anomaly.detail.empty()) event["detail"] = anomaly.detail;
  event["input_bytes"] = anomaly.input_bytes;
  event["output_bytes"] = anomaly.output_bytes;
  return event;
}

}  // namespace leakguard
