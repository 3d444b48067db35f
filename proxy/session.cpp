#include "proxy/session.hpp"

#include <algorithm>

#include "common/free_memory.hpp"
#include "common/ip_network.hpp"
#include "proxy/original_destination.hpp"

namespace leakguard {

using asio::awaitable;
using asio::redirect_error;
using asio::use_awaitable;

namespace {

bool is_tls_record_start(std::string_view bytes) {
  // Handshake record (0x16) with a 3.x legacy version: every TLS ClientHello starts like this.
  return !bytes.empty() && static_cast<unsigned char>(bytes[0]) == 0x16 &&
         (bytes.size() < 2 || static_cast<unsigned char>(bytes[1]) == 0x03);
}
}  // namespace

bool ProxyContext::is_own_listening_address(const tcp::endpoint& endpoint) const {
  const auto address = unmap_v4(endpoint.address());
  for (const auto& own : listening_) {
    if (own.port() != endpoint.port()) continue;
    const auto own_address = unmap_v4(own.address());
    if (own_address == address) return true;
    // A wildcard listener owns the port on every local address; loopback is the one a client
    // can reach it by without knowing the box's addresses.
    if (own_address.is_unspecified() && address.is_loopback()) return true;
  }
  return false;
}

void ProxyContext::add_session(Session* session, std::weak_ptr<Session> handle) {
  std::lock_guard lock(sessions_mutex_);
  sessions_.emplace(session, std::move(handle));
}

void ProxyContext::remove_session(Session* session) {
  std::lock_guard lock(sessions_mutex_);
  sessions_.erase(session);
}

std::size_t ProxyContext::session_count() {
  std::lock_guard lock(sessions_mutex_);
  return sessions_.size();
}

void ProxyContext::drain_sessions() {
  std::lock_guard lock(sessions_mutex_);
  for (auto& [raw, handle] : sessions_) {
    if (auto session = handle.lock()) {
      // Each session belongs to its own executor: tell it there, never from this thread.
      asio::post(session->executor(), [session] { session->drain(); });
    }
  }
}

Session::Session(ProxyContext& context, tcp::socket client, std::string flow_id)
    : context_(context),
      snapshot_(context.snapshot()),
      config_(snapshot_->config),
      client_(std::move(client)),
      upstream_(tcp::socket(executor())),
      watchdog_timer_(executor()),
      signal_(executor()) {
  flow_.id = std::move(flow_id);
  context_.counters().connections_total++;
  context_.counters().connections_open++;
}

Session::~Session() {
  context_.remove_session(this);
  context_.counters().connections_open--;
  // A closed connection frees its buffers (an intercepted one also two TLS states, about 100 KiB):
  // after a burst of connections the heap would keep its peak (bench/RESULTS.md, soak). The
  // control thread trims at most once a second.
  note_freed_memory();
}

void Session::close_all() {
  if (closed_) return;
  closed_ = true;
  client_.close();
  upstream_.close();
  watchdog_timer_.cancel();
  signal_.cancel();
}

void Session::drain() {
  draining_ = true;
  if (http2_) {
    drain_http2();
    return;
  }
  end_idle_read_if_draining();
}

void Session::end_idle_read_if_draining() {
  // cancel() stops every operation on the client stream, the response relay's writes included:
  // only once the last response has been written is the read for a next request the only one.
  if (draining_ && between_requests_ && pending_.empty()) client_.cancel();
}

void Session::notify() { signal_.cancel(); }

awaitable<void> Session::wait_for_signal() {
  error_code ec;
  signal_.expires_at(Clock::time_point::max());
  co_await signal_.async_wait(redirect_error(use_awaitable, ec));
}

void Session::emit_error(std::string_view error, std::string_view detail, int status) {
  context_.counters().errors++;
  auto event = flow_.event("error");
  event["error"] = error;
  if (!detail.empty()) event["detail"] = detail;
  if (status != 0) event["status"] = status;
  context_.events().emit(std::move(event));
}

awaitable<void> Session::run() {
  auto self = shared_from_this();
  context_.add_session(this, self);
  error_code ec;
  flow_.client = client_.socket().remote_endpoint(ec);
  if (ec) co_return;

  const auto client_address = flow_.client.address();
  const bool allowed = std::any_of(config_->clients_allow.begin(), config_->clients_allow.end(),
                                   [&](const IpNetwork& network) { return network.contains(client_address); });
  if (!allowed) {
    // No open proxy: a client outside the allow-list gets nothing but a closed connection.
    context_.counters().connections_refused++;
    emit_error("client_refused", "client address is not in clients.allow");
    close_all();
    co_return;
  }
  if (context_.counters().connections_open > config_->limits.max_connections) {
    context_.counters().connections_refused++;
    emit_error("too_many_connections", "limits.max_connections reached");
    close_all();
    co_return;
  }
  client_.socket().set_option(tcp::no_delay(true), ec);

  const auto local = client_.socket().local_endpoint(ec);
  // TPROXY keeps the destination: the local address is where the client was going, unless the
  // client dialled leakguard itself (an explicit-proxy client).
  const auto original = config_->transparent == TransparentMode::tproxy
                            ? std::optional<tcp::endpoint>(local)
                            : original_destination(client_.socket());
  flow_.redirected = config_->transparent == TransparentMode::tproxy ? !context_.is_own_listening_address(local)
                                                                       : was_redirected(original, local);
  attribute_device();  // first: the destination's name from DNS is looked up per device
  if (flow_.redirected) set_destination(*original);
  auto open_event = flow_.event("conn");
  open_event["event"] = "open";
  context_.events().emit(std::move(open_event));

  asio::co_spawn(executor(), [self]() { return self->watchdog(); }, asio::detached);
  if (flow_.redirected)
    co_await serve_stream(*original, "");
  else
    co_await serve_explicit();

  close_all();
  auto event = flow_.event("conn");
  event["event"] = "close";
  event["bytes_from_client"] = flow_.bytes_from_client;
  event["bytes_to_client"] = flow_.bytes_to_client;
  event["bytes_to_upstream"] = flow_.bytes_to_upstream;
  event["bytes_from_upstream"] = flow_.bytes_from_upstream;
  event["duration_ms"] =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - flow_.started).count();
  context_.events().emit(std::move(event));
}

