#include "proxy/server.hpp"

#include <csignal>
#include <cstdio>
#include <netinet/in.h>
#include <optional>
#include <sys/socket.h>

#include "common/free_memory.hpp"
#include "proxy/admin_server.hpp"
#include "proxy/dns_forwarder.hpp"
#include "proxy/flow.hpp"
#include "proxy/session.hpp"
#include "proxy/tls_interceptor.hpp"

namespace leakguard {

using asio::awaitable;
using asio::redirect_error;
using asio::use_awaitable;

struct ProxyServer::Worker {
  asio::io_context io{1};
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::thread thread;
};

ProxyServer::ProxyServer(ProxyContext& context, Threading threading, std::function<ConfigSnapshot()> reload)
    : context_(context),
      threading_(threading),
      reload_(std::move(reload)),
      signals_(control_, SIGINT, SIGTERM, SIGHUP) {
  signals_.add(SIGUSR1);
  const auto config = context_.config();
  unsigned count = config->workers ? config->workers : std::max(1u, std::thread::hardware_concurrency());
  // In shared mode worker 0's io_context is the one every thread runs.
  for (unsigned i = 0; i < count; ++i) workers_.push_back(std::make_unique<Worker>());
}

ProxyServer::~ProxyServer() {
  for (auto& worker : workers_) {
    worker->io.stop();
    if (worker->thread.joinable()) worker->thread.join();
  }
}

void ProxyServer::bind() {
  const auto config = context_.config();
  // Acceptors per worker in per_core mode; one set on worker 0 in shared mode.
  const std::size_t acceptor_sets = threading_ == Threading::per_core ? workers_.size() : 1;
  for (const auto& listen : config->listen) {
    const tcp::endpoint requested(asio::ip::make_address(listen.host), listen.port);
    tcp::endpoint bound = requested;
    for (std::size_t w = 0; w < acceptor_sets; ++w) {
      auto acceptor = std::make_unique<tcp::acceptor>(workers_[w]->io);
      acceptor->open(bound.protocol());
      acceptor->set_option(asio::socket_base::reuse_address(true));
      const int one = 1;
      // SO_REUSEPORT lets every worker accept on the same port; the kernel spreads connections.
      if (::setsockopt(acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        throw std::system_error(errno, std::generic_category(), "SO_REUSEPORT on " + endpoint_string(bound));
      if (bound.address().is_v6()) acceptor->set_option(asio::ip::v6_only(true));
      if (config->transparent == TransparentMode::tproxy) {
        // TPROXY delivers connections for foreign addresses: the listener must accept them.
        const bool v6 = bound.address().is_v6();
        if (::setsockopt(acceptor->native_handle(), v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_TRANSPARENT : IP_TRANSPARENT,
                         &one, sizeof one) != 0)
          throw std::system_error(errno, std::generic_category(),
                                  "IP_TRANSPARENT on " + endpoint_string(bound) + " (needs CAP_NET_ADMIN)");
      }
      error_code ec;
      acceptor->bind(bound, ec);
      if (ec) throw std::system_error(ec, "cannot listen on " + endpoint_string(bound));
      acceptor->listen(asio::socket_base::max_listen_connections);
      // Port 0: the first acceptor picked the port, the others join it.
      bound = acceptor->local_endpoint();
      workers_[w]->acceptors.push_back(std::move(acceptor));
    }
    context_.listening().push_back(bound);
    std::fprintf(stderr, "listening on %s\n", endpoint_string(bound).c_str());
  }
  std::fflush(stderr);
  if (config->dns) {
    dns_ = std::make_shared<DnsForwarder>(context_, workers_[0]->io, *config->dns);
    dns_->bind();
  }
}

awaitable<void> ProxyServer::accept_loop(tcp::acceptor& acceptor, unsigned worker_index) {
  for (;;) {
    error_code ec;
    // Shared mode: every session gets a strand of its own, so its two coroutines never overlap.
    tcp::socket socket(threading_ == Threading::shared ? asio::any_io_executor(asio::make_strand(acceptor.get_executor()))
                                                       : acceptor.get_executor());
    co_await acceptor.async_accept(socket, redirect_error(use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      // EMFILE and friends: keep accepting once descriptors free up; the error is counted.
      context_.counters().errors++;
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(redirect_error(use_awaitable, ec));
      continue;
    }
    const auto flow = std::to_string(worker_index) + "-" + std::to_string(++next_flow_);
    auto session = std::make_shared<Session>(context_, std::move(socket), flow);
    asio::co_spawn(session->executor(), [session]() { return session->run(); }, asio::detached);
  }
}

void ProxyServer::start_shutdown() {
  // Stop accepting; tell sessions to finish; stop the workers once they have or the grace is over.
  for (auto& worker : workers_) {
    asio::post(worker->io, [w = worker.get()] {
      for (auto& acceptor : w->acceptors) {
        error_code ignored;
        acceptor->close(ignored);
      }
    });
  }
  if (dns_) dns_->stop();
  context_.drain_sessions();
}

asio::awaitable<void> ProxyServer::release_freed_memory_every_second() {
  asio::steady_timer timer(control_);
  for (;;) {
    timer.expires_after(std::chrono::seconds(1));
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    if (take_freed_memory_note()) release_free_memory();
  }
}

int ProxyServer::run() {
  // /metrics and /healthz (admin.listen, off unless set) on the control io_context, off the data plane.
  std::optional<AdminServer> admin;
  if (const auto address = context_.config()->admin_listen) {
    admin.emplace(control_, *address, context_.counters(), [this]() -> std::optional<LeafCacheMetrics> {
      const auto interceptor = context_.tls_interceptor();
      if (!interceptor) return std::nullopt;
      const auto stats = interceptor->leaves().stats();
      return LeafCacheMetrics{stats.hits, stats.misses};
    });
    std::fprintf(stderr, "admin listening on %s\n", endpoint_string(admin->local_endpoint()).c_str());
    std::fflush(stderr);
  }
  for (unsigned i = 0; i < workers_.size(); ++i) {
    for (auto& acceptor : workers_[i]->acceptors)
      asio::co_spawn(workers_[i]->io, accept_loop(*acceptor, i), asio::detached);
  }
  if (dns_) dns_->start();
  auto work_guard = asio::make_work_guard(workers_[0]->io);
  for (auto& worker : workers_) {
    asio::io_context& io = threading_ == Threading::shared ? workers_[0]->io : worker->io;
    worker->thread = std::thread([context = &io] { context->run(); });
  }

  bool stopping = false;
  std::function<void(error_code, int)> on_signal = [&](error_code ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      try {
        context_.set_config(reload_());
        release_free_memory();  // the old snapshot's, unless a session still holds it
        auto event = Json{{"type", "config"}, {"event", "reloaded"}};
        context_.events().emit(std::move(event));
      } catch (const std::exception& error) {
        context_.events().emit(Json{{"type", "error"}, {"error", "config_reload_failed"}, {"detail", error.what()}});
        std::fprintf(stderr, "leakguard: reload refused, keeping the running configuration: %s\n", error.what());
      }
    } else if (signal == SIGUSR1) {
      context_.events().reopen();
    } else if (!stopping) {
      stopping = true;
      start_shutdown();
      auto grace = std::make_shared<asio::steady_timer>(control_);
      const auto deadline = std::chrono::steady_clock::now() + context_.config()->limits.shutdown_grace;
      // Poll the session count: exchanges in flight finish, then the workers stop.
      auto check = std::make_shared<std::function<void(error_code)>>();
      *check = [this, grace, deadline, check](error_code) {
        if (context_.session_count() == 0 || std::chrono::steady_clock::now() >= deadline) {
          for (auto& worker : workers_) worker->io.stop();
          control_.stop();
          *check = nullptr;  // break the self-reference
          return;
        }
        grace->expires_after(std::chrono::milliseconds(20));
        grace->async_wait(*check);
      };
      (*check)({});
      return;  // a second SIGTERM during the grace is ignored
    }
    signals_.async_wait(on_signal);
  };
  signals_.async_wait(on_signal);
  asio::co_spawn(control_, release_freed_memory_every_second(), asio::detached);
  control_.run();
  work_guard.reset();
  for (auto& worker : workers_) {
    worker->io.stop();
    if (worker->thread.joinable()) worker->thread.join();
  }
  context_.events().flush();
  return 0;
}

}  // namespace leakguard
