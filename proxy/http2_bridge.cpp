// libnghttp2 wiring for the HTTP/2 bridge. Flow control is manual on both legs: bytes received on
// one leg are credited back (nghttp2_session_consume) only when the other leg's DATA source has
// taken them, so a fast phone in front of a slow origin (or the reverse) fills at most the windows
// granted here, never leakguard's memory. A held stream (block mode) is credited as it is buffered,
// up to limits.max_inspect_bytes, since its body must arrive whole before anything goes upstream.
#include "proxy/http2_bridge.hpp"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>

#include "common/ascii.hpp"

namespace leakguard {

namespace {

// Floods and resource loops (CVE-2019-9511..9518, CVE-2023-44487, CVE-2024-27316/28182). The library
// bounds some itself once told to; the rest are counted in the callbacks below.
constexpr std::size_t max_outbound_control_frames = 1000;  // queued PING/SETTINGS ACKs, RSTs (9512, 9515)
constexpr std::size_t max_settings_entries = 32;           // entries in one SETTINGS frame (9515)
constexpr std::size_t max_continuations = 16;              // CONTINUATION frames per header block (2024)
constexpr std::uint64_t reset_burst = 200;                 // incoming RST_STREAM token bucket (44487)
constexpr std::uint64_t resets_per_second = 33;
constexpr std::uint32_t max_empty_frames = 100;            // DATA/HEADERS without payload or END_STREAM (9518)
constexpr std::uint32_t max_priority_frames = 1000;        // PRIORITY frames per connection (9513)
constexpr std::uint32_t max_premature_resets = 100;        // streams reset before any response (44487)
// PING and SETTINGS frames from the phone (9512, 9515). The library bounds the ACKs it has queued,
// but this bridge writes as it reads, so the queue never grows: the frames themselves are what a
// flood is made of. A phone's keep-alive and BDP pings come a few per second at most.
constexpr double control_frame_burst = 1000;
constexpr double control_frames_per_second = 100;

struct OptionDeleter {
  void operator()(nghttp2_option* option) const { nghttp2_option_del(option); }
};
struct CallbacksDeleter {
  void operator()(nghttp2_session_callbacks* callbacks) const { nghttp2_session_callbacks_del(callbacks); }
};

// Every limit set explicitly, in one place, with the attack it answers.
std::unique_ptr<nghttp2_option, OptionDeleter> session_options(bool server) {
  nghttp2_option* raw = nullptr;
  nghttp2_option_new(&raw);
  std::unique_ptr<nghttp2_option, OptionDeleter> option(raw);
  nghttp2_option_set_no_auto_window_update(raw, 1);  // credit follows the slow side (file comment)
  nghttp2_option_set_max_outbound_ack(raw, max_outbound_control_frames);
  nghttp2_option_set_max_settings(raw, max_settings_entries);
  nghttp2_option_set_max_continuations(raw, max_continuations);
  nghttp2_option_set_no_closed_streams(raw, 1);  // no state kept per closed stream (9513)
  if (server) {
    nghttp2_option_set_stream_reset_rate_limit(raw, reset_burst, resets_per_second);
  } else {
    // Until the origin's SETTINGS arrive, assume what most servers allow.
    nghttp2_option_set_peer_max_concurrent_streams(raw, 100);
  }
  return option;
}

std::string_view view(const std::uint8_t* data, std::size_t length) {
  return {reinterpret_cast<const char*>(data), length};
}

nghttp2_nv field(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                    NGHTTP2_NV_FLAG_NONE};
}

template <class Field>  // Http2Field, HttpHeader: anything with a name and a value
std::vector<nghttp2_nv> fields(const std::vector<Field>& list) {
  std::vector<nghttp2_nv> out;
  out.reserve(list.size());
  for (const auto& f : list) out.push_back(field(f.name, f.value));
  return out;
}

// grpc-message is percent-encoded: bytes outside printable ASCII, and '%' itself (gRPC PROTOCOL-HTTP2).
std::string grpc_percent_encode(std::string_view text) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (c >= 0x20 && c <= 0x7e && c != '%') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 15]);
    }
  }
  return out;
}