awaitable<void> Session::watchdog() {
  auto self = shared_from_this();
  const auto idle = config_->limits.idle_timeout;
  while (!closed_) {
    const auto quiet = tls_buffers_released_ ? Clock::time_point::max() : last_activity_ + tls_quiet_after;
    watchdog_timer_.expires_at(std::min({last_activity_ + idle, sniff_deadline_, quiet}));
    error_code ec;
    co_await watchdog_timer_.async_wait(redirect_error(use_awaitable, ec));
    if (closed_) break;
    const auto now = Clock::now();
    if (now >= last_activity_ + tls_quiet_after && !tls_buffers_released_) release_tls_buffers();
    if (now >= sniff_deadline_) {
      // The client said nothing: stop waiting for its first bytes (server-first protocols).
      sniff_deadline_ = Clock::time_point::max();
      client_.cancel();
      continue;
    }
    if (now >= last_activity_ + idle) {
      if (!pending_.empty() && upstream_connected_) {
        // A forwarded request waits for its answer: idle_timeout is the upstream's read deadline.
        // Before the first byte of the response the client can still be told why.
        if (!response_started_) {
          emit_error("upstream_timeout", "upstream sent no response within limits.idle_timeout_ms", 504);
          co_await send_error_response(504, "Gateway Timeout", "upstream sent no response in time", pending_.front().method);
        } else {
          emit_error("upstream_stalled",
                     "upstream stopped in the middle of a response for limits.idle_timeout_ms: connection closed");
        }
      } else {
        emit_error("idle_timeout", "no traffic for limits.idle_timeout_ms");
      }
      close_all();
    }
  }
}

void Session::release_tls_buffers() {
  tls_buffers_released_ = true;
  if (!client_.is_tls() && !upstream_.is_tls()) return;
  if (client_.is_tls()) client_.tls().release_buffers();
  if (upstream_.is_tls()) upstream_.tls().release_buffers();
  context_.counters().tls_quiet_releases++;
  note_freed_memory();
}

awaitable<bool> Session::read_client() {
  if (client_eof_) co_return false;
  error_code ec;
  const std::string_view got = co_await client_.read_shared(ec);
  const std::size_t n = got.size();
  client_buffer_.append(got);
  if (n > 0) {
    touch();
    flow_.bytes_from_client += n;
    context_.counters().bytes_from_clients += n;
  }
  if (ec == asio::error::eof) client_eof_ = true;
  if (ec && n == 0) client_read_error_ = ec;
  co_return !ec || n > 0;
}

