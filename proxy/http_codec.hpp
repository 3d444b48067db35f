// HTTP/1.x request and response parsing on llhttp, shared by the live proxy (streaming, one
// message at a time, raw bytes forwarded as received) and `leakguard scan` (a captured stream).
// No I/O here: callers feed bytes and get back how many were consumed and what was found.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/http_message.hpp"

namespace leakguard {

// True when `first_bytes` start like an HTTP/1.x request line ("GET ", "POST ", "CONNECT ", ...).
// With fewer bytes than a method name it answers for the prefix it has.
bool looks_like_http_request(std::string_view first_bytes);

// A captured client-to-server stream split into requests. Parsing stops at the first byte that is
// not HTTP/1.x; `remainder` holds the unparsed tail (the whole input for a non-HTTP payload).
struct CapturedRequests {
  std::vector<HttpRequest> requests;
  std::string_view remainder;
  std::optional<std::string> error;  // why parsing stopped early, when it did
};
CapturedRequests parse_captured_requests(std::string_view bytes, std::size_t max_body_bytes);

}  // namespace leakguard
