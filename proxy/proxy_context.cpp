#include "proxy/proxy_context.hpp"

#include "proxy/policy.hpp"

namespace leakguard {

namespace {
// Clients that no profile matches get a learning store each; past this many, new ones get none
// (a scan of the whole address space must not grow memory without bound).
constexpr std::size_t max_learning_stores = 4096;
}  // namespace

RuntimeSnapshotPtr build_runtime_snapshot(ConfigSnapshot config) {
  auto snapshot = std::make_shared<RuntimeSnapshot>();
  snapshot->inspector = std::make_shared<const Inspector>(config);
  if (!config->geoip_database.empty()) snapshot->geoip = std::make_shared<const GeoIpDatabase>(config->geoip_database);
  snapshot->may_hold = policy_may_hold(*config);
  snapshot->config = std::move(config);
  return snapshot;
}

std::shared_ptr<LearnedValues> ProxyContext::learned_values(const std::string& key) {
  std::lock_guard lock(mutex_);
  if (auto it = learned_.find(key); it != learned_.end()) return it->second;
  if (learned_.size() >= max_learning_stores) return nullptr;
  auto store = std::make_shared<LearnedValues>();
  learned_.emplace(key, store);
  return store;
}

}  // namespace leakguard
