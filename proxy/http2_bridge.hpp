// HTTP/2 on both legs of an intercepted connection (issue 14), with no I/O: a libnghttp2 server
// session towards the phone, a client session towards the origin, and one Http2Exchange per client
// stream that pairs it with its stream on the origin leg (never the same id: streams may reach the
// origin in another order, or not at all). Bytes go in with feed_*() and come out of take_*_output();
// the session's coroutines (http2_session.cpp) only move them. Every decision about a request is the
// caller's (Http2Hooks): the bridge holds, forwards, answers or resets streams as told.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/http_message.hpp"
#include "proxy/byte_queue.hpp"

struct nghttp2_session;
struct nghttp2_option;

namespace leakguard {

struct Http2Limits {
  std::size_t max_inspect_bytes = 1024 * 1024;  // request bytes held (block mode) or copied for inspection
  std::size_t max_header_list_bytes = 64 * 1024;  // decoded size of one header block (RFC 9113 6.5.2)
  std::size_t max_header_fields = 256;            // fields in one header block
  std::uint32_t max_concurrent_streams = 100;     // what the phone may open at once
  // Flow-control windows we grant each peer: what either leg can make us buffer for the other one.
  std::int32_t stream_window = 256 * 1024;
  std::int32_t connection_window = 1024 * 1024;
  std::size_t output_chunk = 64 * 1024;  // bytes serialised per take_*_output() call, at most
  bool hold_requests = false;            // block/redact policy: a stream goes upstream only once judged
};

struct Http2Field {
  std::string name;
  std::string value;
};

// One client stream and what became of it. `request` is what the detectors see: method, target
// (:path), a `host` header from :authority first, then the regular fields in order with cookie
// crumbs joined (RFC 9113 8.2.3), version 2.0; body up to max_inspect_bytes; trailers.
struct Http2Exchange {
  using Clock = std::chrono::steady_clock;

  std::int32_t client_stream = 0;
  std::int32_t upstream_stream = 0;  // 0 until submitted to the origin
  HttpRequest request;
  std::string scheme;
  std::string authority;
  std::string url;  // scheme://authority/path, for events
  bool grpc = false;
  int status = 0;    // the final response status the client got (ours or the origin's)
  std::uint64_t request_bytes = 0;   // DATA bytes from the client
  std::uint64_t response_bytes = 0;  // DATA bytes to the client
  Clock::time_point started = Clock::now();
  std::optional<Clock::time_point> first_response_byte;
  enum class Outcome { forwarded, blocked, reset, refused };
  Outcome outcome = Outcome::forwarded;
  std::vector<std::string> secrets;   // identifier texts found in this request: masked in its events
  std::uint32_t reset_code = 0;       // RST_STREAM error code when the stream was reset

  // --- the bridge's own state ---
  bool head_complete = false;
  bool request_ended = false;
  bool held = false;              // waiting for the verdict: nothing of it went upstream
  bool judged = false;            // inspected (the verdict is in)
  bool discard_request = false;   // answered by us: further DATA is dropped
  bool answered = false;          // a response (ours or the origin's) was submitted to the client
  bool response_ended = false;
  bool client_closed = false;
  bool upstream_closed = false;
  bool in_trailers = false;
  std::size_t header_bytes = 0;   // of the header block being received
  std::size_t header_fields = 0;
  std::vector<Http2Field> cookie_crumbs;
  ByteQueue to_upstream;          // request DATA waiting for the origin's window
  std::size_t to_upstream_consumed = 0;  // its leading bytes already credited to the client
  ByteQueue to_client;            // response DATA waiting for the phone's window
  std::vector<Http2Field> response_head;
  std::vector<Http2Field> response_trailers;
  bool response_in_trailers = false;
};

std::string_view to_string(Http2Exchange::Outcome outcome);

// What the caller decides about a stream.
struct Http2Verdict {
  enum class Kind { forward, block, redact };
  Kind kind = Kind::forward;
  std::string reason;           // block: why (403 body text, grpc-message)
  HttpRequest redacted;         // redact: what goes upstream instead (same lengths)
  bool rest_uninspected = false;  // forward after oversize: stream the rest without holding
};

class Http2Hooks {
 public:
  virtual ~Http2Hooks() = default;
  // The head is complete; nothing of the stream has gone upstream. Block refuses it now (a
  // forbidden destination); forward lets it go on (held or not, as the limits say).
  virtual Http2Verdict on_request_head(Http2Exchange& exchange) = 0;
  // The request ended, or (request.body_truncated) its held bytes passed max_inspect_bytes.
  // Called once per stream. In log mode the request is already on its way: only events matter.
  virtual Http2Verdict on_request_inspected(Http2Exchange& exchange) = 0;
  // The client stream closed: the `http` event.
  virtual void on_exchange_end(const Http2Exchange& exchange) = 0;
  // A protocol violation or a flood; `error` is a stable name (h2_flood, h2_protocol_error, ...).
  virtual void on_error(std::string_view error, std::string_view detail) = 0;
};

class Http2Bridge {
 public:
  Http2Bridge(Http2Hooks& hooks, const Http2Limits& limits);
  ~Http2Bridge();
  Http2Bridge(const Http2Bridge&) = delete;
  Http2Bridge& operator=(const Http2Bridge&) = delete;

