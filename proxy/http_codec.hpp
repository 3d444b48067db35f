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
#include "proxy/request_framing.hpp"  // find_ambiguous_framing(), is_valid_host_authority()

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
// The whole stream at once (CapturedRequestParser below, fed once and finished).
CapturedRequests parse_captured_requests(std::string_view bytes, std::size_t max_body_bytes);

}  // namespace leakguard

namespace leakguard {

// Why a message was refused, mapped by the proxy to a status code.
enum class HttpParseError {
  none,
  malformed,        // 400: not valid HTTP/1.x
  ambiguous_framing,// 400: a request-smuggling shape (duplicate/invalid Content-Length, odd TE, ...)
  head_too_large,   // 431 (requests) / 502 (responses)
};

// One direction of an HTTP/1.x connection. `parse()` consumes bytes until the next boundary
// (head complete, message complete, upgrade) so the caller can act between messages — hold a
// request for inspection, switch to a raw relay after 101 — and forward the raw bytes it was
// given. Decoded body data (chunk framing removed) is reported as spans into the input.
class HttpStreamParser {
 public:
  enum class Direction { request, response };
  enum class Boundary {
    need_more,         // all input consumed, no boundary reached
    head_complete,     // head() is ready; the body (if any) follows
    message_complete,  // the current message ended
    upgrade,           // message complete and the connection leaves HTTP (CONNECT, 101)
    error,             // error() says why; the connection must close
  };
  struct Step {
    Boundary boundary = Boundary::need_more;
    std::size_t consumed = 0;                   // bytes of the input that belong to what was parsed
    std::vector<std::string_view> body_chunks;  // decoded body data inside the consumed bytes
  };

  HttpStreamParser(Direction direction, std::size_t max_head_bytes);
  ~HttpStreamParser();
  HttpStreamParser(const HttpStreamParser&) = delete;
  HttpStreamParser& operator=(const HttpStreamParser&) = delete;

  Step parse(std::string_view input);
  // The peer closed: a response delimited by end-of-stream completes here.
  Step finish();

  // Responses: the request this response answers was HEAD (or the request was CONNECT).
  void set_request_method(std::string_view method);

  const HttpRequestHead& head() const { return head_; }  // requests: the parsed head
  HttpRequestHead take_head() {  // the same, moved out at head_complete; head() is then empty
    HttpRequestHead out = std::move(head_);
    head_ = {};
    return out;
  }
  int status_code() const { return status_code_; }       // responses
  const std::vector<HttpHeader>& trailers() const { return trailers_; }
  bool keep_alive() const { return keep_alive_; }
  bool chunked() const { return chunked_; }
  bool has_body() const { return has_body_; }
  HttpParseError error() const { return error_; }
  const std::string& error_reason() const { return error_reason_; }

  // Implementation detail shared with the llhttp callbacks in http_codec.cpp.
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  HttpRequestHead head_;
  std::vector<HttpHeader> trailers_;
  int status_code_ = 0;
  bool keep_alive_ = true;
  bool chunked_ = false;
  bool has_body_ = false;
  HttpParseError error_ = HttpParseError::none;
  std::string error_reason_;
  friend struct Impl;
};

// A captured client-to-server stream split into requests as its bytes arrive (a packet capture's
// reassembled flow): llhttp keeps the parse state, so nothing of the input is held but the body of
// the request in progress, and that only up to `max_body_bytes`.
// Bytes of unfinished request bodies that every parser sharing it may hold at once: a packet
// capture has thousands of flows, each possibly in the middle of a large body. Past it a body is
// cut as max_body_bytes cuts it (body_truncated), and `bodies_cut` counts it.
struct BodyBudget {
  std::size_t left = 0;
  std::uint64_t bodies_cut = 0;
};

class CapturedRequestParser {
 public:
  explicit CapturedRequestParser(std::size_t max_body_bytes, BodyBudget* budget = nullptr);
  ~CapturedRequestParser();
  CapturedRequestParser(const CapturedRequestParser&) = delete;
  CapturedRequestParser& operator=(const CapturedRequestParser&) = delete;
  // Parses the next bytes; each request completed by them is appended to `out`. Returns how many
  // bytes belong to HTTP: fewer than given when parsing stopped (an error, or an upgrade such as
  // CONNECT), and nothing more is parsed after that; the caller owns the rest.
  std::size_t feed(std::string_view bytes, std::vector<HttpRequest>& out);
  // End of the stream (or a gap in it): a request cut short is appended with body_truncated, and
  // error() says so.
  void finish(std::vector<HttpRequest>& out);
  bool stopped() const { return stopped_; }
  bool in_request() const { return in_message_; }  // a request has begun and is not complete
  const std::optional<std::string>& error() const { return error_; }

 private:
  // The request in progress is done (handed out or dropped): its body's bytes go back to the budget.
  void release_body();

  std::unique_ptr<HttpStreamParser> parser_;
  std::size_t max_body_bytes_;
  BodyBudget* budget_;
  std::size_t charged_ = 0;  // of budget_, for current_'s body
  HttpRequest current_;
  bool in_message_ = false;
  bool stopped_ = false;
  std::optional<std::string> error_;
};

// What changes between the head a client sent and the head that goes upstream. Applied while
// serialising, so the client's head (which inspection reads) is neither changed nor copied.
struct UpstreamRewrite {
  // Explicit proxying: the origin-form target, and the authority of the absolute-form target as
  // Host (RFC 9112 section 3.2.2), replacing the client's Host in place or added first when it
  // sent none; Proxy-Connection (hop-by-hop, never for an origin) dropped. Empty: unchanged.
  std::string_view target;
  std::string_view host;
  bool drop_expect = false;  // we answered 100 Continue ourselves: the origin must not answer again
};

// Serialises a request head for upstream: header names, order and case as received.
std::string serialize_request_head(const HttpRequestHead& head, const UpstreamRewrite& rewrite = {});

// "host:port" / "[v6]:port" / "host" (the default port). False when malformed.
bool split_authority(std::string_view authority, std::uint16_t default_port, std::string& host, std::uint16_t& port);

// Whether these first bytes can be the HTTP/2 client connection preface ("PRI * HTTP/2.0...").
bool looks_like_h2_preface(std::string_view first_bytes);

}  // namespace leakguard