// Credits received bytes back to the peer once the other leg has taken them: the stream's window
// and the connection's, or only the connection's once the stream is closed. Bytes of a closed
// stream count against the connection window all the same; left uncredited, every response
// finished before the phone read all of it would shrink that window until the origin stopped.
void credit(nghttp2_session* session, std::int32_t stream, bool stream_open, std::size_t n) {
  if (n == 0) return;
  if (stream_open)
    nghttp2_session_consume(session, stream, n);
  else
    nghttp2_session_consume_connection(session, n);
}


}  // namespace

// The C callbacks, as static members so they reach the bridge's private state.
struct Http2Bridge::Callbacks {
  static Http2Bridge& bridge(void* user_data) { return *static_cast<Http2Bridge*>(user_data); }

  static Http2Exchange* upstream_exchange(nghttp2_session* session, std::int32_t stream) {
    return static_cast<Http2Exchange*>(nghttp2_session_get_stream_user_data(session, stream));
  }

  static int on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    auto& self = bridge(user_data);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    if (session == self.client_leg_) {
      if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        auto exchange = std::make_unique<Http2Exchange>();
        exchange->client_stream = frame->hd.stream_id;
        exchange->request.head.version_major = 2;
        exchange->request.head.version_minor = 0;
        nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, exchange.get());
        self.exchanges_[frame->hd.stream_id] = std::move(exchange);
      } else if (auto* exchange = self.exchange_for_client(frame->hd.stream_id)) {
        exchange->in_trailers = true;
        exchange->header_bytes = 0;
        exchange->header_fields = 0;
      }
    } else if (auto* exchange = upstream_exchange(session, frame->hd.stream_id)) {
      exchange->response_in_trailers = frame->headers.cat == NGHTTP2_HCAT_HEADERS && exchange->answered;
      if (!exchange->response_in_trailers) exchange->response_head.clear();
      exchange->header_bytes = 0;
      exchange->header_fields = 0;
    }
    return 0;
  }

  static int on_header(nghttp2_session* session, const nghttp2_frame* frame, const std::uint8_t* name_data,
                       std::size_t name_length, const std::uint8_t* value_data, std::size_t value_length,
                       std::uint8_t, void* user_data) {
    auto& self = bridge(user_data);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    const auto name = view(name_data, name_length);
    const auto value = view(value_data, value_length);
    Http2Exchange* exchange = session == self.client_leg_ ? self.exchange_for_client(frame->hd.stream_id)
                                                          : upstream_exchange(session, frame->hd.stream_id);
    if (!exchange) return 0;
    // The decoded list is capped whatever its compressed size (HPACK bomb), and so is the number of
    // fields (zero-length header flood, CVE-2019-9516). RFC 9113 counts 32 bytes per field.
    exchange->header_bytes += name.size() + value.size() + 32;
    if (++exchange->header_fields > self.limits_.max_header_fields ||
        exchange->header_bytes > self.limits_.max_header_list_bytes) {
      self.report_once(session == self.client_leg_ ? "h2_header_list_too_large" : "h2_upstream_header_list_too_large",
                       "a header block over the field count or decoded size limit: stream reset");
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    if (session == self.client_leg_) {
      auto& request = exchange->request;
      if (exchange->in_trailers) {
        request.trailers.push_back({std::string(name), std::string(value)});
      } else if (name == ":method") {
        request.head.method = value;
      } else if (name == ":path") {
        request.head.target = value;
      } else if (name == ":scheme") {
        exchange->scheme = value;
      } else if (name == ":authority") {
        exchange->authority = value;
      } else if (name == "cookie") {
        exchange->cookie_crumbs.push_back({std::string(name), std::string(value)});
      } else if (name == "host") {
        if (exchange->authority.empty()) exchange->authority = value;
      } else {
        if (name == "content-type" && value.starts_with("application/grpc") &&
            !value.starts_with("application/grpc-web"))
          exchange->grpc = true;
        request.head.headers.push_back({std::string(name), std::string(value)});
      }
    } else {
      auto& list = exchange->response_in_trailers ? exchange->response_trailers : exchange->response_head;
      list.push_back({std::string(name), std::string(value)});
    }
    return 0;
  }

  static int on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    auto& self = bridge(user_data);
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (session == self.client_leg_) {
      if ((frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) && frame->hd.length == 0 &&
          !end_stream && ++self.empty_frames_ > max_empty_frames) {
        self.connection_error("h2_flood", "empty DATA or HEADERS frames without END_STREAM (CVE-2019-9518)",
                              NGHTTP2_ENHANCE_YOUR_CALM);
        return 0;
      }
      if ((frame->hd.type == NGHTTP2_PING || frame->hd.type == NGHTTP2_SETTINGS) &&
          (frame->hd.flags & NGHTTP2_FLAG_ACK) == 0 && !self.take_control_frame_token()) {
        self.connection_error("h2_flood", "PING or SETTINGS flood (CVE-2019-9512/9515)", NGHTTP2_ENHANCE_YOUR_CALM);
        return 0;
      }
      if (frame->hd.type == NGHTTP2_PRIORITY && ++self.priority_frames_ > max_priority_frames) {
        self.connection_error("h2_flood", "PRIORITY frame flood (CVE-2019-9513)", NGHTTP2_ENHANCE_YOUR_CALM);
        return 0;
      }
      auto* exchange = self.exchange_for_client(frame->hd.stream_id);
      if (!exchange) return 0;
      if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        exchange->request_ended = end_stream;  // a bodiless request goes upstream as one HEADERS frame
        self.request_head_done(*exchange);
        exchange = self.exchange_for_client(frame->hd.stream_id);  // a refusal may have closed it
      }
      if (exchange && end_stream && (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA))
        self.request_ended(*exchange);
      return 0;
    }
    auto* exchange = upstream_exchange(session, frame->hd.stream_id);
    if (!exchange) return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && !exchange->response_in_trailers) {
      int status = 0;
      for (const auto& f : exchange->response_head)
        if (f.name == ":status") status = std::atoi(f.value.c_str());
      if (status >= 100 && status < 200) {
        exchange->response_head.clear();  // interim responses are not relayed: the final one follows
        return 0;
      }
      exchange->status = status;
      if (end_stream) exchange->response_ended = true;
      if (!exchange->first_response_byte) exchange->first_response_byte = Http2Exchange::Clock::now();
      self.submit_client_response(*exchange);
    } else if (end_stream && (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA)) {
      exchange->response_ended = true;
      if (exchange->answered) nghttp2_session_resume_data(self.client_leg_, exchange->client_stream);
    }
    return 0;
  }

  static int on_data_chunk(nghttp2_session* session, std::uint8_t, std::int32_t stream, const std::uint8_t* data,
                           std::size_t length, void* user_data) {
    auto& self = bridge(user_data);
    const auto bytes = view(data, length);
    if (session == self.client_leg_) {
      auto* exchange = self.exchange_for_client(stream);
      if (!exchange || exchange->discard_request) {
        nghttp2_session_consume(session, stream, length);
        return 0;
      }
      exchange->request_bytes += length;
      if (exchange->upstream_closed) {  // the origin is done with this stream: nothing to carry
        nghttp2_session_consume(session, stream, length);
        return 0;
      }
      if (!exchange->judged) {  // the copy the detectors will see
        auto& body = exchange->request.body;
        const auto room = self.limits_.max_inspect_bytes - std::min(self.limits_.max_inspect_bytes, body.size());
        if (length > room) exchange->request.body_truncated = true;
        body.append(bytes.substr(0, std::min(room, length)));
      }
      if (exchange->held) {
        // Held until judged: credited now, or the phone could not send the rest of it.
        exchange->to_upstream.append(bytes);
        exchange->to_upstream_consumed += length;
        nghttp2_session_consume(session, stream, length);
        if (exchange->to_upstream.size() > self.limits_.max_inspect_bytes) self.judge(*exchange);
      } else {
        exchange->to_upstream.append(bytes);
        if (exchange->upstream_stream > 0) nghttp2_session_resume_data(self.upstream_leg_, exchange->upstream_stream);
      }
      return 0;
    }
    auto* exchange = upstream_exchange(session, stream);
    if (!exchange || exchange->client_closed) {
      nghttp2_session_consume(session, stream, length);
      return 0;
    }
    exchange->to_client.append(bytes);
    if (exchange->answered) nghttp2_session_resume_data(self.client_leg_, exchange->client_stream);
    return 0;
  }

  static int on_stream_close(nghttp2_session* session, std::int32_t stream, std::uint32_t code, void* user_data) {
    auto& self = bridge(user_data);
    if (session == self.client_leg_) {
      self.client_stream_closed(stream, code);
    } else if (auto* exchange = upstream_exchange(session, stream)) {
      self.upstream_stream_closed(*exchange, code);
    }
    return 0;
  }

  static int on_frame_not_send(nghttp2_session* session, const nghttp2_frame* frame, int, void* user_data) {
    auto& self = bridge(user_data);
    // A request the origin's connection could not take (it said GOAWAY, or ran out of stream ids):
    // the phone may retry it elsewhere.
    if (session == self.upstream_leg_ && frame->hd.type == NGHTTP2_HEADERS) {
      if (auto* exchange = upstream_exchange(session, frame->hd.stream_id)) {
        exchange->upstream_closed = true;
        self.reset_client(*exchange, NGHTTP2_REFUSED_STREAM);
      }
    }
    return 0;
  }

  static int on_invalid_frame(nghttp2_session* session, const nghttp2_frame*, int error, void* user_data) {
    auto& self = bridge(user_data);
    self.report_once(session == self.client_leg_ ? "h2_protocol_error" : "h2_upstream_protocol_error",
                     nghttp2_strerror(error));
    return 0;
  }

  static ssize_t read_request_body(nghttp2_session* session, std::int32_t, std::uint8_t* out, std::size_t length,
                                   std::uint32_t* flags, nghttp2_data_source* source, void* user_data) {
    auto& self = bridge(user_data);
    auto& exchange = *static_cast<Http2Exchange*>(source->ptr);
    const auto n = exchange.to_upstream.take(out, length);
    const auto already = std::min(n, exchange.to_upstream_consumed);
    exchange.to_upstream_consumed -= already;
    credit(self.client_leg_, exchange.client_stream, !exchange.client_closed, n - already);
    if (exchange.to_upstream.empty()) {
      if (!exchange.request_ended) return n > 0 ? static_cast<ssize_t>(n) : static_cast<ssize_t>(NGHTTP2_ERR_DEFERRED);
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (!exchange.request.trailers.empty()) {
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        const auto nva = fields(exchange.request.trailers);
        nghttp2_submit_trailer(session, exchange.upstream_stream, nva.data(), nva.size());
      }
    }
    return static_cast<ssize_t>(n);
  }

  static ssize_t read_response_body(nghttp2_session* session, std::int32_t, std::uint8_t* out, std::size_t length,
                                    std::uint32_t* flags, nghttp2_data_source* source, void* user_data) {
    auto& self = bridge(user_data);
    auto& exchange = *static_cast<Http2Exchange*>(source->ptr);
    const auto n = exchange.to_client.take(out, length);
    exchange.response_bytes += n;
    if (exchange.upstream_stream > 0 && !self.upstream_gone_)
      credit(self.upstream_leg_, exchange.upstream_stream, !exchange.upstream_closed, n);
    if (exchange.to_client.empty()) {
      if (!exchange.response_ended) return n > 0 ? static_cast<ssize_t>(n) : static_cast<ssize_t>(NGHTTP2_ERR_DEFERRED);
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (!exchange.response_trailers.empty()) {
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        const auto nva = fields(exchange.response_trailers);
        nghttp2_submit_trailer(session, exchange.client_stream, nva.data(), nva.size());
      }
    }
    return static_cast<ssize_t>(n);
  }
};

