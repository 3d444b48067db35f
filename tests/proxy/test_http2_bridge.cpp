// The HTTP/2 bridge between two real libnghttp2 peers in memory: a phone (client session) and an
// origin (server session), every byte between them passing through the bridge. What is checked is
// what a phone and an origin see: which requests reach the origin, what the phone gets back, and
// how much the bridge lets one side make it hold for the other.
#include <doctest/doctest.h>

#include <nghttp2/nghttp2.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "proxy/http2_bridge.hpp"

using namespace leakguard;

namespace {

// What a peer saw of one stream.
struct StreamRecord {
  std::vector<Http2Field> headers;
  std::vector<Http2Field> trailers;
  std::string data;
  bool ended = false;
  bool closed = false;
  std::uint32_t close_code = 0;
  std::string header(std::string_view name) const {
    for (const auto& f : headers)
      if (f.name == name) return f.value;
    return {};
  }
};

// A libnghttp2 endpoint that records everything it receives. The origin answers each complete
// request with 200 and "hello", plus grpc-status trailers when asked; `consume` false makes it a
// reader that never takes the bytes (its window never reopens).
class Peer {
 public:
  explicit Peer(bool server, bool consume = true) : server_(server), consume_(consume) {
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, on_begin_headers);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_close);
    nghttp2_option* option = nullptr;
    nghttp2_option_new(&option);
    if (!consume_) nghttp2_option_set_no_auto_window_update(option, 1);
    if (server)
      nghttp2_session_server_new2(&session_, callbacks, this, option);
    else
      nghttp2_session_client_new2(&session_, callbacks, this, option);
    nghttp2_option_del(option);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~Peer() { nghttp2_session_del(session_); }

