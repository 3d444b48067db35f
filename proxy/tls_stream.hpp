// One TLS side of a session: OpenSSL reading and writing the TCP socket itself, through a small
// BIO of ours, with the coroutine waiting for the socket whenever OpenSSL wants to read or write.
//
// Why not asio::ssl::stream: it stages every byte through two 17 KiB buffers of its own and a BIO
// pair with two more, about 68 KiB per TLS side for as long as the connection lives, busy or idle.
// An intercepted connection has two TLS sides, and a router holds thousands of idle ones.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/ssl.h>

#include "common/asio.hpp"

namespace leakguard {

class TlsStream {
 public:
  enum class Role { client, server };

  // Takes the connected socket; `context` configures the SSL object (certificates, verification,
  // ALPN and SNI are set on native_handle() before the handshake). Throws std::bad_alloc when
  // OpenSSL cannot allocate.
  TlsStream(tcp::socket socket, SSL_CTX* context);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  SSL* native_handle() const { return ssl_.get(); }
  tcp::socket& next_layer() { return socket_; }

  // `received`: bytes already read from the socket that belong to the handshake (the ClientHello
  // a server side peeked at); OpenSSL reads them before the socket.
  asio::awaitable<void> handshake(Role role, std::string_view received, error_code& ec);
  // Errors as asio::ssl::stream reports them: asio::error::eof after the peer's close_notify,
  // asio::ssl::error::stream_truncated when the TCP connection ended without one, the socket's
  // own error (connection_reset, ...), or an OpenSSL error in asio's ssl category.
  asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer, error_code& ec);
  asio::awaitable<void> write(asio::const_buffer buffer, error_code& ec);
  // Sends our close_notify; does not wait for the peer's.
  asio::awaitable<void> shutdown(error_code& ec);

  // Frees OpenSSL's record buffers (about 34 KiB) while nothing is buffered in them; OpenSSL
  // allocates them again for the next record. For connections that have gone quiet.
  void release_buffers();

 private:
  struct Bio;
  // Calls `step` (one non-blocking OpenSSL call returning its result) until it completes, waiting
  // on the socket for each WANT_READ / WANT_WRITE. The SSL result (> 0 done, <= 0 failed) is
  // returned; on failure `ec` says why.
  template <class Step>
  asio::awaitable<int> drive(Step step, error_code& ec);
  error_code error_of(int ssl_error);

  tcp::socket socket_;
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl_;
  std::string received_;        // handshake bytes read before OpenSSL took over, fed to it first
  std::size_t received_used_ = 0;
  int socket_errno_ = 0;        // the last recv/send failure, for SSL_ERROR_SYSCALL
  bool eof_ = false;            // recv returned 0
};

}  // namespace leakguard
