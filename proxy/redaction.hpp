// Redaction in place: every located identifier masked with '*' of the same length, so lengths,
// offsets and framing stay right. Shared by the HTTP/1.x and HTTP/2 paths.
#pragma once

#include <string>
#include <vector>

#include "common/http_message.hpp"
#include "detectors/finding.hpp"

namespace leakguard {

// Same-length masking of every located identifier in the parts that can be changed in place. Body
// offsets are into the body after transfer decoding; `body` is that decoded body.
void redact_in_place(const std::vector<Finding>& findings, HttpRequestHead& head, std::string& body,
                     std::vector<HttpHeader>& trailers);

}  // namespace leakguard
