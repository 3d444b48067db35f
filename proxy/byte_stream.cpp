#include "proxy/byte_stream.hpp"

namespace leakguard {

using asio::redirect_error;
using asio::use_awaitable;

ByteStream::TlsStream& ByteStream::start_tls(asio::ssl::context& context) {
  tcp::socket socket = std::move(std::get<tcp::socket>(stream_));
  stream_.emplace<TlsStream>(std::move(socket), context);
  return tls();
}

asio::awaitable<std::size_t> ByteStream::read_some(asio::mutable_buffer buffer, error_code& ec) {
  if (auto* tls_stream = std::get_if<TlsStream>(&stream_))
    co_return co_await tls_stream->async_read_some(buffer, redirect_error(use_awaitable, ec));
  co_return co_await std::get<tcp::socket>(stream_).async_read_some(buffer, redirect_error(use_awaitable, ec));
}

asio::awaitable<void> ByteStream::write(asio::const_buffer buffer, error_code& ec) {
  if (auto* tls_stream = std::get_if<TlsStream>(&stream_))
    co_await asio::async_write(*tls_stream, buffer, redirect_error(use_awaitable, ec));
  else
    co_await asio::async_write(std::get<tcp::socket>(stream_), buffer, redirect_error(use_awaitable, ec));
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
