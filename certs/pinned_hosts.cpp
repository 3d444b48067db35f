#include "certs/pinned_hosts.hpp"

#include "certs/host_glob.hpp"
#include "common/ip_network.hpp"

namespace leakguard {

PinnedHosts::PinnedHosts(std::chrono::seconds ttl, std::size_t capacity, Now now)
    : ttl_(ttl), capacity_(capacity == 0 ? 1 : capacity), now_(now ? std::move(now) : Now(&Clock::now)) {}

std::string PinnedHosts::key(const boost::asio::ip::address& client, std::string_view host) {
  // '/' appears in neither an address nor a host name, so the pair cannot be confused.
  return unmap_v4(client).to_string() + '/' + normalize_host(host);
}

void PinnedHosts::sweep(Clock::time_point now) {
  while (!order_.empty()) {
    const auto found = entries_.find(order_.front());
    if (found != entries_.end() && found->second.expiry > now) break;
    if (found != entries_.end()) entries_.erase(found);
    order_.pop_front();
  }
}

void PinnedHosts::remember(const boost::asio::ip::address& client, std::string_view host) {
  std::string name = key(client, host);
  const Clock::time_point now = now_();
  std::lock_guard lock(mutex_);
  sweep(now);
  if (const auto found = entries_.find(name); found != entries_.end()) {
    order_.erase(found->second.position);
    entries_.erase(found);
  }
  while (entries_.size() >= capacity_ && !order_.empty()) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(name);
  entries_.emplace(std::move(name), Entry{now + ttl_, std::prev(order_.end())});
}

bool PinnedHosts::is_pinned(const boost::asio::ip::address& client, std::string_view host) {
  const std::string name = key(client, host);
  const Clock::time_point now = now_();
  std::lock_guard lock(mutex_);
  sweep(now);
  return entries_.contains(name);
}

void PinnedHosts::forget(const boost::asio::ip::address& client, std::string_view host) {
  const std::string name = key(client, host);
  std::lock_guard lock(mutex_);
  if (const auto found = entries_.find(name); found != entries_.end()) {
    order_.erase(found->second.position);
    entries_.erase(found);
  }
}

std::size_t PinnedHosts::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace leakguard