  std::string output() {
    std::string out;
    for (;;) {
      const std::uint8_t* data = nullptr;
      const auto n = nghttp2_session_mem_send(session_, &data);
      if (n <= 0) break;
      out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
    return out;
  }
  void input(std::string_view bytes) {
    const auto n = nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    REQUIRE(n == static_cast<ssize_t>(bytes.size()));
  }

  // The phone's side: a request with an optional body (sent as fast as the windows allow).
  std::int32_t request(std::vector<Http2Field> headers, std::string body = {}) {
    std::vector<Http2Field> all = {{":method", body.empty() ? "GET" : "POST"}, {":scheme", "https"},
                                   {":authority", "origin.test"}, {":path", "/"}};
    for (auto& h : headers) {
      bool replaced = false;
      for (auto& a : all)
        if (h.name[0] == ':' && a.name == h.name) a.value = h.value, replaced = true;
      if (!replaced) all.push_back(h);
    }
    const auto nva = to_nv(all);
    auto* source = new std::string(std::move(body));
    const bool has_body = !source->empty();
    nghttp2_data_provider provider{};
    provider.source.ptr = source;
    provider.read_callback = read_body;
    const auto id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), has_body ? &provider : nullptr, nullptr);
    bodies_[id].reset(source);
    return id;
  }

  // HEADERS without END_STREAM: a request whose body is still to come.
  std::int32_t open_stream(const std::string& path) {
    const std::vector<Http2Field> all = {{":method", "POST"}, {":scheme", "https"}, {":authority", "origin.test"},
                                         {":path", path}};
    const auto nva = to_nv(all);
    return nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, -1, nullptr, nva.data(), nva.size(), nullptr);
  }

  std::map<std::int32_t, StreamRecord> streams;
  std::size_t body_bytes_sent = 0;
  bool grpc_trailers = false;
  std::string response_body = "hello";
  nghttp2_session* session_ = nullptr;

 private:
  static std::vector<nghttp2_nv> to_nv(const std::vector<Http2Field>& fields) {
    std::vector<nghttp2_nv> out;
    for (const auto& f : fields)
      out.push_back({(std::uint8_t*)f.name.data(), (std::uint8_t*)f.value.data(), f.name.size(), f.value.size(),
                     NGHTTP2_NV_FLAG_NONE});
    return out;
  }
  static Peer& self(void* user) { return *static_cast<Peer*>(user); }
  static ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length, std::uint32_t* flags,
                           nghttp2_data_source* source, void* user) {
    auto& body = *static_cast<std::string*>(source->ptr);
    const auto n = std::min(length, body.size());
    std::memcpy(buf, body.data(), n);
    body.erase(0, n);
    self(user).body_bytes_sent += n;
    if (body.empty()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto& record = self(user).streams[frame->hd.stream_id];
    self(user).in_trailers_ = !record.headers.empty() && record.header(":status").rfind("1", 0) != 0;
    return 0;
  }
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name, std::size_t namelen,
                       const std::uint8_t* value, std::size_t valuelen, std::uint8_t, void* user) {
    auto& record = self(user).streams[frame->hd.stream_id];
    Http2Field f{std::string(reinterpret_cast<const char*>(name), namelen),
                 std::string(reinterpret_cast<const char*>(value), valuelen)};
    (self(user).in_trailers_ ? record.trailers : record.headers).push_back(std::move(f));
    return 0;
  }
  static int on_data(nghttp2_session*, std::uint8_t, std::int32_t stream, const std::uint8_t* data, std::size_t len,
                     void* user) {
    self(user).streams[stream].data.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }
  static int on_frame(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    auto& peer = self(user);
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) return 0;
    if (frame->hd.type != NGHTTP2_DATA && frame->hd.type != NGHTTP2_HEADERS) return 0;
    peer.streams[frame->hd.stream_id].ended = true;
    if (!peer.server_) return 0;
    // The origin answers.
    auto* source = new std::string(peer.response_body);
    peer.bodies_[frame->hd.stream_id].reset(source);
    const std::vector<Http2Field> head = {{":status", "200"}, {"content-type", "text/plain"}};
    const auto nva = to_nv(head);
    nghttp2_data_provider provider{};
    provider.source.ptr = source;
    provider.read_callback = peer.grpc_trailers ? read_body_then_trailers : read_body;
    nghttp2_submit_response(session, frame->hd.stream_id, nva.data(), nva.size(), &provider);
    return 0;
  }
  static ssize_t read_body_then_trailers(nghttp2_session* session, std::int32_t stream, std::uint8_t* buf,
                                         std::size_t length, std::uint32_t* flags, nghttp2_data_source* source,
                                         void* user) {
    const auto n = read_body(session, stream, buf, length, flags, source, user);
    if (*flags & NGHTTP2_DATA_FLAG_EOF) {
      *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      const std::vector<Http2Field> trailers = {{"grpc-status", "0"}};
      const auto nva = to_nv(trailers);
      nghttp2_submit_trailer(session, stream, nva.data(), nva.size());
    }
    return n;
  }
  static int on_close(nghttp2_session*, std::int32_t stream, std::uint32_t code, void* user) {
    auto& record = self(user).streams[stream];
    record.closed = true;
    record.close_code = code;
    return 0;
  }

  bool server_;
  bool consume_;
  bool in_trailers_ = false;
  std::map<std::int32_t, std::unique_ptr<std::string>> bodies_;
};

// Hooks that block any request carrying an `x-leak` header or "LEAK" in its body, and record what
// the bridge asked.
class RecordingHooks : public Http2Hooks {
 public:
  Http2Verdict on_request_head(Http2Exchange& exchange) override {
    heads.push_back(exchange.request.head.target);
    return {};
  }
  Http2Verdict on_request_inspected(Http2Exchange& exchange) override {
    inspected.push_back(exchange.request);
    Http2Verdict verdict;
    const bool leak = exchange.request.head.header("x-leak").has_value() ||
                      exchange.request.body.find("LEAK") != std::string::npos;
    if (leak) {
      verdict.kind = Http2Verdict::Kind::block;
      verdict.reason = "identifier imei";
    } else if (redact_body && !exchange.request.body.empty()) {
      verdict.kind = Http2Verdict::Kind::redact;
      verdict.redacted = exchange.request;
      verdict.redacted.body.replace(0, 4, "****");
    }
    return verdict;
  }
  void on_exchange_end(const Http2Exchange& exchange) override {
    ended.push_back({exchange.client_stream, exchange.status, std::string(to_string(exchange.outcome))});
  }
  void on_error(std::string_view error, std::string_view) override { errors.emplace_back(error); }

  struct End {
    std::int32_t stream;
    int status;
    std::string outcome;
  };
  bool redact_body = false;
  std::vector<std::string> heads;
  std::vector<HttpRequest> inspected;
  std::vector<End> ended;
  std::vector<std::string> errors;
};

