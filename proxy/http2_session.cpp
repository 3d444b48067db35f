// The HTTP/2 path of a session (issue 14): the bytes of both legs through an Http2Bridge, and the
// bridge's questions answered by the same Inspector, policy and events as an HTTP/1.x exchange. A
// stream is an exchange: its `http`, `finding` and `policy` events carry `stream` and
// `http_version: "2"`. Two coroutines read (the phone, the origin); whichever produced output
// writes it, one writer per leg at a time, so a slow leg slows only what waits for it.
#include "common/mask.hpp"
#include "events/event_line.hpp"
#include "proxy/http2_bridge.hpp"
#include "proxy/redaction.hpp"
#include "proxy/session.hpp"

namespace leakguard {

using asio::awaitable;

class Http2SessionHooks final : public Http2Hooks {
 public:
  explicit Http2SessionHooks(Session& session) : session_(session) {}

  Http2Verdict on_request_head(Http2Exchange& exchange) override {
    auto& s = session_;
    StreamEvents in_stream(s, exchange);
    std::string host;
    std::uint16_t ignored_port = 0;
    if (split_authority(exchange.authority, 443, host, ignored_port)) s.flow_.set_host(host, "http");
    Http2Verdict verdict;
    if (const auto forbidden = s.forbidden_destination()) {
      s.emit_policy_block(*forbidden, exchange.request.head.method, exchange.url);
      verdict.kind = Http2Verdict::Kind::block;
      verdict.reason = forbidden->reason;
    }
    return verdict;
  }

  Http2Verdict on_request_inspected(Http2Exchange& exchange) override {
    auto& s = session_;
    StreamEvents in_stream(s, exchange);
    const auto& request = exchange.request;
    const auto result = s.snapshot_->inspector->inspect_request(request, s.inspection_context());
    exchange.secrets = secrets_of(result);
    auto decision = decide_exchange(*s.config_, s.facts(), result.findings);
    const std::string& method = request.head.method;
    Http2Verdict verdict;
    if (!exchange.held) {
      // Log mode: the stream is on its way already; inspection ran beside it.
      s.emit_findings(result, decision, method, exchange.url);
      return verdict;
    }
    if (request.body_truncated) {
      // Larger than what may be held: what was seen is judged, and `oversize` decides the rest.
      if (decision.outcome == ExchangeVerdict::Outcome::block || s.config_->oversize == Action::block) {
        if (decision.outcome != ExchangeVerdict::Outcome::block) {
          decision.outcome = ExchangeVerdict::Outcome::block;
          decision.reason = "request larger than limits.max_inspect_bytes (oversize: block)";
          decision.finding_actions.assign(result.findings.size(), "blocked");
        }
      } else {
        for (auto& action : decision.finding_actions)
          if (action == "redacted") action = "logged";
        decision.outcome = ExchangeVerdict::Outcome::forward;
        auto event = s.flow_.event("oversize", exchange.secrets);
        event["method"] = method;
        event["url"] = mask_occurrences(exchange.url, exchange.secrets);
        event["stream"] = exchange.client_stream;
        event["inspected_bytes"] = s.config_->limits.max_inspect_bytes;
        event["detail"] = "request larger than limits.max_inspect_bytes: the rest was forwarded uninspected";
        s.context_.events().emit(std::move(event));
        verdict.rest_uninspected = true;
      }
    }
    s.emit_findings(result, decision, method, exchange.url);
    switch (decision.outcome) {
      case ExchangeVerdict::Outcome::block:
        s.emit_policy_block(decision, method, mask_occurrences(exchange.url, exchange.secrets));
        verdict.kind = Http2Verdict::Kind::block;
        verdict.reason = decision.reason;
        break;
      case ExchangeVerdict::Outcome::redact:
        verdict.kind = Http2Verdict::Kind::redact;
        verdict.redacted = request;
        redact_in_place(result.findings, verdict.redacted.head, verdict.redacted.body, verdict.redacted.trailers);
        break;
      case ExchangeVerdict::Outcome::forward: break;
    }
    return verdict;
  }

