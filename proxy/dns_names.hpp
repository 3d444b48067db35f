// Address -> name, learned from the answers leakguard's DNS forwarder relayed to each client, so a
// later connection to that address (raw TCP, TLS without SNI) can be named in events and policy.
// One map for every client (the key is the pair), bounded by an LRU; thread-safe. A client is its
// device profile when one matched (a dual-stack phone asks over IPv4 and connects over IPv6),
// else its address.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/ip/address.hpp>

namespace leakguard {

class DnsNameMap {
 public:
  using Clock = std::chrono::steady_clock;
  // A TTL below the floor would expire between the answer and the connection it was asked for (and
  // some resolvers answer with TTL 0); above the ceiling, a name outlives any plausible reuse.
  static constexpr std::chrono::seconds ttl_floor{60};
  static constexpr std::chrono::seconds ttl_ceiling{24 * 60 * 60};
  static constexpr std::size_t default_capacity = 65536;  // pairs, a few hundred bytes each

  explicit DnsNameMap(std::size_t capacity = default_capacity) : capacity_(capacity) {}

  // "device:NAME" for a profiled client (`device` non-empty), else its address (v4-mapped unmapped).
  static std::string client_key(std::string_view device, const boost::asio::ip::address& client);

  // `name` is what the client asked for (the question, not a CNAME target); the newest answer for a
  // pair wins. The least recently used pair goes when the map is full.
  void remember(const std::string& client, const boost::asio::ip::address& address, std::string name,
                std::chrono::seconds ttl, Clock::time_point now = Clock::now());
  // The name, unless unknown or expired.
  std::optional<std::string> lookup(const std::string& client, const boost::asio::ip::address& address,
                                    Clock::time_point now = Clock::now());
  std::size_t size() const;

 private:
  struct Entry {
    std::string key;
    std::string name;
    Clock::time_point expires;
  };
  static std::string key_of(const std::string& client, const boost::asio::ip::address& address);

  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace leakguard
