#include "proxy/admin_server.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <system_error>


namespace leakguard {

using asio::awaitable;
using asio::redirect_error;
using asio::use_awaitable;

namespace {

constexpr std::size_t max_request_head = 8192;
constexpr auto request_deadline = std::chrono::seconds(5);

std::string response(std::string_view status, std::string_view content_type, const std::string& body, bool head_only,
                     std::string_view extra_headers = {}) {
  std::string out = "HTTP/1.1 ";
  out += status;
  out += "\r\nContent-Type: ";
  out += content_type;
  out += "\r\nContent-Length: " + std::to_string(body.size());
  out += "\r\nCache-Control: no-store\r\nConnection: close\r\n";
  out += extra_headers;
  out += "\r\n";
  if (!head_only) out += body;
  return out;
}

}  // namespace

AdminServer::AdminServer(asio::io_context& io, const ListenAddress& address, const ProxyCounters& counters,
                         LeafCacheSource leaf_cache)
    : acceptor_(io), counters_(counters), leaf_cache_(std::move(leaf_cache)) {
  error_code ec;
  const auto ip = asio::ip::make_address(address.host, ec);
  if (ec) throw std::system_error(ec, "admin listen address " + address.to_string());
  const tcp::endpoint endpoint(ip, address.port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  if (endpoint.address().is_v6()) acceptor_.set_option(asio::ip::v6_only(true));
  acceptor_.bind(endpoint, ec);
  if (ec) throw std::system_error(ec, "cannot listen on admin address " + address.to_string());
  acceptor_.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(io, accept_loop(), asio::detached);
}

AdminServer::~AdminServer() {
  error_code ignored;
  acceptor_.close(ignored);
}

tcp::endpoint AdminServer::local_endpoint() const { return acceptor_.local_endpoint(); }

awaitable<void> AdminServer::accept_loop() {
  for (;;) {
    error_code ec;
    tcp::socket socket(acceptor_.get_executor());
    co_await acceptor_.async_accept(socket, redirect_error(use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      // Out of descriptors and the like: wait a little, keep serving once they free up.
      asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(redirect_error(use_awaitable, ec));
      continue;
    }
    asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)), asio::detached);
  }
}

awaitable<void> AdminServer::serve(tcp::socket accepted) {
  // The deadline closes the socket, which ends any read or write in flight with an error.
  auto socket = std::make_shared<tcp::socket>(std::move(accepted));
  asio::steady_timer deadline(socket->get_executor());
  deadline.expires_after(request_deadline);
  deadline.async_wait([socket](error_code ec) {
    if (ec) return;
    error_code ignored;
    socket->close(ignored);
  });

  std::string request;
  error_code ec;
  co_await asio::async_read_until(*socket, asio::dynamic_buffer(request, max_request_head), "\r\n\r\n",
                                  redirect_error(use_awaitable, ec));
  std::string reply;
  if (ec == asio::error::not_found) {
    reply = response("431 Request Header Fields Too Large", "text/plain; charset=utf-8", "request head too large\n", false);
  } else if (ec) {
    deadline.cancel();
    co_return;
  } else {
    // Request line: METHOD SP TARGET SP VERSION.
    const auto line_end = request.find("\r\n");
    const std::string_view line(request.data(), line_end);
    const auto first_space = line.find(' ');
    const auto second_space = line.find(' ', first_space == std::string_view::npos ? line.size() : first_space + 1);
    if (first_space == std::string_view::npos || second_space == std::string_view::npos) {
      reply = response("400 Bad Request", "text/plain; charset=utf-8", "bad request\n", false);
    } else {
      const auto method = line.substr(0, first_space);
      auto target = line.substr(first_space + 1, second_space - first_space - 1);
      target = target.substr(0, target.find('?'));
      const bool head = method == "HEAD";
      if (method != "GET" && !head)
        reply = response("405 Method Not Allowed", "text/plain; charset=utf-8", "GET or HEAD only\n", false,
                         "Allow: GET, HEAD\r\n");
      else if (target == "/metrics")
        reply = response("200 OK", prometheus_content_type,
                         render_prometheus_metrics(counters_, leaf_cache_ ? leaf_cache_() : std::nullopt), head);
      else if (target == "/healthz")
        reply = response("200 OK", "text/plain; charset=utf-8", "ok\n", head);
      else
        reply = response("404 Not Found", "text/plain; charset=utf-8", "not found: try /metrics or /healthz\n", head);
    }
  }
  co_await asio::async_write(*socket, asio::buffer(reply), redirect_error(use_awaitable, ec));
  socket->shutdown(tcp::socket::shutdown_both, ec);
  socket->close(ec);
  deadline.cancel();
}

}  // namespace leakguard
