// One client connection, from accept to close: allow-list, original destination, protocol sniffing
// (HTTP/1.x, TLS, raw TCP), explicit-proxy requests (absolute-form, CONNECT) and the relays. One
// coroutine drives it; a watchdog closes it when idle. Data-plane errors are error codes, not
// exceptions: each ends the connection cleanly with an answer and an event.
#pragma once

#include <array>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "proxy/byte_stream.hpp"
#include "proxy/flow.hpp"
#include "proxy/http_codec.hpp"
#include "proxy/policy.hpp"
#include "proxy/proxy_context.hpp"

namespace leakguard {

class TlsInterceptor;
class Http2SessionHooks;

class Session : public std::enable_shared_from_this<Session> {
  friend class Http2SessionHooks;

 public:
  Session(ProxyContext& context, tcp::socket client, std::string flow_id);
  ~Session();

  // Runs the connection to its end. Spawn with co_spawn on the client socket's executor.
  asio::awaitable<void> run();
  // Graceful shutdown: an idle keep-alive connection closes now, a busy one after its exchange.
  void drain();
  tcp::socket::executor_type executor() { return client_.socket().get_executor(); }

 private:
  using Clock = std::chrono::steady_clock;

  // What the first bytes of a stream look like.
  // h2c: the HTTP/2 client preface in clear (prior knowledge, RFC 9113 3.3).
  enum class Protocol { http, h2c, tls, raw, silent };

  asio::awaitable<void> watchdog();
  asio::awaitable<void> serve_explicit();
  // A stream whose destination is known (transparent, or inside a CONNECT tunnel).
  asio::awaitable<void> serve_stream(tcp::endpoint destination, std::string host);
  asio::awaitable<Protocol> sniff();
  // The TLS branch of serve_stream (tls_session.cpp): passthrough or interception (issue 5).
  asio::awaitable<void> serve_tls(tcp::endpoint destination);
  asio::awaitable<void> pass_through_tls(tcp::endpoint destination, std::string_view reason,
                                         const std::vector<std::string>& alpn);
  void emit_client_rejected(const std::string& name, std::string_view reason);
  // The orderly end of a client connection: a TLS client gets our close_notify first (a response
  // delimited by the close is then not mistaken for a truncation), then close_all().
  asio::awaitable<void> close_client_gracefully();
  asio::awaitable<bool> read_client();  // appends to client_buffer_; false on EOF or error

  // Upstream connection with the connect timeout; on failure answers nothing (callers decide).
  enum class ConnectResult { ok, refused, timeout, loop, resolve_failed };
  asio::awaitable<ConnectResult> connect_upstream(const tcp::endpoint& destination);
  asio::awaitable<ConnectResult> connect_upstream(const std::string& host, std::uint16_t port);

  // Bidirectional byte relay until both sides are done. `client_buffer_` is sent first.
  asio::awaitable<void> relay_raw();
  asio::awaitable<void> pump(ByteStream& from, ByteStream& to, bool from_client);

  // The HTTP/1.x path (http_session.cpp). `explicit_proxy`: requests carry their own destination.
  asio::awaitable<void> serve_http(bool explicit_proxy);
  asio::awaitable<void> relay_responses(std::uint64_t generation);
  // The HTTP/2 path (http2_session.cpp): both legs speak h2, a stream is an exchange.
  struct Http2Link;
  asio::awaitable<void> serve_http2();
  asio::awaitable<void> read_upstream_http2(std::shared_ptr<Http2Link> link);
  asio::awaitable<void> flush_http2(Http2Link& link);
  void drain_http2();
  asio::awaitable<void> handle_connect(const HttpRequestHead& head);
  asio::awaitable<bool> wait_for_responses();  // until every forwarded request has its response
  // An answer of leakguard's own, then the connection closes. To a HEAD request it is a head only
  // (RFC 9110 section 9.3.2): a body would be read as the start of the next response.
  asio::awaitable<void> send_error_response(int status, std::string_view reason, std::string_view detail,
                                            std::string_view request_method = {});
  asio::awaitable<bool> write_upstream(std::string_view bytes);
  asio::awaitable<bool> write_client(std::string_view bytes);
  void notify();  // wakes a coroutine waiting in wait_for_signal()
  // During a drain, ends the idle wait for a next request once no response is in flight.
  void end_idle_read_if_draining();
  asio::awaitable<void> wait_for_signal();

  void emit_error(std::string_view error, std::string_view detail, int status = 0);