// Moves bytes until nobody has anything left to say.
void pump(Peer& phone, Http2Bridge& bridge, Peer& origin) {
  for (int round = 0; round < 1000; ++round) {
    bool moved = false;
    if (auto out = phone.output(); !out.empty()) moved = true, bridge.feed_client(out);
    if (auto out = bridge.take_upstream_output(); !out.empty()) moved = true, origin.input(out);
    if (auto out = origin.output(); !out.empty()) moved = true, bridge.feed_upstream(out);
    if (auto out = bridge.take_client_output(); !out.empty()) moved = true, phone.input(out);
    if (!moved) return;
  }
  FAIL("the peers never went quiet");
}

}  // namespace

TEST_CASE("log mode: every stream reaches the origin and its answer reaches the phone") {
  RecordingHooks hooks;
  Http2Limits limits;
  Http2Bridge bridge(hooks, limits);
  Peer phone(false), origin(true);
  const auto a = phone.request({{":path", "/a?x=1"}, {"cookie", "a=1"}, {"cookie", "b=2"}});
  const auto b = phone.request({{":path", "/b"}}, "payload");
  pump(phone, bridge, origin);

  REQUIRE(origin.streams.size() == 2);
  CHECK(origin.streams.begin()->second.header(":path") == "/a?x=1");
  CHECK(std::next(origin.streams.begin())->second.data == "payload");
  CHECK(phone.streams[a].header(":status") == "200");
  CHECK(phone.streams[a].data == "hello");
  CHECK(phone.streams[b].data == "hello");
  // The detectors saw an HTTP/1.x-shaped request: host first, cookie crumbs joined.
  REQUIRE(hooks.inspected.size() == 2);
  const auto& first = hooks.inspected[0];
  CHECK(first.head.method == "GET");
  CHECK(first.head.target == "/a?x=1");
  CHECK(first.head.headers.front().name == "host");
  CHECK(first.head.headers.front().value == "origin.test");
  CHECK(first.head.header("cookie") == "a=1; b=2");
  CHECK(hooks.inspected[1].body == "payload");
  REQUIRE(hooks.ended.size() == 2);
  CHECK(hooks.ended[0].status == 200);
  CHECK(hooks.errors.empty());
}

TEST_CASE("block mode: a leaking stream never reaches the origin, the others on the connection do") {
  RecordingHooks hooks;
  Http2Limits limits;
  limits.hold_requests = true;
  Http2Bridge bridge(hooks, limits);
  Peer phone(false), origin(true);
  const auto leak_header = phone.request({{":path", "/one"}, {"x-leak", "1"}});
  const auto leak_body = phone.request({{":path", "/two"}}, "xxLEAKxx");
  const auto clean = phone.request({{":path", "/three"}}, "clean");
  pump(phone, bridge, origin);

  REQUIRE(origin.streams.size() == 1);
  CHECK(origin.streams.begin()->second.header(":path") == "/three");
  CHECK(origin.streams.begin()->second.data == "clean");
  CHECK(phone.streams[leak_header].header(":status") == "403");
  CHECK(phone.streams[leak_header].data.find("identifier imei") != std::string::npos);
  CHECK(phone.streams[leak_body].header(":status") == "403");
  CHECK(phone.streams[clean].header(":status") == "200");
  CHECK(phone.streams[clean].data == "hello");
}

TEST_CASE("block mode: a gRPC call gets a trailers-only PERMISSION_DENIED answer") {
  RecordingHooks hooks;
  Http2Limits limits;
  limits.hold_requests = true;
  Http2Bridge bridge(hooks, limits);
  Peer phone(false), origin(true);
  const auto call = phone.request({{":path", "/pkg.Service/Method"}, {"content-type", "application/grpc"}, {"te", "trailers"}},
                                  std::string("\0\0\0\0\4LEAK", 9));
  pump(phone, bridge, origin);
  CHECK(origin.streams.empty());
  const auto& answer = phone.streams[call];
  CHECK(answer.header(":status") == "200");
  CHECK(answer.header("grpc-status") == "7");
  CHECK(answer.header("grpc-message").find("identifier imei") != std::string::npos);
  CHECK(answer.data.empty());
  CHECK(answer.ended);
}