awaitable<bool> Session::write_client(std::string_view bytes) {
  error_code ec;
  co_await client_.write(asio::buffer(bytes), ec);
  if (ec) co_return false;
  touch();
  flow_.bytes_to_client += bytes.size();
  context_.counters().bytes_to_clients += bytes.size();
  co_return true;
}

awaitable<bool> Session::write_upstream(std::string_view bytes) {
  error_code ec;
  co_await upstream_.write(asio::buffer(bytes), ec);
  if (ec) co_return false;
  touch();
  flow_.bytes_to_upstream += bytes.size();
  co_return true;
}

awaitable<Session::Protocol> Session::sniff() {
  sniff_deadline_ = Clock::now() + config_->limits.first_bytes_timeout;
  watchdog_timer_.cancel();  // re-arm the watchdog with the sniff deadline
  bool timed_out = false;
  // Eight bytes tell a TLS record from an HTTP request line from anything else.
  while (client_buffer_.size() < 8) {
    if (!co_await read_client()) {
      timed_out = sniff_deadline_ == Clock::time_point::max() && !closed_;
      break;
    }
    if (is_tls_record_start(client_buffer_) && client_buffer_.size() >= 2) break;
    if (!looks_like_http_request(client_buffer_) && !looks_like_h2_preface(client_buffer_)) break;
    if (client_buffer_.find(' ') != std::string::npos) break;
  }
  sniff_deadline_ = Clock::time_point::max();
  if (client_buffer_.empty()) co_return timed_out ? Protocol::silent : Protocol::raw;
  if (is_tls_record_start(client_buffer_)) co_return Protocol::tls;
  if (looks_like_http_request(client_buffer_)) co_return Protocol::http;
  if (client_buffer_.size() >= 4 && looks_like_h2_preface(client_buffer_)) co_return Protocol::h2c;
  co_return Protocol::raw;
}

awaitable<void> Session::serve_explicit() {
  const auto protocol = co_await sniff();
  if (protocol == Protocol::tls || protocol == Protocol::h2c) {
    emit_error("not_a_proxy_request", "a direct connection that is not HTTP/1.x (explicit proxy clients speak it)");
    co_return;
  }
  if (client_buffer_.empty()) co_return;
  // Explicit clients speak HTTP: a method the sniffer does not list (WebDAV, garbage) goes to the
  // HTTP parser as well, which forwards what llhttp knows and answers 400 to the rest.
  flow_.transport = "http";
  co_await serve_http(true);
}

awaitable<void> Session::serve_stream(tcp::endpoint destination, std::string host) {
  set_destination(destination);
  if (!host.empty()) flow_.set_host(std::move(host), "http");  // a CONNECT target
  if (context_.is_own_listening_address(destination)) {
    emit_error("loop", "destination is leakguard's own listening address");
    co_return;
  }
  const auto protocol = co_await sniff();
  if (closed_) co_return;
  if (protocol == Protocol::raw && client_buffer_.empty()) co_return;  // closed before a byte
  if (protocol == Protocol::http) {
    flow_.transport = "http";
    co_await serve_http(false);
    co_return;
  }
  if (protocol == Protocol::tls) {
    co_await serve_tls(destination);
    co_return;
  }
  if (protocol == Protocol::h2c) {
    // Prior knowledge: the origin is spoken to in h2c as well (a client sends the preface only to a
    // server it knows speaks it).
    flow_.transport = "http";
    const auto result = upstream_.socket().is_open() ? ConnectResult::ok : co_await connect_upstream(destination);
    if (result != ConnectResult::ok) {
      emit_error(result == ConnectResult::timeout ? "upstream_timeout" : "upstream_unreachable",
                 "cannot connect to the original destination");
      co_return;
    }
    co_await serve_http2();
    co_return;
  }
  flow_.transport = "tcp";
  if (const auto verdict = forbidden_destination()) {
    emit_policy_block(*verdict, "", "");
    co_return;  // nothing was forwarded, not even a connection attempt
  }
  raw_scanner_.emplace(snapshot_->inspector->raw_stream_scanner());
  raw_may_block_ = snapshot_->may_hold;
  if (raw_may_block_ && !co_await inspect_first_raw_window()) co_return;
  const auto result = upstream_.socket().is_open() ? ConnectResult::ok : co_await connect_upstream(destination);
  if (result != ConnectResult::ok) {
    emit_error(result == ConnectResult::timeout ? "upstream_timeout" : "upstream_unreachable",
               "cannot connect to the original destination");
    co_return;
  }
  co_await relay_raw();
}

