#include "proxy/tls_stream.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#include <boost/asio/ssl/error.hpp>
#include <openssl/err.h>

namespace leakguard {

using asio::redirect_error;
using asio::use_awaitable;

// The socket as OpenSSL's BIO: non-blocking recv/send on the descriptor, the handshake bytes read
// before OpenSSL took over served first. "Retry" means the socket would block; the TlsStream then
// waits for it and calls OpenSSL again.
struct TlsStream::Bio {
  static BIO_METHOD* method() {
    static BIO_METHOD* const method = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "leakguard socket");
      if (!m || !BIO_meth_set_read_ex(m, read) || !BIO_meth_set_write_ex(m, write) || !BIO_meth_set_ctrl(m, ctrl) ||
          !BIO_meth_set_create(m, create))
        throw std::bad_alloc();
      return m;
    }();
    return method;
  }

  static TlsStream& stream(BIO* bio) { return *static_cast<TlsStream*>(BIO_get_data(bio)); }

  static int create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }

  static int read(BIO* bio, char* out, std::size_t size, std::size_t* got) {
    BIO_clear_retry_flags(bio);
    TlsStream& self = stream(bio);
    if (self.received_used_ < self.received_.size()) {
      const std::size_t n = std::min(size, self.received_.size() - self.received_used_);
      std::memcpy(out, self.received_.data() + self.received_used_, n);
      self.received_used_ += n;
      *got = n;
      return 1;
    }
    const ssize_t n = ::recv(self.socket_.native_handle(), out, size, 0);
    if (n > 0) {
      *got = static_cast<std::size_t>(n);
      return 1;
    }
    *got = 0;
    if (n == 0) {
      self.eof_ = true;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      BIO_set_retry_read(bio);
    } else {
      self.socket_errno_ = errno;
    }
    return 0;
  }

  static int write(BIO* bio, const char* in, std::size_t size, std::size_t* put) {
    BIO_clear_retry_flags(bio);
    TlsStream& self = stream(bio);
    const ssize_t n = ::send(self.socket_.native_handle(), in, size, MSG_NOSIGNAL);
    if (n >= 0) {
      *put = static_cast<std::size_t>(n);
      return 1;
    }
    *put = 0;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
      BIO_set_retry_write(bio);
    else
      self.socket_errno_ = errno;
    return 0;
  }

  static long ctrl(BIO* bio, int command, long, void*) {
    switch (command) {
      case BIO_CTRL_FLUSH: return 1;  // every write went straight to the socket
      case BIO_CTRL_EOF: return stream(bio).eof_ ? 1 : 0;  // how OpenSSL tells a truncation from an error
      default: return 0;
    }
  }
};

TlsStream::TlsStream(tcp::socket socket, SSL_CTX* context) : socket_(std::move(socket)), ssl_(SSL_new(context), &SSL_free) {
  if (!ssl_) throw std::bad_alloc();
  BIO* bio = BIO_new(Bio::method());
  if (!bio) throw std::bad_alloc();
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_.get(), bio, bio);  // one reference, owned by the SSL
  // Partial writes let write() resume after the socket blocked mid-buffer. The record buffers are
  // kept between records (no SSL_MODE_RELEASE_BUFFERS: two 17 KiB malloc/free pairs per record on
  // a busy connection); release_buffers() gives them back when a connection goes quiet.
  SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_clear_mode(ssl_.get(), SSL_MODE_RELEASE_BUFFERS);
  error_code ignored;
  socket_.non_blocking(true, ignored);
}

TlsStream::~TlsStream() = default;

template <class Step>
asio::awaitable<int> TlsStream::drive(Step step, error_code& ec) {
  for (;;) {
    ERR_clear_error();
    socket_errno_ = 0;
    const int result = step();
    if (result > 0) {
      ec = {};
      co_return result;
    }
    const int ssl_error = SSL_get_error(ssl_.get(), result);
    if (ssl_error != SSL_ERROR_WANT_READ && ssl_error != SSL_ERROR_WANT_WRITE) {
      ec = error_of(ssl_error);
      co_return result;
    }
    co_await socket_.async_wait(ssl_error == SSL_ERROR_WANT_READ ? tcp::socket::wait_read : tcp::socket::wait_write,
                                redirect_error(use_awaitable, ec));
    if (ec) co_return 0;
  }
}

error_code TlsStream::error_of(int ssl_error) {
  switch (ssl_error) {
    case SSL_ERROR_ZERO_RETURN:
      return asio::error::eof;  // the peer's close_notify
    case SSL_ERROR_SYSCALL:
      if (socket_errno_ != 0) return {socket_errno_, asio::error::get_system_category()};
      return eof_ ? error_code(asio::ssl::error::stream_truncated) : error_code(asio::ssl::error::unspecified_system_error);
    case SSL_ERROR_SSL: {
      const unsigned long code = ERR_peek_error();
      // The TCP connection ended without a close_notify: what asio calls a truncated stream.
      if (ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        return asio::ssl::error::stream_truncated;
      return {static_cast<int>(code), asio::error::get_ssl_category()};
    }
    default:
      return asio::ssl::error::unexpected_result;
  }
}

asio::awaitable<void> TlsStream::handshake(Role role, std::string_view received, error_code& ec) {
  received_.assign(received);
  received_used_ = 0;
  if (role == Role::client)
    SSL_set_connect_state(ssl_.get());
  else
    SSL_set_accept_state(ssl_.get());
  co_await drive([this] { return SSL_do_handshake(ssl_.get()); }, ec);
  if (received_used_ == received_.size()) {
    std::string().swap(received_);  // a ClientHello is kilobytes: not kept for the connection's life
    received_used_ = 0;
  }
}

asio::awaitable<std::size_t> TlsStream::read_some(asio::mutable_buffer buffer, error_code& ec) {
  std::size_t got = 0;
  co_await drive([&] { return SSL_read_ex(ssl_.get(), buffer.data(), buffer.size(), &got); }, ec);
  co_return ec ? 0 : got;
}

asio::awaitable<void> TlsStream::write(asio::const_buffer buffer, error_code& ec) {
  const char* data = static_cast<const char*>(buffer.data());
  std::size_t left = buffer.size();
  while (left > 0) {
    std::size_t written = 0;
    co_await drive([&] { return SSL_write_ex(ssl_.get(), data, left, &written); }, ec);
    if (ec) co_return;
    data += written;
    left -= written;
  }
}

asio::awaitable<void> TlsStream::shutdown(error_code& ec) {
  // 0 is "our close_notify is sent, the peer's not seen": all we wait for.
  co_await drive(
      [this] {
        const int result = SSL_shutdown(ssl_.get());
        return result == 0 ? 1 : result;
      },
      ec);
}

void TlsStream::release_buffers() {
  if (SSL_is_init_finished(ssl_.get()) && SSL_pending(ssl_.get()) == 0) SSL_free_buffers(ssl_.get());
}

}  // namespace leakguard