  void on_exchange_end(const Http2Exchange& exchange) override {
    auto& s = session_;
    const auto now = Http2Exchange::Clock::now();
    const std::string url = mask_occurrences(exchange.url, exchange.secrets);
    EventLine event("http");
    event.add_serialized(s.flow_.serialized_fields(exchange.secrets))
        .add("http_version", "2")
        .add("stream", static_cast<std::uint64_t>(exchange.client_stream))
        .add("method", exchange.request.head.method)
        .add("url", url)
        .add("status", exchange.status)
        .add("outcome", to_string(exchange.outcome))
        .add("request_bytes", exchange.request_bytes)
        .add("response_bytes", exchange.response_bytes)
        .add("ttfb_ms",
             std::chrono::duration<double, std::milli>(exchange.first_response_byte.value_or(now) - exchange.started)
                 .count())
        .add("duration_ms", std::chrono::duration<double, std::milli>(now - exchange.started).count());
    s.context_.events().emit_line(event.take());
    s.context_.counters().http_exchanges++;
  }

  void on_error(std::string_view error, std::string_view detail) override { session_.emit_error(error, detail); }

 private:
  // Finding and policy events emitted meanwhile say which stream they are about.
  struct StreamEvents {
    StreamEvents(Session& session, const Http2Exchange& exchange) : session(session) {
      session.event_stream_ = exchange.client_stream;
    }
    ~StreamEvents() { session.event_stream_ = 0; }
    Session& session;
  };

  Session& session_;
};

// What the coroutines of one HTTP/2 connection share; they hold it, so it outlives each of them.
struct Session::Http2Link {
  explicit Http2Link(Session& session, const Http2Limits& limits) : hooks(session), bridge(hooks, limits) {}
  Http2SessionHooks hooks;
  Http2Bridge bridge;
  bool writing_client = false;
  bool writing_upstream = false;
};

awaitable<void> Session::flush_http2(Http2Link& link) {
  // Whoever produced output writes it. A leg that is being written to already is left to its
  // writer, which takes what was added when its write completes.
  for (bool progress = true; progress && !closed_;) {
    progress = false;
    if (!link.writing_client) {
      const auto out = link.bridge.take_client_output();
      if (!out.empty()) {
        link.writing_client = true;
        const bool ok = co_await write_client(out);
        link.writing_client = false;
        if (!ok) {
          close_all();
          co_return;
        }
        progress = true;
      }
    }
    if (!link.writing_upstream) {
      const auto out = link.bridge.take_upstream_output();
      if (!out.empty()) {
        link.writing_upstream = true;
        const bool ok = co_await write_upstream(out);
        link.writing_upstream = false;
        if (!ok) {
          link.bridge.upstream_gone();
          upstream_.close();
        }
        progress = true;
      }
    }
  }
  if (link.bridge.client_done()) close_all();
}

awaitable<void> Session::read_upstream_http2(std::shared_ptr<Http2Link> link) {
  auto self = shared_from_this();
  while (!closed_) {
    error_code ec;
    const std::string_view got = co_await upstream_.read_shared(ec);
    const std::size_t n = got.size();
    if (closed_) co_return;
    if (n > 0) {
      touch();
      flow_.bytes_from_upstream += n;
      link->bridge.feed_upstream(got);
    }
    if (ec && n == 0) {
      link->bridge.upstream_gone();
      co_await flush_http2(*link);
      co_return;
    }
    co_await flush_http2(*link);
  }
}

void Session::drain_http2() {
  // GOAWAY: the streams in flight finish, and the connection ends after the last one.
  auto link = http2_;
  link->bridge.shut_down();
  asio::co_spawn(executor(), [self = shared_from_this(), link] { return self->flush_http2(*link); }, asio::detached);
}

awaitable<void> Session::serve_http2() {
  auto self = shared_from_this();
  Http2Limits limits;
  limits.max_inspect_bytes = config_->limits.max_inspect_bytes;
  limits.max_header_list_bytes = config_->limits.max_header_bytes;
  limits.hold_requests = snapshot_->may_hold;
  auto link = std::make_shared<Http2Link>(*this, limits);
  http2_ = link;
  asio::co_spawn(executor(), [self, link] { return self->read_upstream_http2(link); }, asio::detached);

  bool ok = link->bridge.feed_client(client_buffer_);
  client_buffer_.clear();
  co_await flush_http2(*link);
  while (ok && !closed_ && !link->bridge.client_done()) {
    if (!co_await read_client()) break;
    ok = link->bridge.feed_client(client_buffer_);
    client_buffer_.clear();
    co_await flush_http2(*link);
  }
  // A fatal error queued a GOAWAY, which the flush above wrote; the phone's own end is an end too.
  http2_.reset();
  co_await close_client_gracefully();
}

}  // namespace leakguard