Http2Bridge::Http2Bridge(Http2Hooks& hooks, const Http2Limits& limits) : hooks_(hooks), limits_(limits) {
  nghttp2_session_callbacks* raw = nullptr;
  nghttp2_session_callbacks_new(&raw);
  std::unique_ptr<nghttp2_session_callbacks, CallbacksDeleter> callbacks(raw);
  nghttp2_session_callbacks_set_on_begin_headers_callback(raw, Callbacks::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(raw, Callbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(raw, Callbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(raw, Callbacks::on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(raw, Callbacks::on_stream_close);
  nghttp2_session_callbacks_set_on_frame_not_send_callback(raw, Callbacks::on_frame_not_send);
  nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(raw, Callbacks::on_invalid_frame);

  nghttp2_session_server_new2(&client_leg_, raw, this, session_options(true).get());
  nghttp2_session_client_new2(&upstream_leg_, raw, this, session_options(false).get());

  // Towards the phone: our stream limit and windows, and the header list size we accept. Towards
  // the origin: no server push (a pushed stream is a response nobody asked for, RFC 9113 8.4).
  const nghttp2_settings_entry to_client[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<std::uint32_t>(limits_.stream_window)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<std::uint32_t>(limits_.max_header_list_bytes)},
  };
  nghttp2_submit_settings(client_leg_, NGHTTP2_FLAG_NONE, to_client, std::size(to_client));
  const nghttp2_settings_entry to_origin[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<std::uint32_t>(limits_.stream_window)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<std::uint32_t>(limits_.max_header_list_bytes)},
  };
  nghttp2_submit_settings(upstream_leg_, NGHTTP2_FLAG_NONE, to_origin, std::size(to_origin));
  for (auto* session : {client_leg_, upstream_leg_})
    nghttp2_session_set_local_window_size(session, NGHTTP2_FLAG_NONE, 0, limits_.connection_window);
}

Http2Bridge::~Http2Bridge() {
  // Data sources point into the exchanges: the sessions go first.
  nghttp2_session_del(client_leg_);
  nghttp2_session_del(upstream_leg_);
}

Http2Exchange* Http2Bridge::exchange_for_client(std::int32_t stream) {
  const auto found = exchanges_.find(stream);
  return found == exchanges_.end() ? nullptr : found->second.get();
}

bool Http2Bridge::feed_client(std::string_view bytes) {
  if (client_failed_) return false;
  const auto n = nghttp2_session_mem_recv(client_leg_, reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                          bytes.size());
  if (n < 0) {
    const std::string detail = nghttp2_strerror(static_cast<int>(n));
    if (n == NGHTTP2_ERR_FLOODED)
      connection_error("h2_flood", "control frame flood: PING, SETTINGS or RST_STREAM (CVE-2019-9512/9514/9515)",
                       NGHTTP2_ENHANCE_YOUR_CALM);
    else if (n == NGHTTP2_ERR_BAD_CLIENT_MAGIC)
      connection_error("h2_bad_preface", detail, NGHTTP2_PROTOCOL_ERROR);
    else
      connection_error("h2_protocol_error", detail, NGHTTP2_PROTOCOL_ERROR);
  }
  return !client_failed_;
}

bool Http2Bridge::feed_upstream(std::string_view bytes) {
  if (upstream_failed_) return false;
  const auto n = nghttp2_session_mem_recv(upstream_leg_, reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                          bytes.size());
  if (n < 0) {
    report_once("h2_upstream_protocol_error", nghttp2_strerror(static_cast<int>(n)));
    upstream_failed_ = true;
    upstream_gone();
  }
  return !upstream_failed_;
}

namespace {
std::string_view drain(nghttp2_session* session, std::string& output, std::size_t chunk) {
  output.clear();
  while (output.size() < chunk) {
    const std::uint8_t* data = nullptr;
    const auto n = nghttp2_session_mem_send(session, &data);
    if (n <= 0) break;
    output.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  }
  return output;
}
}  // namespace

std::string_view Http2Bridge::take_client_output() { return drain(client_leg_, client_output_, limits_.output_chunk); }

std::string_view Http2Bridge::take_upstream_output() {
  if (upstream_gone_) return {};
  return drain(upstream_leg_, upstream_output_, limits_.output_chunk);
}

bool Http2Bridge::client_done() const {
  return nghttp2_session_want_read(client_leg_) == 0 && nghttp2_session_want_write(client_leg_) == 0;
}

bool Http2Bridge::upstream_done() const {
  return upstream_gone_ ||
         (nghttp2_session_want_read(upstream_leg_) == 0 && nghttp2_session_want_write(upstream_leg_) == 0);
}

void Http2Bridge::request_head_done(Http2Exchange& exchange) {
  exchange.head_complete = true;
  auto& head = exchange.request.head;
  // The detectors read the authority as the Host header, and the cookie crumbs as one Cookie.
  head.headers.insert(head.headers.begin(), HttpHeader{"host", exchange.authority});
  if (!exchange.cookie_crumbs.empty()) {
    std::string cookie;
    for (const auto& crumb : exchange.cookie_crumbs) {
      if (!cookie.empty()) cookie += "; ";
      cookie += crumb.value;
    }
    head.headers.push_back({"cookie", std::move(cookie)});
    exchange.cookie_crumbs.clear();
  }
  exchange.url = (exchange.scheme.empty() ? std::string("https") : exchange.scheme) + "://" + exchange.authority +
                 head.target;
  if (iequals(head.method, "CONNECT")) {
    // A tunnel inside a stream (RFC 9113 8.5) would carry bytes no detector sees as a request.
    report_once("h2_connect_refused", "CONNECT inside an HTTP/2 connection is not relayed");
    exchange.outcome = Http2Exchange::Outcome::refused;
    exchange.judged = true;
    exchange.discard_request = true;
    reset_client(exchange, NGHTTP2_REFUSED_STREAM);
    return;
  }
  auto verdict = hooks_.on_request_head(exchange);
  if (verdict.kind == Http2Verdict::Kind::block) {
    exchange.judged = true;
    answer_blocked(exchange, verdict.reason);
    return;
  }
  exchange.held = limits_.hold_requests;
  if (!exchange.held) submit_upstream(exchange);
}

void Http2Bridge::request_ended(Http2Exchange& exchange) {
  exchange.request_ended = true;
  if (!exchange.judged) judge(exchange);
  if (exchange.upstream_stream > 0 && !exchange.upstream_closed)
    nghttp2_session_resume_data(upstream_leg_, exchange.upstream_stream);
}

void Http2Bridge::judge(Http2Exchange& exchange) {
  exchange.judged = true;
  const bool truncated = exchange.to_upstream.size() > limits_.max_inspect_bytes;
  if (truncated) exchange.request.body_truncated = true;
  auto verdict = hooks_.on_request_inspected(exchange);
  if (!exchange.held) return;  // log mode: already on its way
  exchange.held = false;
  switch (verdict.kind) {
    case Http2Verdict::Kind::block:
      exchange.to_upstream.clear();
      exchange.to_upstream_consumed = 0;
      answer_blocked(exchange, verdict.reason);
      return;
    case Http2Verdict::Kind::redact:
      // Same-length masks: the held bytes are exactly the (redacted) body.
      exchange.request.head = std::move(verdict.redacted.head);
      exchange.request.trailers = std::move(verdict.redacted.trailers);
      exchange.to_upstream.assign(std::move(verdict.redacted.body));
      exchange.to_upstream_consumed = exchange.to_upstream.size();
      break;
    case Http2Verdict::Kind::forward: break;
  }
  submit_upstream(exchange);
}

void Http2Bridge::submit_upstream(Http2Exchange& exchange) {
  if (upstream_gone_) {
    exchange.outcome = Http2Exchange::Outcome::refused;
    exchange.discard_request = true;
    reset_client(exchange, NGHTTP2_REFUSED_STREAM);
    return;
  }
  const auto& head = exchange.request.head;
  // :authority from the (possibly redacted) host field the detectors saw first.
  const std::string_view authority =
      !head.headers.empty() && head.headers.front().name == "host" ? std::string_view(head.headers.front().value)
                                                                   : std::string_view(exchange.authority);
  std::vector<nghttp2_nv> nva;
  nva.reserve(head.headers.size() + 4);
  nva.push_back(field(":method", head.method));
  nva.push_back(field(":scheme", exchange.scheme.empty() ? std::string_view("https") : exchange.scheme));
  nva.push_back(field(":authority", authority));
  nva.push_back(field(":path", head.target));
  for (std::size_t i = 0; i < head.headers.size(); ++i) {
    if (i == 0 && head.headers[i].name == "host") continue;
    nva.push_back(field(head.headers[i].name, head.headers[i].value));
  }
  const bool body_follows = !exchange.request_ended || !exchange.to_upstream.empty() ||
                            !exchange.request.trailers.empty();
  nghttp2_data_provider provider{};
  provider.source.ptr = &exchange;
  provider.read_callback = Callbacks::read_request_body;
  const auto stream = nghttp2_submit_request(upstream_leg_, nullptr, nva.data(), nva.size(),
                                             body_follows ? &provider : nullptr, &exchange);
  if (stream < 0) {
    exchange.outcome = Http2Exchange::Outcome::refused;
    exchange.discard_request = true;
    reset_client(exchange, NGHTTP2_REFUSED_STREAM);
    return;
  }
  exchange.upstream_stream = stream;
}

void Http2Bridge::answer_blocked(Http2Exchange& exchange, const std::string& reason) {
  exchange.outcome = Http2Exchange::Outcome::blocked;
  exchange.discard_request = true;
  exchange.answered = true;
  exchange.response_ended = true;
  if (exchange.grpc) {
    // gRPC clients read the status from trailers: a trailers-only answer, PERMISSION_DENIED (7).
    exchange.status = 200;
    const std::string message = grpc_percent_encode("leakguard blocked this request: " + reason);
    const nghttp2_nv nva[] = {field(":status", "200"), field("content-type", "application/grpc"),
                              field("grpc-status", "7"), field("grpc-message", message)};
    nghttp2_submit_response(client_leg_, exchange.client_stream, nva, std::size(nva), nullptr);
    return;
  }
  exchange.status = 403;
  exchange.to_client.assign("leakguard blocked this request: " + reason + "\n");
  const std::string length = std::to_string(exchange.to_client.size());
  const nghttp2_nv nva[] = {field(":status", "403"), field("content-type", "text/plain; charset=utf-8"),
                            field("content-length", length)};
  nghttp2_data_provider provider{};
  provider.source.ptr = &exchange;
  provider.read_callback = Callbacks::read_response_body;
  nghttp2_submit_response(client_leg_, exchange.client_stream, nva, std::size(nva), &provider);
}

void Http2Bridge::submit_client_response(Http2Exchange& exchange) {
  if (exchange.answered || exchange.client_closed) return;
  exchange.answered = true;
  const auto nva = fields(exchange.response_head);
  nghttp2_data_provider provider{};
  provider.source.ptr = &exchange;
  provider.read_callback = Callbacks::read_response_body;
  const bool body_follows = !exchange.response_ended || !exchange.to_client.empty();
  nghttp2_submit_response(client_leg_, exchange.client_stream, nva.data(), nva.size(),
                          body_follows ? &provider : nullptr);
}

void Http2Bridge::reset_client(Http2Exchange& exchange, std::uint32_t code) {
  if (exchange.client_closed) return;
  if (exchange.outcome == Http2Exchange::Outcome::forwarded) exchange.outcome = Http2Exchange::Outcome::reset;
  exchange.reset_code = code;
  nghttp2_submit_rst_stream(client_leg_, NGHTTP2_FLAG_NONE, exchange.client_stream, code);
}

void Http2Bridge::client_stream_closed(std::int32_t stream, std::uint32_t code) {
  auto* exchange = exchange_for_client(stream);
  if (!exchange) return;
  exchange->client_closed = true;
  if (code != NGHTTP2_NO_ERROR && exchange->reset_code == 0) {
    exchange->reset_code = code;
    if (exchange->outcome == Http2Exchange::Outcome::forwarded) exchange->outcome = Http2Exchange::Outcome::reset;
    // Rapid Reset (CVE-2023-44487): streams opened and cancelled before any answer cost the origin
    // work and the phone nothing. Past a bound the connection is ended.
    if (!exchange->answered && ++premature_resets_ > max_premature_resets)
      connection_error("h2_rapid_reset", "streams reset before their response (CVE-2023-44487)",
                       NGHTTP2_ENHANCE_YOUR_CALM);
  }
  if (exchange->head_complete) hooks_.on_exchange_end(*exchange);
  if (exchange->upstream_stream > 0 && !exchange->upstream_closed) {
    if (!exchange->response_ended || !exchange->request_ended)
      nghttp2_submit_rst_stream(upstream_leg_, NGHTTP2_FLAG_NONE, exchange->upstream_stream,
                                code == NGHTTP2_NO_ERROR ? std::uint32_t{NGHTTP2_CANCEL} : code);
    if (upstream_gone_) exchange->upstream_closed = true;
  }
  forget_if_done(*exchange);
}

void Http2Bridge::upstream_stream_closed(Http2Exchange& exchange, std::uint32_t code) {
  exchange.upstream_closed = true;
  if (!exchange.client_closed && (code != NGHTTP2_NO_ERROR || !exchange.response_ended)) {
    if (code != NGHTTP2_NO_ERROR) {
      // The origin reset the stream: the phone sees the same reset (REFUSED_STREAM included, which
      // tells it the request was not processed and may be retried).
      reset_client(exchange, code);
    } else if (!exchange.answered) {
      // Ended without an answer: a gateway error of our own.
      exchange.status = 502;
      exchange.response_ended = true;
      exchange.response_head = {{":status", "502"}, {"content-type", "text/plain; charset=utf-8"}};
      exchange.to_client.assign("upstream ended the stream without a response\n");
      submit_client_response(exchange);
    } else {
      reset_client(exchange, NGHTTP2_INTERNAL_ERROR);  // a response cut short
    }
  }
  nghttp2_session_set_stream_user_data(upstream_leg_, exchange.upstream_stream, nullptr);
  forget_if_done(exchange);
}

void Http2Bridge::forget_if_done(Http2Exchange& exchange) {
  if (!exchange.client_closed) return;
  if (exchange.upstream_stream > 0 && !exchange.upstream_closed) return;
  // What either leg received for this exchange and the other never took is credited now: the
  // connections' windows must not shrink by what a reset or a refusal left behind.
  if (exchange.upstream_stream > 0 && !upstream_gone_)
    nghttp2_session_consume_connection(upstream_leg_, exchange.to_client.size());
  nghttp2_session_consume_connection(client_leg_, exchange.to_upstream.size() - exchange.to_upstream_consumed);
  exchanges_.erase(exchange.client_stream);
}

void Http2Bridge::upstream_gone() {
  if (upstream_gone_) return;
  upstream_gone_ = true;
  std::vector<Http2Exchange*> open;
  for (auto& [stream, exchange] : exchanges_) open.push_back(exchange.get());
  for (auto* exchange : open) {
    if (exchange->upstream_stream > 0 && !exchange->upstream_closed) upstream_stream_closed(*exchange, NGHTTP2_CANCEL);
  }
  // New streams would have nowhere to go: the phone opens a new connection for them.
  nghttp2_submit_goaway(client_leg_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(client_leg_),
                        NGHTTP2_NO_ERROR, nullptr, 0);
}

void Http2Bridge::shut_down() {
  // Streams already opened finish; the phone opens no new one here.
  nghttp2_submit_goaway(client_leg_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(client_leg_),
                        NGHTTP2_NO_ERROR, nullptr, 0);
}

void Http2Bridge::connection_error(std::string_view error, std::string detail, std::uint32_t code) {
  if (client_failed_) return;
  client_failed_ = true;
  report_once(error, detail);
  nghttp2_session_terminate_session(client_leg_, code);
}

bool Http2Bridge::take_control_frame_token() {
  const auto now = Http2Exchange::Clock::now();
  const std::chrono::duration<double> elapsed = now - control_tokens_at_;
  control_tokens_at_ = now;
  control_tokens_ = std::min(control_frame_burst, control_tokens_ + elapsed.count() * control_frames_per_second);
  if (control_tokens_ < 1) return false;
  control_tokens_ -= 1;
  return true;
}

std::string_view to_string(Http2Exchange::Outcome outcome) {
  switch (outcome) {
    case Http2Exchange::Outcome::forwarded: return "forwarded";
    case Http2Exchange::Outcome::blocked: return "blocked";
    case Http2Exchange::Outcome::reset: return "reset";
    case Http2Exchange::Outcome::refused: return "refused";
  }
  return "forwarded";
}

void Http2Bridge::report_once(std::string_view error, std::string_view detail) {
  // One event per kind of trouble and connection: a flood must not become an event flood.
  if (std::find(reported_.begin(), reported_.end(), error) != reported_.end()) return;
  reported_.emplace_back(error);
  hooks_.on_error(error, detail);
}

}  // namespace leakguard
