// The HTTP/1.x path of a session: requests from the client are parsed one at a time and forwarded
// (head re-serialised with names, order and case kept; body bytes as received), responses are
// parsed beside a raw relay so pipelining, HEAD, 1xx and 101 stay in step with the requests.
#include <charconv>
#include <cstdio>

#include "common/ascii.hpp"
#include "common/mask.hpp"
#include "events/event_line.hpp"
#include "proxy/redaction.hpp"
#include "proxy/session.hpp"

namespace leakguard {

using asio::awaitable;
using asio::redirect_error;
using asio::use_awaitable;

namespace {

std::string_view status_text(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 431: return "Request Header Fields Too Large";
    case 502: return "Bad Gateway";
    case 504: return "Gateway Timeout";
    case 508: return "Loop Detected";
    default: return "Error";
  }
}

struct AbsoluteTarget {
  std::string authority;  // as written, for Host comparison and events
  std::string host;
  std::uint16_t port = 80;
  std::string origin_form;  // "/path?query"
};

// An explicit proxy request names its destination in the target: "http://host[:port]/path".
std::optional<AbsoluteTarget> parse_absolute_target(std::string_view target) {
  constexpr std::string_view scheme = "http://";
  if (target.size() < scheme.size() || !iequals(target.substr(0, scheme.size()), scheme)) return std::nullopt;
  target.remove_prefix(scheme.size());
  const auto path_start = target.find_first_of("/?");
  AbsoluteTarget result;
  result.authority = std::string(target.substr(0, path_start));
  if (result.authority.find('@') != std::string::npos) return std::nullopt;  // userinfo: refuse, not guess
  if (!split_authority(result.authority, 80, result.host, result.port)) return std::nullopt;
  if (path_start == std::string_view::npos)
    result.origin_form = "/";
  else if (target[path_start] == '?')
    result.origin_form = "/" + std::string(target.substr(path_start));
  else
    result.origin_form = std::string(target.substr(path_start));
  return result;
}

}  // namespace

awaitable<void> Session::send_error_response(int status, std::string_view reason, std::string_view detail,
                                             std::string_view request_method) {
  std::string body(reason);
  if (!detail.empty()) body.append(": ").append(detail);
  body.push_back('\n');
  std::string response = "HTTP/1.1 " + std::to_string(status) + " " + std::string(status_text(status)) +
                         "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  if (!iequals(request_method, "HEAD")) response += body;
  co_await write_client(response);
}

awaitable<bool> Session::wait_for_responses() {
  while (!pending_.empty() && upstream_connected_ && !closed_) co_await wait_for_signal();
  co_return !closed_;
}

awaitable<void> Session::handle_connect(const HttpRequestHead& head) {
  std::string host;
  std::uint16_t port = 0;
  if (!split_authority(head.target, 443, host, port) || head.target.find(':') == std::string::npos) {
    emit_error("bad_request", "CONNECT target is not host:port", 400);
    co_await send_error_response(400, "bad request", "CONNECT needs host:port");
    co_return;
  }
  flow_.set_host(host, "http");
  // The name is resolved and dialled next: judge it first.
  if (const auto blocked = inspect_name(host, "connect.host")) {
    co_await send_error_response(403, "leakguard blocked this request", blocked->reason, head.method);
    co_return;
  }
  const auto result = co_await connect_upstream(host, port);
  if (result != ConnectResult::ok) {
    const int status = result == ConnectResult::timeout ? 504 : result == ConnectResult::loop ? 508 : 502;
    emit_error(result == ConnectResult::timeout  ? "upstream_timeout"
               : result == ConnectResult::loop   ? "loop"
                                                 : "upstream_unreachable",
               mask_occurrences("CONNECT " + head.target, flow_.secrets()), status);
    co_await send_error_response(status, status_text(status), head.target);
    co_return;
  }
  if (!co_await write_client("HTTP/1.1 200 Connection established\r\n\r\n")) co_return;
  // Inside the tunnel the client speaks to the destination as if it were transparent: sniff again.
  // The upstream connection stays open for it.
  error_code ec;
  const auto destination = upstream_.socket().remote_endpoint(ec);
  if (ec) co_return;
  co_await serve_stream(destination, host);
}

