// The DNS forwarder (`dns:` in the configuration): UDP and TCP listeners that inspect every query
// name like a Host header, answer blocked names with NXDOMAIN, forward the rest to the upstream
// resolvers under a fresh random id, and learn from the answers which name each client gave an
// address (ProxyContext::dns_names). Runs on one strand of worker 0's io_context.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/asio.hpp"
#include "config/config.hpp"
#include "proxy/dns_message.hpp"
#include "proxy/flow.hpp"
#include "proxy/proxy_context.hpp"

namespace leakguard {

class DnsForwarder : public std::enable_shared_from_this<DnsForwarder> {
 public:
  using udp = asio::ip::udp;

  DnsForwarder(ProxyContext& context, asio::io_context& io, DnsSettings settings);
  // Binds UDP and TCP on each listen address (port 0: one free port for both) and prints
  // "dns listening on ADDRESS:PORT" on stderr. Throws std::system_error naming the address.
  void bind();
  void start();
  void stop();  // closes the listeners; queries in flight finish

  // What leakguard sends back for one query (empty: nothing), after inspection, policy and the
  // upstream; emits the `dns` event and any finding/policy events.
  asio::awaitable<std::vector<std::uint8_t>> answer(std::vector<std::uint8_t> query, tcp::endpoint client,
                                                    bool over_tcp);

 private:
  asio::awaitable<void> serve_udp(std::shared_ptr<udp::socket> socket);
  asio::awaitable<void> accept_tcp(std::shared_ptr<tcp::acceptor> acceptor);
  asio::awaitable<void> serve_tcp(std::shared_ptr<tcp::socket> socket);
  // One attempt at one upstream; the reply only if its id and question match what was sent.
  asio::awaitable<std::optional<std::vector<std::uint8_t>>> ask_upstream(const std::vector<std::uint8_t>& query,
                                                                         const DnsQuestion& question,
                                                                         const ListenAddress& upstream, bool over_tcp);
  bool client_allowed(const boost::asio::ip::address& client);
  void emit_dns(const Flow& flow, const DnsQuestion* question, std::string_view action, std::uint8_t rcode,
                const std::vector<std::string>& answers, bool over_tcp, std::string_view detail = {});

  ProxyContext& context_;
  asio::strand<asio::io_context::executor_type> strand_;
  DnsSettings settings_;
  std::vector<std::shared_ptr<udp::socket>> udp_;
  std::vector<std::shared_ptr<tcp::acceptor>> tcp_;
  // Only touched on strand_.
  std::size_t pending_ = 0;      // queries waiting for an upstream
  std::size_t tcp_clients_ = 0;  // open client TCP connections (bounded by max_pending as well)
  bool busy_reported_ = false;   // one `error` event per busy spell, not one per refused query
  std::uint64_t refused_unreported_ = 0;  // UDP queries from outside clients.allow since the last event
  std::chrono::steady_clock::time_point last_refused_event_{};
  std::uint64_t next_flow_ = 0;
};

}  // namespace leakguard
