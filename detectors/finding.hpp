// What the detectors report. A Finding names the identifier kind, the form and the place it was
// found in; it also carries the raw value and matched text so that the event writer can mask them
// inside request text (url, where) — those raw strings must never reach any output themselves.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/identifier_kind.hpp"

namespace leakguard {

// `known`: a value from the device profile (or learned during the run); `heuristic`: format,
// checksum and context, no profile needed. The spelling is part of the event contract.
enum class DetectionMethod { known, heuristic };
std::string_view to_string(DetectionMethod method);

// The parts of a request as sent, for in-place redaction by the policy layer.
enum class RequestPart { target, header, body, trailer, stream };
std::string_view to_string(RequestPart part);

// Bytes [offset, offset + length) of a part hold the matched text as sent, literally or with
// percent-encoding (then `length` counts the encoded bytes). Offsets are into the target string,
// into the value of header `header_index` (head.headers or trailers), into the body as received
// (after transfer decoding), or, for raw streams, from the first byte of the stream.
struct ByteLocation {
  RequestPart part = RequestPart::body;
  std::size_t header_index = 0;
  std::uint64_t offset = 0;
  std::size_t length = 0;
  bool operator==(const ByteLocation&) const = default;
};

struct Finding {
  IdentifierKind kind = IdentifierKind::imei;
  std::string detector;                      // registry name: "known_identifiers", "heuristics"
  DetectionMethod method = DetectionMethod::known;
  std::string encoding;                      // layers outermost first, then the transform: "base64>json", "sha1"
  std::string form;                          // value variant when not canonical: "no-check-digit", "national", ...
  std::string where;                         // "query:imei", "header:x-device-id", "body.json:IMEI1" (raw: mask!)
  std::string masked_value;                  // mask_value(value): the only form of the value fit for output
  std::string device;                        // device profile name; empty without a profile
  bool learned = false;                      // the value was learned from a heuristic finding earlier in the run
  std::string value;                         // RAW identifier value: never print
  std::vector<std::string> matched;          // RAW literal texts that matched (hash, fragment): never print
  std::vector<ByteLocation> locations;       // where `matched` sits in the request as sent; empty when it
                                             // exists only after decoding (gzip, base64, JSON escapes)
};

// Something wrong with the traffic itself rather than an identifier: a decompression bomb, a
// decoding bound reached. Not an IdentifierKind (that enum is a contract of identifier kinds); it
// becomes an event of type "anomaly".
struct Anomaly {
  std::string anomaly;   // "decompression_bomb", "decode_limit"
  std::string where;     // "body"
  std::string encoding;  // "gzip", "base64>gzip"
  std::string detail;
  std::uint64_t input_bytes = 0;
  std::uint64_t output_bytes = 0;
};

struct InspectionResult {
  std::vector<Finding> findings;
  std::vector<Anomaly> anomalies;
  bool empty() const { return findings.empty() && anomalies.empty(); }
  void clear() {
    findings.clear();
    anomalies.clear();
  }
};

// Every raw string of `result` that output must not show; feed it to mask_occurrences for url,
// where, header excerpts.
std::vector<std::string> secrets_of(const InspectionResult& result);
std::vector<std::string> secrets_of(const Finding& finding);

// The identifier fields of a design.md finding event (identifier, detector, method_of_detection,
// encoding, where, value, device, learned, form), with `where` masked by the finding's own secrets
// and `extra_secrets`. Connection fields (flow, client, dst, url, ...) are the caller's.
nlohmann::json finding_event_fields(const Finding& finding, const std::vector<std::string>& extra_secrets = {});
// The fields of an "anomaly" event (anomaly, where, encoding, detail, input_bytes, output_bytes).
nlohmann::json anomaly_event_fields(const Anomaly& anomaly, const std::vector<std::string>& secrets = {});

}  // namespace leakguard
