// The HTTP/1.x path of a session: requests from the client are parsed one at a time and forwarded
// (head re-serialised with names, order and case kept; body bytes as received), responses are
// parsed beside a raw relay so pipelining, HEAD, 1xx and 101 stay in step with the requests.
#include <charconv>

#include "proxy/session.hpp"

namespace leakguard {

using asio::awaitable;
using asio::redirect_error;
using asio::use_awaitable;

namespace {

constexpr std::size_t read_chunk_size = 16 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

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

// "host:port" / "[v6]:port" / "host" (default port). False when malformed.
bool split_authority(std::string_view authority, std::uint16_t default_port, std::string& host, std::uint16_t& port) {
  port = default_port;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(authority.substr(1, close - 1));
    const auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port_text = rest.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (host.empty()) return false;
  if (!port_text.empty()) {
    unsigned value = 0;
    const auto [end, err] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (err != std::errc{} || end != port_text.data() + port_text.size() || value == 0 || value > 65535) return false;
    port = static_cast<std::uint16_t>(value);
  }
  return true;
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

awaitable<void> Session::send_error_response(int status, std::string_view reason, std::string_view detail) {
  std::string body(reason);
  if (!detail.empty()) body.append(": ").append(detail);
  body.push_back('\n');
  std::string response = "HTTP/1.1 " + std::to_string(status) + " " + std::string(status_text(status)) +
                         "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
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
  flow_.dst_host = host;
  const auto result = co_await connect_upstream(host, port);
  if (result != ConnectResult::ok) {
    const int status = result == ConnectResult::timeout ? 504 : result == ConnectResult::loop ? 508 : 502;
    emit_error(result == ConnectResult::timeout  ? "upstream_timeout"
               : result == ConnectResult::loop   ? "loop"
                                                 : "upstream_unreachable",
               "CONNECT " + head.target, status);
    co_await send_error_response(status, status_text(status), head.target);
    co_return;
  }
  if (!co_await write_client("HTTP/1.1 200 Connection established\r\n\r\n")) co_return;
  // Inside the tunnel the client speaks to the destination as if it were transparent: sniff again.
  const auto destination = upstream_.socket().remote_endpoint();
  upstream_.close();
  co_await serve_stream(destination, host);
}

awaitable<void> Session::serve_http(bool explicit_proxy) {
  auto self = shared_from_this();
  HttpStreamParser parser(HttpStreamParser::Direction::request, config_->limits.max_header_bytes);
  bool in_message = false;
  bool head_sent = false;
  std::uint64_t request_bytes = 0;

  // An answer of our own after every earlier response: pipelined responses keep their order.
  auto refuse = [this](int status, std::string error, std::string detail) -> awaitable<void> {
    emit_error(error, detail, status);
    co_await wait_for_responses();
    co_await send_error_response(status, status_text(status), detail);
  };

  for (;;) {
    if (client_buffer_.empty()) {
      between_requests_ = !in_message;
      if (between_requests_ && draining_) break;
      const bool got = co_await read_client();
      between_requests_ = false;
      if (!got) {
        if (in_message && !closed_) emit_error("client_closed", "client closed in the middle of a request");
        if (in_message && head_sent) co_return;  // the upstream holds half a request: drop it
        break;
      }
    }
    const auto step = parser.parse(client_buffer_);
    if (in_message && head_sent && step.consumed > 0) {
      request_bytes += step.consumed;
      if (!co_await write_upstream(std::string_view(client_buffer_).substr(0, step.consumed))) co_return;
    }
    client_buffer_.erase(0, step.consumed);

    switch (step.boundary) {
      case HttpStreamParser::Boundary::need_more:
        if (step.consumed > 0) in_message = true;
        break;

      case HttpStreamParser::Boundary::error: {
        const bool too_large = parser.error() == HttpParseError::head_too_large;
        if (head_sent) {
          // The body broke after its head went upstream: the upstream must not wait for the rest.
          upstream_.close();
        }
        co_await refuse(too_large ? 431 : 400, too_large ? "header_too_large" : "bad_request",
                        parser.error_reason());
        co_return;
      }

      case HttpStreamParser::Boundary::head_complete: {
        in_message = true;
        HttpRequestHead head = parser.head();
        std::string url;
        if (explicit_proxy) {
          if (iequals(head.method, "CONNECT")) {
            co_await wait_for_responses();
            co_await handle_connect(head);
            co_return;
          }
          const auto target = parse_absolute_target(head.target);
          if (!target) {
            co_await refuse(400, "bad_request", "an explicit proxy request needs an absolute http:// target");
            co_return;
          }
          head.target = target->origin_form;
          set_upstream_host(head, target->authority);  // RFC 9112 3.2.2: the target's authority wins
          std::erase_if(head.headers, [](const HttpHeader& h) { return iequals(h.name, "proxy-connection"); });
          const std::string authority = target->host + ":" + std::to_string(target->port);
          if (authority != upstream_authority_ || !upstream_connected_) {
            co_await wait_for_responses();
            if (upstream_connected_) {
              ++upstream_generation_;  // the old response relay ends quietly
              upstream_connected_ = false;
              upstream_.close();
            }
            flow_.dst_host = target->host;
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
                executor(),
                [self, generation = upstream_generation_]() { return self->relay_responses(generation); },
                asio::detached);
          }
          url = "http://" + target->authority + target->origin_form;
        } else {
          const auto host = head.host();
          std::string host_name;
          std::uint16_t ignored_port = 0;
          if (split_authority(host, 80, host_name, ignored_port)) flow_.dst_host = host_name;
          if (!upstream_connected_) {
            co_await wait_for_responses();
            const auto result = co_await connect_upstream(*flow_.dst);
            if (result != ConnectResult::ok) {
              const int status = result == ConnectResult::timeout ? 504 : result == ConnectResult::loop ? 508 : 502;
              co_await refuse(status, result == ConnectResult::timeout ? "upstream_timeout" : "upstream_unreachable",
                              endpoint_string(*flow_.dst));
              co_return;
            }
            upstream_connected_ = true;
            asio::co_spawn(
                executor(),
                [self, generation = upstream_generation_]() { return self->relay_responses(generation); },
                asio::detached);
          }
          url = (flow_.transport == "https" ? "https://" : "http://") + std::string(host.empty() ? endpoint_string(*flow_.dst) : std::string(host)) + head.target;
        }
        const std::string serialized = serialize_request_head(head);
        pending_.push_back({head.method, std::move(url), Clock::now(), serialized.size()});
        request_bytes = serialized.size();
        if (!co_await write_upstream(serialized)) co_return;
        head_sent = true;
        break;
      }

      case HttpStreamParser::Boundary::message_complete:
      case HttpStreamParser::Boundary::upgrade:
        if (!pending_.empty()) pending_.back().request_bytes = request_bytes;
        in_message = false;
        head_sent = false;
        if (step.boundary == HttpStreamParser::Boundary::upgrade) {
          // Connection: Upgrade (WebSocket): what follows is HTTP again only if the answer is not 101.
          if (upgrade_ == UpgradeState::none) upgrade_ = UpgradeState::waiting;
          while (upgrade_ == UpgradeState::waiting && upstream_connected_ && !closed_) co_await wait_for_signal();
          if (upgrade_ == UpgradeState::accepted) {
            flow_.transport = flow_.transport == "http" ? "http" : flow_.transport;
            co_await relay_raw();
            co_return;
          }
          upgrade_ = UpgradeState::none;
        }
        break;
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

  const auto finish_exchange = [&](int status) {
    if (pending_.empty()) return;
    const auto& exchange = pending_.front();
    auto event = flow_.event("http");
    event["method"] = exchange.method;
    event["url"] = exchange.url;
    event["status"] = status;
    event["request_bytes"] = exchange.request_bytes;
    event["response_bytes"] = response_bytes;
    const auto now = Clock::now();
    event["ttfb_ms"] =
        std::chrono::duration<double, std::milli>(first_byte.value_or(now) - exchange.started).count();
    event["duration_ms"] = std::chrono::duration<double, std::milli>(now - exchange.started).count();
    context_.events().emit(std::move(event));
    context_.counters().http_exchanges++;
    pending_.pop_front();
    response_bytes = 0;
    first_byte.reset();
    if (!pending_.empty()) parser.set_request_method(pending_.front().method);
  };

  while (generation == upstream_generation_ && !closed_) {
    HttpStreamParser::Step step;
    if (upstream_buffer_.empty()) {
      const auto old_size = upstream_buffer_.size();
      upstream_buffer_.resize(old_size + read_chunk_size);
      error_code ec;
      const auto n =
          co_await upstream_.read_some(asio::buffer(upstream_buffer_.data() + old_size, read_chunk_size), ec);
      upstream_buffer_.resize(old_size + n);
      if (generation != upstream_generation_) co_return;
      if (n > 0) {
        touch();
        flow_.bytes_from_upstream += n;
        if (!first_byte) first_byte = Clock::now();
      }
      if (ec && n == 0) {
        at_eof = true;
        step = parser.finish();  // a response delimited by the end of the connection ends here
      }
    }
    if (!at_eof) step = parser.parse(upstream_buffer_);
    if (step.consumed > 0) {
      response_bytes += step.consumed;
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
      if (!parser.keep_alive()) break;
    } else if (step.boundary == HttpStreamParser::Boundary::upgrade) {
      finish_exchange(parser.status_code());
      upgrade_ = UpgradeState::accepted;
      upstream_connected_ = true;
      notify();
      co_return;  // the request side now runs the raw relay
    } else if (step.boundary == HttpStreamParser::Boundary::error) {
      emit_error("bad_response", parser.error_reason(), 502);
      if (response_bytes == 0 && !pending_.empty()) {
        co_await send_error_response(502, "Bad Gateway", "malformed response from upstream");
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
      emit_error("upstream_closed", "upstream closed before answering", 502);
      co_await send_error_response(502, "Bad Gateway", "upstream closed before answering");
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
