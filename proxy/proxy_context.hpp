// What every session shares: the current configuration snapshot, the event log, the listening
// addresses (for loop prevention) and the counters. Sessions take a snapshot when they start, so a
// reload never changes an exchange in flight.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/asio.hpp"
#include "config/config.hpp"
#include "detectors/inspector.hpp"
#include "detectors/learned_values.hpp"
#include "events/event_log.hpp"
#include "proxy/dns_names.hpp"
#include "proxy/geoip.hpp"

namespace leakguard {

class Session;
class TlsInterceptor;

// Action is allow, log, block, redact (config.hpp); the findings counters below index by it.
inline constexpr std::size_t action_count = 4;
static_assert(static_cast<std::size_t>(Action::redact) + 1 == action_count);

struct ProxyCounters {
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> connections_open{0};
  std::atomic<std::uint64_t> connections_refused{0};
  std::atomic<std::uint64_t> http_exchanges{0};
  std::atomic<std::uint64_t> bytes_from_clients{0};
  std::atomic<std::uint64_t> bytes_to_clients{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> blocked{0};
  // Findings by identifier kind x action for /metrics (proxy/metrics.cpp): count_finding() adds one.
  std::array<std::array<std::atomic<std::uint64_t>, action_count>, identifier_kind_count> findings{};
  void count_finding(IdentifierKind kind, Action action) {
    findings[static_cast<std::size_t>(kind)][static_cast<std::size_t>(action)].fetch_add(1, std::memory_order_relaxed);
  }
  // TLS (issue 5); leaf cache hits and misses are LeafForge::stats() of the interceptor.
  std::atomic<std::uint64_t> tls_intercepted{0};
  std::atomic<std::uint64_t> tls_passthrough{0};
  std::atomic<std::uint64_t> tls_client_rejected{0};  // each one remembered as pinned
  std::atomic<std::uint64_t> tls_failed{0};           // upstream verification and other handshake failures
  std::atomic<std::uint64_t> tls_quiet_releases{0};   // connections that gave their record buffers back
};

// Everything a session needs that follows from one configuration: built once per load (and per
// SIGHUP), immutable, shared by every session that started under it.
struct RuntimeSnapshot {
  ConfigSnapshot config;
  std::shared_ptr<const Inspector> inspector;
  std::shared_ptr<const GeoIpDatabase> geoip;  // null without geoip.database
  bool may_hold = false;                       // some rule can block or redact: hold requests back
};
using RuntimeSnapshotPtr = std::shared_ptr<const RuntimeSnapshot>;

// Compiles the detectors and opens the GeoIP database. Throws ConfigError (detector options,
// device values) or std::runtime_error (database file): a reload that throws changes nothing.
RuntimeSnapshotPtr build_runtime_snapshot(ConfigSnapshot config);

class ProxyContext {
 public:
  ProxyContext(ConfigSnapshot config, EventLog& events) : snapshot_(build_runtime_snapshot(std::move(config))), events_(events) {}

  RuntimeSnapshotPtr snapshot() const {
    std::lock_guard lock(mutex_);
    return snapshot_;
  }
  ConfigSnapshot config() const { return snapshot()->config; }
  void set_config(ConfigSnapshot config) {
    auto next = build_runtime_snapshot(std::move(config));  // may throw: the old snapshot stays
    std::lock_guard lock(mutex_);
    snapshot_ = std::move(next);
  }

  // Learned identifier values, per device profile ("device:NAME") or, for clients no profile
  // matches, per client address ("client:IP"). Kept for the life of the process.
  std::shared_ptr<LearnedValues> learned_values(const std::string& key);

  EventLog& events() { return events_; }

  // TLS interception: null unless `tls.intercept` was on at start (or turned on by a reload).
  std::shared_ptr<TlsInterceptor> tls_interceptor() const {
    std::lock_guard lock(mutex_);
    return tls_interceptor_;
  }
  void set_tls_interceptor(std::shared_ptr<TlsInterceptor> interceptor) {
    std::lock_guard lock(mutex_);
    tls_interceptor_ = std::move(interceptor);
  }
  ProxyCounters& counters() { return counters_; }
  // Names of the addresses each client resolved through the DNS forwarder (empty without `dns`).
  DnsNameMap& dns_names() { return dns_names_; }

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
  RuntimeSnapshotPtr snapshot_;
  std::unordered_map<std::string, std::shared_ptr<LearnedValues>> learned_;
  std::shared_ptr<TlsInterceptor> tls_interceptor_;
  EventLog& events_;
  ProxyCounters counters_;
  DnsNameMap dns_names_;
  std::vector<tcp::endpoint> listening_;
  std::mutex sessions_mutex_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
};

}  // namespace leakguard