namespace {

// What the proxy sends upstream for a parsed request: origin-form for an explicit proxy,
// Proxy-Connection dropped, and Expect dropped when leakguard answered 100 Continue itself.
UpstreamRewrite upstream_rewrite(const std::optional<AbsoluteTarget>& target, bool drop_expect) {
  UpstreamRewrite rewrite;
  if (target) {
    rewrite.target = target->origin_form;
    rewrite.host = target->authority;
  }
  rewrite.drop_expect = drop_expect;
  return rewrite;
}

std::string hex(std::size_t value) {
  char buffer[32];
  const int n = std::snprintf(buffer, sizeof buffer, "%zx", value);
  return std::string(buffer, static_cast<std::size_t>(n));
}

}  // namespace

awaitable<void> Session::serve_http(bool explicit_proxy) {
  auto self = shared_from_this();
  HttpStreamParser parser(HttpStreamParser::Direction::request, config_->limits.max_header_bytes);
  const std::size_t inspect_limit = config_->limits.max_inspect_bytes;
  bool in_message = false;
  bool head_sent = false;   // the current request's head went upstream: its body streams
  bool held = false;        // the current request is held back until inspected (block/redact policy)
  std::uint64_t request_bytes = 0;
  std::optional<AbsoluteTarget> target;
  HttpRequest request;      // what the detectors see: head as received, body transfer-decoded
  std::string held_body;    // raw body bytes (framing included) of a held request
  bool answered_continue = false;
  std::string url;

  // An answer of our own after every earlier response: pipelined responses keep their order.
  auto refuse = [this, &parser, &request](int status, std::string error, std::string detail) -> awaitable<void> {
    emit_error(error, detail, status);
    co_await wait_for_responses();
    // The method of the request being answered: a head still being parsed is the parser's (it hands
    // a complete head over with take_head), a complete one is request.head.
    const std::string method = !parser.head().method.empty() ? parser.head().method : request.head.method;
    co_await send_error_response(status, status_text(status), detail, method);
  };
  auto block = [this](const ExchangeVerdict& verdict, const std::string& method,
                      const std::string& url_text, const std::vector<std::string>& secrets) -> awaitable<void> {
    emit_policy_block(verdict, method, mask_occurrences(url_text, secrets));
    co_await wait_for_responses();
    co_await send_error_response(403, "leakguard blocked this request", verdict.reason, method);
  };
  // Sends a head upstream and makes the response relay expect its answer.
  auto send_head = [&](const HttpRequestHead& head, bool drop_expect, std::vector<std::string> secrets) -> awaitable<bool> {
    const std::string serialized = serialize_request_head(head, upstream_rewrite(target, drop_expect));
    pending_.push_back({head.method, url, std::move(secrets), Clock::now(), serialized.size(),
                        head.version_minor == 0 ? "1.0" : "1.1"});
    request_bytes = serialized.size();
    head_sent = true;
    co_return co_await write_upstream(serialized);
  };

  // After a boundary the parser may have more to say without new bytes (a bodyless request
  // completes right after its head), so it is asked again before the next read.
  bool parser_needs_bytes = true;
  for (;;) {
    if (client_buffer_.empty() && parser_needs_bytes) {
      between_requests_ = !in_message;
      if (between_requests_ && draining_) break;
      const bool got = co_await read_client();
      between_requests_ = false;
      if (!got) {
        if (in_message && !closed_)
          emit_error("client_closed", "client closed in the middle of a request (" + client_read_error_.message() + "); " +
                                          (head_sent ? "what had arrived was forwarded (log mode)" : "nothing of it was forwarded"));
        if (in_message && head_sent) co_return;  // the upstream holds half a request: drop it
        break;
      }
    }
    const auto step = parser.parse(client_buffer_);
    parser_needs_bytes = step.boundary == HttpStreamParser::Boundary::need_more;
    const std::string_view consumed = std::string_view(client_buffer_).substr(0, step.consumed);
    if (in_message) {
      for (auto chunk : step.body_chunks) {
        const auto room = inspect_limit - std::min(inspect_limit, request.body.size());
        if (chunk.size() > room) request.body_truncated = true;
        request.body.append(chunk.substr(0, std::min(room, chunk.size())));
      }
      if (held) {
        held_body.append(consumed);
      } else if (head_sent && !consumed.empty()) {
        request_bytes += consumed.size();
        if (!co_await write_upstream(consumed)) co_return;
      }
    }
    client_buffer_.erase(0, step.consumed);

    if (held && held_body.size() > inspect_limit && step.boundary != HttpStreamParser::Boundary::error) {
      // Larger than what may be held: judge what was seen, then `oversize` decides the rest.
      const auto result = snapshot_->inspector->inspect_request(request, inspection_context());
      auto verdict = decide_exchange(*config_, facts(), result.findings);
      const auto secrets = secrets_of(result);
      if (verdict.outcome == ExchangeVerdict::Outcome::block || config_->oversize == Action::block) {
        if (verdict.outcome != ExchangeVerdict::Outcome::block) {
          verdict.outcome = ExchangeVerdict::Outcome::block;
          verdict.reason = "request larger than limits.max_inspect_bytes (oversize: block)";
          verdict.finding_actions.assign(result.findings.size(), "blocked");
        }
        emit_findings(result, verdict, request.head.method, url);
        co_await block(verdict, request.head.method, url, secrets);
        co_return;  // the rest of the body is unread: the connection cannot go on
      }
      // oversize: log — forward what was held and stream the rest uninspected, and say so.
      for (auto& action : verdict.finding_actions)
        if (action == "redacted") action = "logged";
      emit_findings(result, verdict, request.head.method, url);
      auto event = flow_.event("oversize", secrets);
      event["method"] = request.head.method;
      event["url"] = mask_occurrences(url, secrets);
      event["inspected_bytes"] = inspect_limit;
      event["detail"] = "request larger than limits.max_inspect_bytes: the rest was forwarded uninspected";
      context_.events().emit(std::move(event));
      held = false;
      if (!co_await send_head(request.head, answered_continue, secrets)) co_return;
      request_bytes += held_body.size();
      if (!co_await write_upstream(held_body)) co_return;
      held_body.clear();
    }

    switch (step.boundary) {
      case HttpStreamParser::Boundary::need_more:
        if (step.consumed > 0) in_message = true;
        break;

      case HttpStreamParser::Boundary::error: {
        const bool too_large = parser.error() == HttpParseError::head_too_large;
        if (head_sent) upstream_.close();  // the upstream must not wait for the rest of a broken body
        co_await refuse(too_large ? 431 : 400, too_large ? "header_too_large" : "bad_request", parser.error_reason());
        co_return;
      }

      case HttpStreamParser::Boundary::head_complete: {
        in_message = true;
        head_sent = false;
        held = false;
        held_body.clear();
        answered_continue = false;
        request = HttpRequest{};
        request.head = parser.take_head();
        target.reset();
        if (explicit_proxy) {
          if (iequals(request.head.method, "CONNECT")) {
            co_await wait_for_responses();
            co_await handle_connect(request.head);
            co_return;
          }
          target = parse_absolute_target(request.head.target);
          if (!target) {
            co_await refuse(400, "bad_request", "an explicit proxy request needs an absolute http:// target");
            co_return;
          }
          const std::string authority = target->host + ":" + std::to_string(target->port);
          if (authority != upstream_authority_ || !upstream_connected_) {
            co_await wait_for_responses();
            if (upstream_connected_) {
              ++upstream_generation_;  // the old response relay ends quietly
              upstream_connected_ = false;
              upstream_.close();
            }
            flow_.set_host(target->host, "http");
            const auto result = co_await connect_upstream(target->host, target->port);
            if (result != ConnectResult::ok) {
              const int status = result == ConnectResult::timeout ? 504 : result == ConnectResult::loop ? 508 : 502;
              co_await refuse(status,
                              result == ConnectResult::timeout ? "upstream_timeout"
                              : result == ConnectResult::loop  ? "loop"
                                                               : "upstream_unreachable",
                              target->authority);
              co_return;
            }
            upstream_authority_ = authority;
            upstream_connected_ = true;
            asio::co_spawn(
                executor(), [self, generation = upstream_generation_]() { return self->relay_responses(generation); },
                asio::detached);
          }
          url = "http://" + target->authority + target->origin_form;
        } else {
          const auto host = request.head.host();
          std::string host_name;
          std::uint16_t ignored_port = 0;
          if (split_authority(host, 80, host_name, ignored_port)) flow_.set_host(host_name, "http");
          if (!upstream_connected_) {
            co_await wait_for_responses();
            // Inside a CONNECT tunnel the first request finds the upstream already connected.
            const auto result =
                upstream_.socket().is_open() ? ConnectResult::ok : co_await connect_upstream(*flow_.dst);
            if (result != ConnectResult::ok) {
              const int status = result == ConnectResult::timeout ? 504 : result == ConnectResult::loop ? 508 : 502;
              co_await refuse(status, result == ConnectResult::timeout ? "upstream_timeout" : "upstream_unreachable",
                              endpoint_string(*flow_.dst));
              co_return;
            }
            upstream_connected_ = true;
            asio::co_spawn(
                executor(), [self, generation = upstream_generation_]() { return self->relay_responses(generation); },
                asio::detached);
          }
          const std::string scheme = flow_.transport == "https" ? "https://" : "http://";
          url = scheme + std::string(host.empty() ? endpoint_string(*flow_.dst) : std::string(host)) + request.head.target;
        }

        // Destination rules need no finding: a forbidden destination gets nothing, not even the head.
        if (const auto verdict = forbidden_destination()) {
          co_await block(*verdict, request.head.method, url, {});
          co_return;
        }
        if (snapshot_->may_hold) {
          held = true;
          // A client waiting for 100 Continue would wait for a body we hold: answer it ourselves.
          if (auto expect = request.head.header("expect"); expect && iequals(*expect, "100-continue")) {
            answered_continue = true;
            if (!co_await write_client("HTTP/1.1 100 Continue\r\n\r\n")) co_return;
          }
        } else if (!co_await send_head(request.head, false, {})) {
          co_return;
        }
        break;
      }

      case HttpStreamParser::Boundary::message_complete:
      case HttpStreamParser::Boundary::upgrade: {
        request.trailers = parser.trailers();
        const auto result = snapshot_->inspector->inspect_request(request, inspection_context());
        const auto secrets = secrets_of(result);
        if (held) {
          auto verdict = decide_exchange(*config_, facts(), result.findings);
          emit_findings(result, verdict, request.head.method, url);
          if (verdict.outcome == ExchangeVerdict::Outcome::block) {
            co_await block(verdict, request.head.method, url, secrets);
            co_return;
          }
          // The head as it goes upstream: the client's own, or a redacted copy (inspection and
          // events keep reading the original).
          std::optional<HttpRequestHead> redacted;
          if (verdict.outcome == ExchangeVerdict::Outcome::redact) {
            redacted = request.head;
            redact_in_place(result.findings, *redacted, request.body, request.trailers);
            if (target) target = parse_absolute_target(redacted->target);
            if (parser.chunked()) {
              // Offsets are into the decoded body: send it again as one chunk, trailers kept.
              held_body = request.body.empty() ? "" : hex(request.body.size()) + "\r\n" + request.body + "\r\n";
              held_body += "0\r\n";
              for (const auto& trailer : request.trailers) held_body += trailer.name + ": " + trailer.value + "\r\n";
              held_body += "\r\n";
            } else {
              held_body = request.body;
            }
          }
          held = false;
          if (!co_await send_head(redacted ? *redacted : request.head, answered_continue, secrets)) co_return;
          request_bytes += held_body.size();
          if (!held_body.empty() && !co_await write_upstream(held_body)) co_return;
          held_body.clear();
        } else {
          // Log mode: the request is on its way already; inspection runs beside it.
          const auto verdict = decide_exchange(*config_, facts(), result.findings);
          emit_findings(result, verdict, request.head.method, url);
          if (!pending_.empty()) pending_.back().secrets = secrets;
        }
        if (!pending_.empty()) pending_.back().request_bytes = request_bytes;
        in_message = false;
        head_sent = false;
        if (step.boundary == HttpStreamParser::Boundary::upgrade) {
          // Connection: Upgrade (WebSocket): what follows is HTTP again only if the answer is not 101.
          if (upgrade_ == UpgradeState::none) upgrade_ = UpgradeState::waiting;
          while (upgrade_ == UpgradeState::waiting && upstream_connected_ && !closed_) co_await wait_for_signal();
          if (upgrade_ == UpgradeState::accepted) {
            co_await relay_raw();
            co_return;
          }
          upgrade_ = UpgradeState::none;
        }
        break;
      }
    }
    if (closed_) co_return;
  }
  // The client is done sending: let the answers to what it already sent arrive.
  co_await wait_for_responses();
}