  // Inspection and policy (inspection.cpp).
  void attribute_device();            // device profile by IP/CIDR or MAC, and the learning store
  void set_destination(const tcp::endpoint& destination);  // flow_.dst and its country
  ExchangeFacts facts() const;
  InspectionContext inspection_context() const;
  // Emits finding and anomaly events with the verdict's action per finding.
  void emit_findings(const InspectionResult& result, const ExchangeVerdict& verdict, std::string_view method,
                     std::string_view url);
  void emit_policy_block(const ExchangeVerdict& verdict, std::string_view method, std::string_view url);
  // The block verdict of a destination rule (host, address, port, country), or none: it needs no
  // finding, and nothing is forwarded to a forbidden destination.
  std::optional<ExchangeVerdict> forbidden_destination() const;
  // Raw TCP: the first window is judged before anything is forwarded when policy may block.
  asio::awaitable<bool> inspect_first_raw_window();
  // Findings in a host name sent in clear (TLS server name, CONNECT target), with `where` set; the
  // block verdict (its policy event already emitted) when policy blocks the connection.
  std::optional<ExchangeVerdict> inspect_name(std::string_view name, std::string_view where);
  // A client->upstream chunk of a raw stream; false when policy says to cut the connection.
  bool inspect_raw_chunk(std::string_view bytes, bool end_of_stream);
  void touch() {
    last_activity_ = Clock::now();
    if (tls_buffers_released_) {
      tls_buffers_released_ = false;
      watchdog_timer_.cancel();  // re-armed with the next quiet deadline
    }
  }
  // A TLS connection quiet for this long gives its OpenSSL record buffers back (2 x 34 KiB for an
  // intercepted one); the next record allocates them again. Gaps within a busy connection are far
  // shorter, so it never pays that twice per exchange. The watchdog checks.
  static constexpr std::chrono::seconds tls_quiet_after{2};
  void release_tls_buffers();
  void close_all();

  struct PendingExchange {
    std::string method;
    std::string url;
    std::vector<std::string> secrets;  // identifier texts found in this request: masked in its events
    Clock::time_point started;
    std::uint64_t request_bytes = 0;
    std::string_view http_version = "1.1";  // "1.0" or "1.1": the request line's
  };

  ProxyContext& context_;
  RuntimeSnapshotPtr snapshot_;
  ConfigSnapshot config_;  // snapshot_->config
  const DeviceProfile* device_ = nullptr;
  std::shared_ptr<LearnedValues> learned_;
  // Header lines this connection sent clean before: left out of the next requests' inspection.
  // Mutable: inspection_context() hands it out, and it changes nothing a finding depends on.
  mutable HeaderMemo header_memo_;
  std::optional<RawStreamScanner> raw_scanner_;  // client->upstream scanning of a raw stream
  bool raw_may_block_ = false;
  std::shared_ptr<TlsInterceptor> tls_;  // before the streams: their SSL objects use its contexts
  ByteStream client_;
  ByteStream upstream_;
  asio::steady_timer watchdog_timer_;
  asio::steady_timer signal_;
  Flow flow_;
  std::string client_buffer_;
  std::string upstream_buffer_;
  // One socket read at most, for the raw relay's own buffer (pump); the HTTP readers read into the
  // thread's shared buffer (ByteStream::read_shared) and append only the bytes received: growing
  // a string by a whole read size zero-fills 16 KiB per read (3% of the proxy's CPU).
  static constexpr std::size_t read_chunk_size = ByteStream::shared_read_size;
  Clock::time_point last_activity_ = Clock::now();
  Clock::time_point sniff_deadline_ = Clock::time_point::max();
  bool tls_buffers_released_ = false;
  bool closed_ = false;
  // The client half-closed. Asio must not be asked to read again after an end of stream: with
  // edge-triggered epoll a second read of a drained socket waits for an event that never comes.
  bool client_eof_ = false;
  error_code client_read_error_;  // why the last read of the client ended it (eof, reset, truncated TLS)
  bool connect_timed_out_ = false;
  bool draining_ = false;
  bool between_requests_ = false;  // waiting for the next request on a keep-alive connection
  bool conn_open_emitted_ = false;

  // HTTP state shared by the request and response coroutines (same executor, no locks).
  std::deque<PendingExchange> pending_;
  std::shared_ptr<Http2Link> http2_;  // set while the connection speaks HTTP/2
  std::int32_t event_stream_ = 0;  // the HTTP/2 stream whose finding and policy events are being emitted
  std::string upstream_authority_;  // host:port of the current upstream in explicit mode
  std::uint64_t upstream_generation_ = 0;
  bool upstream_connected_ = false;
  bool upstream_failed_ = false;     // the response side ended the connection
  bool response_started_ = false;    // bytes of the current response were relayed to the client
  enum class UpgradeState { none, waiting, accepted, refused } upgrade_ = UpgradeState::none;
};

}  // namespace leakguard
