// The TLS branch of a session (issue 5): read the whole ClientHello without losing a byte, decide
// between passthrough and interception, and for interception do the origin's handshake first (full
// verification), then the client's with a forged leaf, then run the very same HTTP path as
// plaintext. Every decision and failure is a `tls` event carrying the connection fields.
#include <sys/socket.h>

#include <cerrno>
#include <span>

#include "certs/host_glob.hpp"
#include "common/ip_network.hpp"
#include "proxy/session.hpp"
#include "proxy/tls_client_hello.hpp"
#include "proxy/tls_interceptor.hpp"

namespace leakguard {

using asio::awaitable;
using asio::redirect_error;
using asio::use_awaitable;

namespace {

// A fatal handshake_failure alert as a plaintext record (type 21, version 3.3, length 2, level
// fatal, description 40): what a client gets when the origin could not be verified. It comes
// before any ServerHello, so it is valid for TLS 1.2 and 1.3 clients alike.
constexpr char handshake_failure_alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
// no_application_protocol (120): the origin shares no ALPN protocol with what the phone offered,
// and the phone hears exactly that, as it would without leakguard (RFC 7301 3.2).
constexpr char no_application_protocol_alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x78};

// A client that completes the handshake and then closes within this window without sending one
// byte is taken to have rejected the certificate after the fact: OkHttp's CertificatePinner, the
// most common pinning on Android, checks pins after the handshake and closes the socket at once.
// Browsers' speculative preconnects also close unused, but after seconds, not milliseconds.
constexpr auto close_after_handshake_window = std::chrono::milliseconds(1000);

// Cancels a stream's pending operations when a handshake or shutdown outlives its deadline. The
// handler holds the session, so the stream it points to outlives it.
class StreamDeadline {
 public:
  StreamDeadline(std::shared_ptr<Session> session, ByteStream& stream, std::chrono::milliseconds limit)
      : timer_(session->executor()), fired_(std::make_shared<bool>(false)) {
    timer_.expires_after(limit);
    timer_.async_wait([session = std::move(session), &stream, fired = fired_](error_code ec) {
      if (ec) return;
      *fired = true;
      stream.cancel();
    });
  }
  ~StreamDeadline() { timer_.cancel(); }
  bool fired() const { return *fired_; }