  // Bytes from the phone / the origin. False when that leg is finished (a fatal protocol error or
  // flood: GOAWAY is queued for it, and the connection should end once the output is written).
  bool feed_client(std::string_view bytes);
  bool feed_upstream(std::string_view bytes);
  // Serialised frames for each leg, up to output_chunk bytes; empty when there is nothing to send.
  std::string_view take_client_output();
  std::string_view take_upstream_output();

  // The origin's connection ended: streams it had not answered are reset, the phone is told to go
  // elsewhere for new ones (GOAWAY).
  void upstream_gone();
  // Graceful shutdown: GOAWAY to the phone; streams in flight finish.
  void shut_down();

  // Nothing more to do on the phone's leg (both sides said GOAWAY and every stream is over, or a
  // fatal error).
  bool client_done() const;
  bool upstream_done() const;
  std::size_t open_exchanges() const { return exchanges_.size(); }

 private:
  struct Callbacks;

  Http2Exchange* exchange_for_client(std::int32_t stream);
  void request_head_done(Http2Exchange& exchange);
  void request_ended(Http2Exchange& exchange);
  void judge(Http2Exchange& exchange);
  void submit_upstream(Http2Exchange& exchange);
  void answer_blocked(Http2Exchange& exchange, const std::string& reason);
  void submit_client_response(Http2Exchange& exchange);
  void reset_client(Http2Exchange& exchange, std::uint32_t code);
  void client_stream_closed(std::int32_t stream, std::uint32_t code);
  void upstream_stream_closed(Http2Exchange& exchange, std::uint32_t code);
  void forget_if_done(Http2Exchange& exchange);
  void connection_error(std::string_view error, std::string detail, std::uint32_t code);
  void report_once(std::string_view error, std::string_view detail);
  bool take_control_frame_token();

  Http2Hooks& hooks_;
  Http2Limits limits_;
  nghttp2_session* client_leg_ = nullptr;    // server role: towards the phone
  nghttp2_session* upstream_leg_ = nullptr;  // client role: towards the origin
  std::unordered_map<std::int32_t, std::unique_ptr<Http2Exchange>> exchanges_;  // by client stream
  std::string client_output_;
  std::string upstream_output_;
  bool client_failed_ = false;
  bool upstream_failed_ = false;
  bool upstream_gone_ = false;
  // Counters for the floods libnghttp2 1.52 does not bound itself (see the options builder).
  std::uint32_t empty_frames_ = 0;
  std::uint32_t priority_frames_ = 0;
  std::uint32_t premature_resets_ = 0;
  double control_tokens_ = 1000;  // PING/SETTINGS token bucket (see the .cpp)
  Http2Exchange::Clock::time_point control_tokens_at_ = Http2Exchange::Clock::now();
  std::vector<std::string> reported_;  // error names already reported for this connection
};

}  // namespace leakguard