awaitable<void> Session::relay_responses(std::uint64_t generation) {
  auto self = shared_from_this();
  HttpStreamParser parser(HttpStreamParser::Direction::response, 256 * 1024);
  if (!pending_.empty()) parser.set_request_method(pending_.front().method);
  std::uint64_t response_bytes = 0;
  std::optional<Clock::time_point> first_byte;
  bool at_eof = false;
  error_code read_error;  // why the upstream's stream ended: end of stream, or a reset

  const auto finish_exchange = [&](int status) {
    if (pending_.empty()) return;
    const auto& exchange = pending_.front();
    const auto now = Clock::now();
    const std::string masked_url =
        exchange.secrets.empty() ? std::string() : mask_occurrences(exchange.url, exchange.secrets);
    // One of these per exchange: written as text (EventLine), not as a DOM.
    EventLine event("http");
    event.add_serialized(flow_.serialized_fields(exchange.secrets))
        .add("http_version", exchange.http_version)
        .add("method", exchange.method)
        .add("url", exchange.secrets.empty() ? std::string_view(exchange.url) : std::string_view(masked_url))
        .add("status", status)
        .add("request_bytes", exchange.request_bytes)
        .add("response_bytes", response_bytes)
        .add("ttfb_ms", std::chrono::duration<double, std::milli>(first_byte.value_or(now) - exchange.started).count())
        .add("duration_ms", std::chrono::duration<double, std::milli>(now - exchange.started).count());
    context_.events().emit_line(event.take());
    context_.counters().http_exchanges++;
    pending_.pop_front();
    response_started_ = false;
    response_bytes = 0;
    first_byte.reset();
    if (!pending_.empty()) parser.set_request_method(pending_.front().method);
  };

  while (generation == upstream_generation_ && !closed_) {
    HttpStreamParser::Step step;
    if (upstream_buffer_.empty()) {
      error_code ec;
      const std::string_view got = co_await upstream_.read_shared(ec);
      const std::size_t n = got.size();
      upstream_buffer_.append(got);
      if (generation != upstream_generation_) co_return;
      if (n > 0) {
        touch();
        flow_.bytes_from_upstream += n;
        if (!first_byte) first_byte = Clock::now();
      }
      if (ec && n == 0 && closed_) co_return;  // we closed the upstream ourselves: the client is gone
      if (ec && n == 0) {
        at_eof = true;
        read_error = ec;
        step = parser.finish();  // a response delimited by the end of the connection ends here
      }
    }
    if (!at_eof) step = parser.parse(upstream_buffer_);
    if (step.consumed > 0) {
      response_bytes += step.consumed;
      response_started_ = true;
      if (!co_await write_client(std::string_view(upstream_buffer_).substr(0, step.consumed))) {
        close_all();
        co_return;
      }
      upstream_buffer_.erase(0, step.consumed);
    }
    if (step.boundary == HttpStreamParser::Boundary::message_complete) {
      const int status = parser.status_code();
      if (status / 100 == 1 && status != 101) continue;  // 100 Continue: the real answer follows
      const bool wanted_upgrade = upgrade_ == UpgradeState::waiting;
      finish_exchange(status);
      if (wanted_upgrade) {
        upgrade_ = UpgradeState::refused;
        notify();
      }
      notify();
      end_idle_read_if_draining();
      if (!parser.keep_alive()) break;
    } else if (step.boundary == HttpStreamParser::Boundary::upgrade) {
      finish_exchange(parser.status_code());
      upgrade_ = UpgradeState::accepted;
      upstream_connected_ = true;
      notify();
      co_return;  // the request side now runs the raw relay
    } else if (step.boundary == HttpStreamParser::Boundary::error) {
      // Cut short by the upstream (what was relayed stays a truncated message the client can tell
      // from a whole one), or a response no two readers would frame alike: never relayed on.
      if (at_eof)
        emit_error(read_error == asio::error::eof ? "upstream_closed" : "upstream_reset",
                   "upstream " + std::string(read_error == asio::error::eof ? "closed" : "reset") +
                       " the connection in the middle of a response (" + read_error.message() + ")",
                   response_bytes == 0 ? 502 : 0);
      else
        emit_error("bad_response", parser.error_reason(), 502);
      if (response_bytes == 0 && !pending_.empty()) {
        co_await send_error_response(502, "Bad Gateway", "malformed response from upstream", pending_.front().method);
      }
      close_all();
      co_return;
    }
    if (at_eof) break;
  }
  if (generation != upstream_generation_) co_return;
  // The upstream closed (or said Connection: close). Requests still waiting get no answer from it.
  upstream_connected_ = false;
  if (!pending_.empty() && !closed_) {
    if (response_bytes == 0) {
      emit_error(read_error && read_error != asio::error::eof ? "upstream_reset" : "upstream_closed",
                 "upstream closed before answering" + (read_error ? " (" + read_error.message() + ")" : std::string()),
                 502);
      co_await send_error_response(502, "Bad Gateway", "upstream closed before answering", pending_.front().method);
    }
    close_all();
  } else if (!closed_) {
    // Answers are complete but the upstream is gone: a keep-alive client reconnects through us.
    upstream_.close();
    // A TLS upstream is not dialled again (that takes a new verified handshake): the client reconnects.
    if (!parser.keep_alive() || upstream_.is_tls()) co_await close_client_gracefully();
  }
  notify();
}

}  // namespace leakguard
