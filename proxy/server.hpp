// The listening side: worker threads, one SO_REUSEPORT acceptor per listen address per worker,
// the control signals (SIGINT/SIGTERM graceful stop, SIGHUP reload, SIGUSR1 event-log reopen).
#pragma once

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "common/asio.hpp"
#include "proxy/proxy_context.hpp"

namespace leakguard {

class DnsForwarder;

class ProxyServer {
 public:
  // How sessions are spread over cores (bench/RESULTS.md compares the two):
  //   per_core: one io_context per worker thread, each with its own SO_REUSEPORT acceptors; a
  //             connection lives on one thread, so no strand and no cross-core handoff.
  //   shared:   one io_context run by every worker thread, each session on its own strand.
  enum class Threading { per_core, shared };

  // `reload` returns a new snapshot or throws ConfigError (SIGHUP keeps the old one then).
  ProxyServer(ProxyContext& context, Threading threading, std::function<ConfigSnapshot()> reload);
  ~ProxyServer();

  // Binds every listen address and prints "listening on ADDRESS:PORT" for each on stderr (and the
  // DNS forwarder's, "dns listening on ADDRESS:PORT", when `dns` is configured).
  // Throws std::system_error naming the address when one cannot be bound.
  void bind();
  // Serves until SIGINT/SIGTERM, then drains within limits.shutdown_grace. Returns the exit status.
  int run();

 private:
  struct Worker;
  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, unsigned worker_index);
  void start_shutdown();
  // Trims the heap once a second when sessions noted they freed memory (common/free_memory.hpp).
  asio::awaitable<void> release_freed_memory_every_second();

  ProxyContext& context_;
  Threading threading_;
  std::function<ConfigSnapshot()> reload_;
  std::vector<std::unique_ptr<Worker>> workers_;
  // `dns:` on worker 0's io_context; its coroutines keep it alive as sessions keep theirs.
  std::shared_ptr<DnsForwarder> dns_;
  asio::io_context control_;
  // Installed by the constructor, before bind() prints `listening on`: a SIGHUP or SIGTERM sent
  // as soon as a supervisor reads that line is queued for run(), not the default action (exit).
  asio::signal_set signals_;
  std::atomic<std::uint64_t> next_flow_{0};
};

}  // namespace leakguard
