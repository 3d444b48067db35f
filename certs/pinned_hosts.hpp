// Memory of (client, host) pairs whose client rejected our forged certificate (a pinning app, an
// unknown-CA alert): their later connections pass through untouched until the entry expires, so a
// pinned app keeps working instead of failing every connection (issue 5, auto-passthrough).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/ip/address.hpp>

namespace leakguard {

class PinnedHosts {
 public:
  using Clock = std::chrono::steady_clock;
  using Now = std::function<Clock::time_point()>;

  // ttl: TlsSettings::pinned_ttl. capacity bounds memory against a client that cycles through
  // endless host names; when full, the entry closest to expiry goes first.
  explicit PinnedHosts(std::chrono::seconds ttl, std::size_t capacity = 65536, Now now = {});

  // The client is keyed by address only (its ports change per connection); an IPv4-mapped IPv6
  // address is the same client as its IPv4 form. The host is compared case-insensitively.
  // Remembering a pair again restarts its ttl.
  void remember(const boost::asio::ip::address& client, std::string_view host);
  bool is_pinned(const boost::asio::ip::address& client, std::string_view host);
  void forget(const boost::asio::ip::address& client, std::string_view host);

  std::size_t size() const;  // entries held, expired ones included until they are swept

 private:
  struct Entry {
    Clock::time_point expiry;
    std::list<std::string>::iterator position;
  };
  static std::string key(const boost::asio::ip::address& client, std::string_view host);
  void sweep(Clock::time_point now);  // requires mutex_

  const std::chrono::seconds ttl_;
  const std::size_t capacity_;
  const Now now_;
  mutable std::mutex mutex_;
  // With one ttl for all, the order of (re)insertion is the order of expiry: the front expires first.
  std::list<std::string> order_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace leakguard
