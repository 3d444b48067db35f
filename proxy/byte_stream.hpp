// One side of a session as a byte stream: a plain TCP socket, or the same socket after a TLS
// handshake (interception). Sessions read and write through this one type, so the HTTP path,
// inspection and the raw relay are identical for plaintext and decrypted traffic.
#pragma once

#include <memory>
#include <variant>

#include <boost/asio/ssl/context.hpp>

#include "common/asio.hpp"
#include "proxy/tls_stream.hpp"

namespace leakguard {

class ByteStream {
 public:
  explicit ByteStream(tcp::socket socket) : stream_(std::move(socket)) {}

  tcp::socket& socket() {
    return std::holds_alternative<tcp::socket>(stream_) ? std::get<tcp::socket>(stream_)
                                                        : std::get<TlsStream>(stream_).next_layer();
  }
  bool is_tls() const { return std::holds_alternative<TlsStream>(stream_); }
  // Starts over with a new plain socket (a new upstream connection); the old one is closed.
  void reset(tcp::socket socket) { stream_.emplace<tcp::socket>(std::move(socket)); }

  // Moves the socket into a TLS stream; the caller then runs the handshake on tls().
  TlsStream& start_tls(asio::ssl::context& context);
  TlsStream& tls() { return std::get<TlsStream>(stream_); }

  asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer, error_code& ec);
  // The next bytes available (at most shared_read_size), read into one buffer shared by every
  // stream of the calling thread: the view is valid until the caller next suspends, so it must be
  // consumed or copied at once. An idle connection then holds no read buffer of its own (16 KiB
  // each for the client and the upstream reader). Empty with `ec` set at the end or on error.
  asio::awaitable<std::string_view> read_shared(error_code& ec);
  static constexpr std::size_t shared_read_size = 16 * 1024;
  asio::awaitable<void> write(asio::const_buffer buffer, error_code& ec);

  // Half-close: no more bytes from us. For TLS this is a TCP FIN without close_notify, because a
  // TLS shutdown would race the read still running on the same stream; HTTP framing, not the
  // close_notify, delimits what was sent.
  void shutdown_send();
  void cancel();
  void close();

 private:
  std::variant<tcp::socket, TlsStream> stream_;
};

}  // namespace leakguard