awaitable<Session::ConnectResult> Session::connect_upstream(const tcp::endpoint& destination) {
  if (context_.is_own_listening_address(destination)) co_return ConnectResult::loop;
  error_code ec;
  upstream_.close();
  upstream_.reset(tcp::socket(executor()));
  connect_timed_out_ = false;
  asio::steady_timer timer(executor());
  timer.expires_after(config_->limits.connect_timeout);
  auto self = shared_from_this();
  timer.async_wait([self](error_code timer_ec) {
    if (timer_ec) return;
    self->connect_timed_out_ = true;
    self->upstream_.cancel();
  });
  co_await upstream_.socket().async_connect(destination, redirect_error(use_awaitable, ec));
  timer.cancel();
  if (ec) co_return connect_timed_out_ ? ConnectResult::timeout : ConnectResult::refused;
  upstream_.socket().set_option(tcp::no_delay(true), ec);
  set_destination(destination);
  touch();
  co_return ConnectResult::ok;
}

awaitable<Session::ConnectResult> Session::connect_upstream(const std::string& host, std::uint16_t port) {
  error_code ec;
  tcp::resolver resolver(executor());
  const auto results =
      co_await resolver.async_resolve(host, std::to_string(port), redirect_error(use_awaitable, ec));
  if (ec || results.empty()) co_return ConnectResult::resolve_failed;
  ConnectResult last = ConnectResult::refused;
  for (const auto& entry : results) {
    last = co_await connect_upstream(entry.endpoint());
    if (last == ConnectResult::ok || last == ConnectResult::loop) co_return last;
  }
  co_return last;
}

awaitable<void> Session::pump(ByteStream& from, ByteStream& to, bool from_client) {
  std::array<char, read_chunk_size> buffer;
  for (;;) {
    error_code ec;
    std::size_t n = 0;
    if (from_client && client_eof_)
      ec = asio::error::eof;  // seen while sniffing or holding the first window
    else
      n = co_await from.read_some(asio::buffer(buffer), ec);
    if (from_client && ec == asio::error::eof) client_eof_ = true;
    if (n > 0 && from_client && raw_scanner_ && !inspect_raw_chunk(std::string_view(buffer.data(), n), false)) {
      close_all();  // policy: this chunk carries an identifier that must not leave
      co_return;
    }
    if (n > 0) {
      touch();
      if (from_client) {
        flow_.bytes_from_client += n;
        context_.counters().bytes_from_clients += n;
        flow_.bytes_to_upstream += n;
      } else {
        flow_.bytes_from_upstream += n;
        flow_.bytes_to_client += n;
        context_.counters().bytes_to_clients += n;
      }
      error_code write_ec;
      co_await to.write(asio::buffer(buffer.data(), n), write_ec);
      if (write_ec) {
        close_all();
        co_return;
      }
    }
    if (ec) {
      if (from_client && raw_scanner_) inspect_raw_chunk({}, true);
      if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
        to.shutdown_send();  // pass the half-close on
      else
        close_all();
      co_return;
    }
  }
}

awaitable<void> Session::relay_raw() {
  auto self = shared_from_this();
  if (!client_buffer_.empty()) {
    const std::string first = std::move(client_buffer_);
    client_buffer_.clear();
    // In block mode the first window was judged already (inspect_first_raw_window).
    if (raw_scanner_ && !raw_may_block_ && !inspect_raw_chunk(first, false)) co_return;
    if (!co_await write_upstream(first)) co_return;
  }
  if (!upstream_buffer_.empty()) {
    const std::string first = std::move(upstream_buffer_);
    upstream_buffer_.clear();
    if (!co_await write_client(first)) co_return;
  }
  auto downstream_done = std::make_shared<bool>(false);
  asio::co_spawn(
      executor(),
      [self, downstream_done]() -> awaitable<void> {
        co_await self->pump(self->upstream_, self->client_, false);
        *downstream_done = true;
        self->notify();
      },
      asio::detached);
  co_await pump(client_, upstream_, true);
  while (!*downstream_done && !closed_) co_await wait_for_signal();
}

}  // namespace leakguard
