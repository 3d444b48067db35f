// The admin listener (`admin.listen`, off unless configured): GET /metrics (Prometheus text) and
// GET /healthz. A few scrapes a minute, so it is one acceptor on the control io_context, one short
// HTTP/1.1 exchange per connection (Connection: close), and nothing that can stall the data plane.
#pragma once

#include <functional>
#include <optional>

#include "common/asio.hpp"
#include "config/config.hpp"
#include "proxy/metrics.hpp"
#include "proxy/proxy_context.hpp"

namespace leakguard {

class AdminServer {
 public:
  // Optional: the TLS interceptor's leaf cache stats, asked for on each scrape.
  using LeafCacheSource = std::function<std::optional<LeafCacheMetrics>()>;

  // Binds `address` and starts accepting on `io` (run by its owner). Throws std::system_error
  // naming the address when it cannot be bound. `counters` must outlive the server.
  AdminServer(asio::io_context& io, const ListenAddress& address, const ProxyCounters& counters,
              LeafCacheSource leaf_cache = {});
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // The bound address (the real port when the configuration asked for port 0).
  tcp::endpoint local_endpoint() const;

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(tcp::socket socket);

  tcp::acceptor acceptor_;
  const ProxyCounters& counters_;
  LeafCacheSource leaf_cache_;
};

}  // namespace leakguard