TEST_CASE("redaction: the origin receives the masked body, the same length") {
  RecordingHooks hooks;
  hooks.redact_body = true;
  Http2Limits limits;
  limits.hold_requests = true;
  Http2Bridge bridge(hooks, limits);
  Peer phone(false), origin(true);
  phone.request({{":path", "/r"}}, "secretdata");
  pump(phone, bridge, origin);
  REQUIRE(origin.streams.size() == 1);
  CHECK(origin.streams.begin()->second.data == "****etdata");
}

TEST_CASE("response trailers (grpc-status) reach the phone") {
  RecordingHooks hooks;
  Http2Limits limits;
  Http2Bridge bridge(hooks, limits);
  Peer phone(false), origin(true);
  origin.grpc_trailers = true;
  const auto call = phone.request({{":path", "/pkg.Service/Ok"}, {"content-type", "application/grpc"}},
                                  std::string("\0\0\0\0\2ok", 7));
  pump(phone, bridge, origin);
  REQUIRE(phone.streams[call].trailers.size() == 1);
  CHECK(phone.streams[call].trailers[0].name == "grpc-status");
  CHECK(phone.streams[call].trailers[0].value == "0");
}

TEST_CASE("a fast phone in front of an origin that never reads: the bridge holds at most its windows") {
  RecordingHooks hooks;
  Http2Limits limits;
  Http2Bridge bridge(hooks, limits);
  Peer phone(false), origin(true, /*consume=*/false);
  phone.request({{":path", "/upload"}}, std::string(8 * 1024 * 1024, 'a'));
  pump(phone, bridge, origin);
  // What left the phone is what the bridge granted (its stream window) plus what the origin's own
  // default window let through: nowhere near the 8 MiB the phone wanted to send.
  CHECK(phone.body_bytes_sent <= static_cast<std::size_t>(limits.stream_window) + 65535);
  CHECK(phone.body_bytes_sent >= 65535);
}

TEST_CASE("a reset from the origin reaches the phone with its code, and one from the phone the origin") {
  RecordingHooks hooks;
  Http2Limits limits;
  Http2Bridge bridge(hooks, limits);
  Peer phone(false), origin(true);
  // Two requests whose bodies have not ended: the origin does not answer them yet.
  const auto first = phone.open_stream("/first");
  const auto second = phone.open_stream("/second");
  pump(phone, bridge, origin);
  REQUIRE(origin.streams.size() == 2);
  const auto origin_first = origin.streams.begin()->first;
  const auto origin_second = std::next(origin.streams.begin())->first;
  CHECK_FALSE(phone.streams[first].closed);

  nghttp2_submit_rst_stream(origin.session_, NGHTTP2_FLAG_NONE, origin_first, NGHTTP2_CANCEL);
  nghttp2_submit_rst_stream(phone.session_, NGHTTP2_FLAG_NONE, second, NGHTTP2_CANCEL);
  pump(phone, bridge, origin);
  CHECK(phone.streams[first].closed);
  CHECK(phone.streams[first].close_code == NGHTTP2_CANCEL);
  CHECK(origin.streams[origin_second].closed);
  CHECK(origin.streams[origin_second].close_code == NGHTTP2_CANCEL);
}

TEST_CASE("a long-lived connection: responses far past the connection window all arrive") {
  // Every response's bytes are credited back to the origin, also those of streams that closed
  // before the phone read all of their DATA: 600 x 4 KiB is well past the 1 MiB window.
  RecordingHooks hooks;
  Http2Limits limits;
  Http2Bridge bridge(hooks, limits);
  Peer phone(false), origin(true);
  origin.response_body = std::string(4096, 'r');
  std::vector<std::int32_t> streams;
  for (int batch = 0; batch < 12; ++batch) {
    for (int i = 0; i < 50; ++i) streams.push_back(phone.request({{":path", "/n"}}));
    pump(phone, bridge, origin);
  }
  std::size_t complete = 0;
  for (const auto stream : streams)
    if (phone.streams[stream].data.size() == 4096 && phone.streams[stream].ended) ++complete;
  CHECK(complete == streams.size());
  CHECK(bridge.open_exchanges() == 0);
}
