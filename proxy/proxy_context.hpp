// What every session shares: the current configuration snapshot, the event log, the listening
// addresses (for loop prevention) and the counters. Sessions take a snapshot when they start, so a
// reload never changes an exchange in flight.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/asio.hpp"
#include "config/config.hpp"
#include "events/event_log.hpp"

namespace leakguard {

class Session;

struct ProxyCounters {
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> connections_open{0};
  std::atomic<std::uint64_t> connections_refused{0};
  std::atomic<std::uint64_t> http_exchanges{0};
  std::atomic<std::uint64_t> bytes_from_clients{0};
  std::atomic<std::uint64_t> bytes_to_clients{0};
  std::atomic<std::uint64_t> errors{0};
};

class ProxyContext {
 public:
  ProxyContext(ConfigSnapshot config, EventLog& events) : config_(std::move(config)), events_(events) {}

  ConfigSnapshot config() const {
    std::lock_guard lock(mutex_);
    return config_;
  }
  void set_config(ConfigSnapshot config) {
    std::lock_guard lock(mutex_);
    config_ = std::move(config);
  }

  EventLog& events() { return events_; }
  ProxyCounters& counters() { return counters_; }

  // Filled once before the first accept, read-only afterwards.
  std::vector<tcp::endpoint>& listening() { return listening_; }
  bool is_own_listening_address(const tcp::endpoint& endpoint) const;

  // Live sessions, so a graceful shutdown can tell each one to finish (session.cpp).
  void add_session(Session* session, std::weak_ptr<Session> handle);
  void remove_session(Session* session);
  void drain_sessions();
  std::size_t session_count();

 private:
  mutable std::mutex mutex_;
  ConfigSnapshot config_;
  EventLog& events_;
  ProxyCounters counters_;
  std::vector<tcp::endpoint> listening_;
  std::mutex sessions_mutex_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
};

}  // namespace leakguard