 private:
  asio::steady_timer timer_;
  std::shared_ptr<bool> fired_;
};

bool any_glob_matches(const std::vector<std::string>& globs, std::string_view host) {
  for (const auto& glob : globs)
    if (host_glob_match(glob, host)) return true;
  return false;
}

// A client that cannot speak TLS 1.2 would fail our handshake (TLS 1.2 is the floor on both sides).
bool speaks_tls12(const ClientHello& hello) {
  if (hello.supported_versions.empty()) return hello.legacy_version >= 0x0303;
  for (const auto version : hello.supported_versions)
    if (version == 0x0303 || version == tls_version_1_3) return true;
  return false;
}

// leakguard relays h2 and http/1.1 (and HTTP/1.0 inside http/1.1's ALPN answer): a client whose
// ALPN list has neither (a protocol of its own over TLS) would break on a forged connection, so it
// is passed through instead. No ALPN at all is HTTP/1.1.
bool offers_relayed_protocol(const ClientHello& hello) {
  if (hello.alpn.empty()) return true;
  for (const auto& protocol : hello.alpn)
    if (protocol == "h2" || protocol == "http/1.1" || protocol == "http/1.0") return true;
  return false;
}

// False when the client has already closed (or reset) its side: its EOF during our handshake would
// otherwise look like a rejection of our certificate. A live TLS client sends nothing until our
// ServerHello, so a non-blocking peek finds nothing to read.
bool client_still_there(tcp::socket& socket) {
  char byte = 0;
  const auto n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return true;
  if (n == 0) return false;
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

}  // namespace

awaitable<void> Session::serve_tls(tcp::endpoint destination) {
  auto self = shared_from_this();

  // 1. The whole ClientHello. It stays in client_buffer_: a passthrough sends it on byte for byte,
  // an interception hands it to the handshake. Bounded by max_client_hello_bytes (the parser calls a
  // longer one malformed) and by the first-bytes deadline the sniff used.
  const auto parse = [this] {
    return parse_client_hello(std::span(reinterpret_cast<const std::uint8_t*>(client_buffer_.data()),
                                        client_buffer_.size()));
  };
  ClientHelloParse parsed = parse();
  if (parsed.status == ClientHelloStatus::need_more) {
    sniff_deadline_ = Clock::now() + config_->limits.first_bytes_timeout;
    watchdog_timer_.cancel();  // re-arm the watchdog with the deadline
    while (parsed.status == ClientHelloStatus::need_more && co_await read_client()) parsed = parse();
    sniff_deadline_ = Clock::time_point::max();
    if (closed_) co_return;
  }

  // 2. The decision. The name is the SNI, or the destination address when there is none.
  const ClientHello& hello = parsed.hello;
  if (parsed.status == ClientHelloStatus::ok && hello.has_server_name()) {
    flow_.sni = hello.server_name;
    if (flow_.dst_host.empty() || flow_.dst_host_source == "dns") flow_.set_host(hello.server_name, "sni");
    if (inspect_name(flow_.sni, "tls.sni")) co_return;  // blocked: not a byte of the hello went anywhere
  }
  const std::string name =
      hello.has_server_name() ? normalize_host(hello.server_name) : unmap_v4(destination.address()).to_string();
  tls_ = context_.tls_interceptor();
  std::string_view passthrough;
  std::optional<LeafName> leaf_name;
  if (parsed.status == ClientHelloStatus::need_more)
    passthrough = "incomplete";  // the client stalled or closed mid-hello: forward what there is
  else if (parsed.status != ClientHelloStatus::ok)
    passthrough = "malformed";
  else if (any_glob_matches(config_->tls.passthrough, name))
    passthrough = "config";
  else if (!tls_ || !should_intercept(config_->tls, name))
    passthrough = "not_intercepted";
  else if (tls_->pinned().is_pinned(flow_.client.address(), name))
    passthrough = "pinned";
  else if (!speaks_tls12(hello))
    passthrough = "client_tls_version";
  else if (!offers_relayed_protocol(hello))
    passthrough = "alpn";
  else if (!(leaf_name = LeafForge::canonical_name(name)))
    passthrough = "uncertifiable_name";
  if (!passthrough.empty()) {
    co_await pass_through_tls(destination, passthrough, hello.alpn);
    co_return;
  }

  bool cache_hit = false;
  const auto leaf = tls_->leaves().forge(name, &cache_hit);
  if (!leaf) {
    co_await pass_through_tls(destination, "forge_failed", hello.alpn);
    co_return;
  }

  const auto tls_failure = [this](std::string_view event_name, std::string_view reason) {
    context_.counters().tls_failed++;
    auto event = flow_.event("tls");
    event["event"] = event_name;
    event["reason"] = reason;
    context_.events().emit(std::move(event));
  };

  // 3. The origin first: a client only ever gets our certificate for a host whose real certificate
  // verified (chain against tls.upstream_ca, then the name or address).
  flow_.transport = "https";
  const auto connected = co_await connect_upstream(destination);
  if (connected != ConnectResult::ok) {
    emit_error(connected == ConnectResult::timeout ? "upstream_timeout" : "upstream_unreachable",
               "cannot connect to the original destination");
    co_return;
  }
  auto& upstream_tls = upstream_.start_tls(tls_->client_context());
  if (!tls_->prepare_client(upstream_tls.native_handle(), destination, *leaf_name, hello.alpn)) {
    tls_failure("upstream_handshake_failed", ossl::error_message("cannot prepare the upstream connection"));
    co_return;
  }
  error_code ec;
  {
    StreamDeadline deadline(self, upstream_, config_->limits.connect_timeout);
    co_await upstream_tls.handshake(TlsStream::Role::client, {}, ec);
    if (deadline.fired()) ec = asio::error::timed_out;
  }
  if (closed_) co_return;
  if (ec) {
    // Never a downgrade: the client gets a handshake failure, not a certificate and not the bytes.
    tls_->forget_session(upstream_tls.native_handle());
    const std::string verify_error = upstream_verify_error(upstream_tls.native_handle());
    ossl::clear_errors();
    if (!verify_error.empty())
      tls_failure("upstream_verify_failed", verify_error);
    else
      tls_failure("upstream_handshake_failed", ec == asio::error::timed_out ? "timeout" : ec.message());
    const bool no_common_protocol = ec.message().find("no application protocol") != std::string::npos;
    if (no_common_protocol)
      co_await write_client(std::string_view(no_application_protocol_alert, sizeof no_application_protocol_alert));
    else
      co_await write_client(std::string_view(handshake_failure_alert, sizeof handshake_failure_alert));
    co_return;
  }
  touch();
  const std::string upstream_alpn = selected_alpn(upstream_tls.native_handle());

  // 4. The client, with the leaf, fed the ClientHello bytes we already hold, and the origin's ALPN.
  if (!client_still_there(client_.socket())) {
    tls_failure("client_handshake_failed", "client closed before the handshake");
    co_return;
  }
  auto& client_tls = client_.start_tls(tls_->server_context());
  TlsInterceptor::offer_client_alpn(client_tls.native_handle(), upstream_alpn);
  if (!TlsInterceptor::prepare_server(client_tls.native_handle(), *leaf)) {
    tls_failure("client_handshake_failed", ossl::error_message("cannot install the forged certificate"));
    co_return;
  }
  {
    StreamDeadline deadline(self, client_, config_->limits.connect_timeout);
    co_await client_tls.handshake(TlsStream::Role::server, client_buffer_, ec);
    if (deadline.fired()) ec = asio::error::timed_out;
  }
  client_buffer_.clear();
  if (closed_) co_return;
  if (ec) {
    const std::string reason = ec == asio::error::timed_out ? "timeout" : ec.message();
    ossl::clear_errors();
    if (ec != asio::error::timed_out && classify_client_failure(ec) == ClientTlsFailure::rejected_certificate) {
      emit_client_rejected(name, reason);
    } else {
      tls_failure("client_handshake_failed", reason);
    }
    co_return;
  }
  touch();
  const auto handshake_done = Clock::now();

  context_.counters().tls_intercepted++;
  std::string client_alpn;
  {
    auto event = flow_.event("tls");
    event["event"] = "intercepted";
    event["leaf"] = leaf->name();
    event["leaf_cache"] = cache_hit ? "hit" : "miss";
    event["client_tls"] = tls_version_name(client_tls.native_handle());
    event["upstream_tls"] = tls_version_name(upstream_tls.native_handle());
    event["upstream_resumed"] = SSL_session_reused(upstream_tls.native_handle()) == 1;
    client_alpn = selected_alpn(client_tls.native_handle());
    if (!client_alpn.empty()) event["alpn"] = client_alpn;
    if (!upstream_alpn.empty()) event["upstream_alpn"] = upstream_alpn;
    context_.events().emit(std::move(event));
  }

  // 5. The first request bytes, or the late rejection of a pinning client (see the window above).
  if (!co_await read_client()) {
    if (!closed_ && client_buffer_.empty() && Clock::now() - handshake_done < close_after_handshake_window)
      emit_client_rejected(name, "closed after the handshake without a request");
    co_return;
  }

  // 6. Decrypted HTTP takes exactly the plaintext path; its upstream is the verified TLS stream.
  // Both legs settled on h2 (the phone only gets h2 when the origin chose it): the HTTP/2 path.
  if (client_alpn == "h2") {
    co_await serve_http2();
    co_return;
  }
  upstream_connected_ = true;
  asio::co_spawn(
      executor(), [self, generation = upstream_generation_]() { return self->relay_responses(generation); },
      asio::detached);
  co_await serve_http(false);
  co_await close_client_gracefully();
}

awaitable<void> Session::close_client_gracefully() {
  if (!closed_ && client_.is_tls()) {
    auto self = shared_from_this();
    // Our close_notify only. Waiting for the client's would hold the connection for nothing, and
    // reading for it would race the request reader that may still be pending on the same stream;
    // marking it received makes the shutdown a single write.
    SSL_set_shutdown(client_.tls().native_handle(), SSL_RECEIVED_SHUTDOWN);
    error_code ec;
    StreamDeadline deadline(self, client_, std::chrono::milliseconds(1000));
    co_await client_.tls().shutdown(ec);
  }
  close_all();
}

void Session::emit_client_rejected(const std::string& name, std::string_view reason) {
  context_.counters().tls_client_rejected++;
  tls_->pinned().remember(flow_.client.address(), name);
  auto event = flow_.event("tls");
  event["event"] = "client_rejected";
  event["reason"] = reason;
  event["host"] = name;
  event["passthrough_for_s"] = config_->tls.pinned_ttl.count();
  context_.events().emit(std::move(event));
}

awaitable<void> Session::pass_through_tls(tcp::endpoint destination, std::string_view reason,
                                          const std::vector<std::string>& alpn) {
  flow_.transport = "tls-passthrough";
  context_.counters().tls_passthrough++;
  auto event = flow_.event("tls");
  event["event"] = "passthrough";
  event["passthrough"] = reason;
  if (reason == "alpn") event["alpn_offered"] = alpn;
  context_.events().emit(std::move(event));

  // Destination rules hold for what is not decrypted too (a host, address, port or country rule,
  // with or without `transports: [tls-passthrough]`): nothing is forwarded, the client is closed.
  if (const auto verdict = forbidden_destination()) {
    emit_policy_block(*verdict, "", "");
    co_return;
  }
  const auto result = co_await connect_upstream(destination);
  if (result != ConnectResult::ok) {
    emit_error(result == ConnectResult::timeout ? "upstream_timeout" : "upstream_unreachable",
               "cannot connect to the original destination");
    co_return;
  }
  co_await relay_raw();
}

}  // namespace leakguard
