// An HTTP/1.x request as the codec (proxy/http_codec.hpp) parsed it: the types that cross from the
// data path to the detectors. The head keeps header names, order and case exactly as sent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace leakguard {

struct HttpHeader {
  std::string name;
  std::string value;
};

struct HttpRequestHead {
  std::string method;
  std::string target;  // as sent: origin-form "/p?q", absolute-form "http://h/p", authority "h:443"
  int version_major = 1;
  int version_minor = 1;
  std::vector<HttpHeader> headers;

  // First header with this name (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
  std::string_view host() const;  // Host header, or the authority of an absolute-form target
};

// A whole request for inspection: the head plus the body after transfer decoding (chunked framing
// removed) but before content decoding (gzip/br stay compressed: the detectors decode them).
struct HttpRequest {
  HttpRequestHead head;
  std::string body;
  bool body_truncated = false;  // the body was longer than the inspection limit
  std::vector<HttpHeader> trailers;
};

}  // namespace leakguard
