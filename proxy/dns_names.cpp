#include "proxy/dns_names.hpp"

#include <algorithm>

#include "common/ip_network.hpp"

namespace leakguard {

std::string DnsNameMap::client_key(std::string_view device, const boost::asio::ip::address& client) {
  if (!device.empty()) return "device:" + std::string(device);
  return unmap_v4(client).to_string();  // v4-mapped (a dual-stack socket) is the same client
}

std::string DnsNameMap::key_of(const std::string& client, const boost::asio::ip::address& address) {
  const auto plain = unmap_v4(address);
  std::string key = client;
  key += '|';
  if (plain.is_v4()) {
    const auto bytes = plain.to_v4().to_bytes();
    key.append(bytes.begin(), bytes.end());
  } else {
    const auto bytes = plain.to_v6().to_bytes();
    key.append(bytes.begin(), bytes.end());
  }
  return key;
}

void DnsNameMap::remember(const std::string& client, const boost::asio::ip::address& address,
                          std::string name, std::chrono::seconds ttl, Clock::time_point now) {
  if (capacity_ == 0 || name.empty()) return;
  const auto expires = now + std::clamp(ttl, ttl_floor, ttl_ceiling);
  auto key = key_of(client, address);
  std::lock_guard lock(mutex_);
  if (const auto it = index_.find(key); it != index_.end()) {
    it->second->name = std::move(name);
    it->second->expires = expires;
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  if (lru_.size() >= capacity_) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
  lru_.push_front(Entry{key, std::move(name), expires});
  index_.emplace(std::move(key), lru_.begin());
}

std::optional<std::string> DnsNameMap::lookup(const std::string& client,
                                              const boost::asio::ip::address& address, Clock::time_point now) {
  const auto key = key_of(client, address);
  std::lock_guard lock(mutex_);
  const auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  if (it->second->expires <= now) {
    lru_.erase(it->second);
    index_.erase(it);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->name;
}

std::size_t DnsNameMap::size() const {
  std::lock_guard lock(mutex_);
  return lru_.size();
}

}  // namespace leakguard
