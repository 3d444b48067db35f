#include "proxy/byte_stream.hpp"

#include <array>

namespace leakguard {

using asio::redirect_error;
using asio::use_awaitable;

TlsStream& ByteStream::start_tls(asio::ssl::context& context) {
  tcp::socket socket = std::move(std::get<tcp::socket>(stream_));
  return stream_.emplace<TlsStream>(std::move(socket), context.native_handle());
}

asio::awaitable<std::size_t> ByteStream::read_some(asio::mutable_buffer buffer, error_code& ec) {
  if (auto* tls_stream = std::get_if<TlsStream>(&stream_)) co_return co_await tls_stream->read_some(buffer, ec);
  co_return co_await std::get<tcp::socket>(stream_).async_read_some(buffer, redirect_error(use_awaitable, ec));
}

asio::awaitable<std::string_view> ByteStream::read_shared(error_code& ec) {
  thread_local std::array<char, shared_read_size> shared;
  // Only a read that happens now, with no suspension between it and the caller's use, may land in
  // the shared buffer: OpenSSL's reads do (TlsStream waits for readiness, then reads), and so does
  // a non-blocking read of the plain socket, tried before waiting. Waiting first would miss data
  // already there (edge-triggered epoll only reports new arrivals).
  if (auto* tls_stream = std::get_if<TlsStream>(&stream_)) {
    const std::size_t n = co_await tls_stream->read_some(asio::buffer(shared), ec);
    co_return std::string_view(shared.data(), n);
  }
  auto& socket = std::get<tcp::socket>(stream_);
  if (!socket.non_blocking()) socket.non_blocking(true, ec);
  while (!ec) {
    const std::size_t n = socket.read_some(asio::buffer(shared), ec);
    if (!ec) co_return std::string_view(shared.data(), n);
    if (ec != asio::error::would_block && ec != asio::error::try_again) break;
    ec.clear();
    co_await socket.async_wait(tcp::socket::wait_read, redirect_error(use_awaitable, ec));
  }
  co_return std::string_view();
}

asio::awaitable<void> ByteStream::write(asio::const_buffer buffer, error_code& ec) {
  if (auto* tls_stream = std::get_if<TlsStream>(&stream_)) {
    co_await tls_stream->write(buffer, ec);
    co_return;
  }
  auto& socket = std::get<tcp::socket>(stream_);
  // A write almost always fits in the socket buffer at once. Sent here, in this call, it costs one
  // send(2); through async_write the completion would also be queued and the coroutine resumed by
  // the scheduler (about 4% of the proxy's CPU per exchange). Only what does not fit goes the
  // asynchronous way. The socket is non-blocking, so this never waits.
  if (!socket.non_blocking()) socket.non_blocking(true, ec);
  if (!ec) {
    const std::size_t sent = socket.write_some(buffer, ec);
    if (!ec && sent == buffer.size()) co_return;
    if (!ec || ec == asio::error::would_block || ec == asio::error::try_again) {
      ec.clear();
      buffer += sent;
    }
  }
  if (ec) co_return;
  co_await asio::async_write(socket, buffer, redirect_error(use_awaitable, ec));
}

void ByteStream::shutdown_send() {
  error_code ignored;
  socket().shutdown(tcp::socket::shutdown_send, ignored);
}

void ByteStream::cancel() {
  error_code ignored;
  socket().cancel(ignored);
}

void ByteStream::close() {
  error_code ignored;
  socket().close(ignored);
}

}  // namespace leakguard
