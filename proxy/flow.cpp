#include "proxy/flow.hpp"

#include <algorithm>

#include "common/ip_network.hpp"
#include "common/mask.hpp"

namespace leakguard {

std::string endpoint_string(const tcp::endpoint& endpoint) {
  const auto address = unmap_v4(endpoint.address());
  if (address.is_v6()) return "[" + address.to_string() + "]:" + std::to_string(endpoint.port());
  return address.to_string() + ":" + std::to_string(endpoint.port());
}

void Flow::set_host(std::string host, std::string_view source) {
  if (source == "dns" && !dst_host.empty() && dst_host_source != "dns") return;
  dst_host = std::move(host);
  dst_host_source = dst_host.empty() ? std::string_view{} : source;
}

void Flow::add_secrets(const std::vector<std::string>& found) {
  // Bounded: a connection that leaks endlessly does not grow without end (the cap is far above what
  // one phone's identifiers and their encodings come to).
  constexpr std::size_t max_secrets = 256;
  for (const auto& secret : found) {
    if (secrets_.size() >= max_secrets) return;
    if (!secret.empty() && std::find(secrets_.begin(), secrets_.end(), secret) == secrets_.end())
      secrets_.push_back(secret);
  }
}

Json Flow::fields(const std::vector<std::string>& event_secrets) const {
  // The event's own secrets and the flow's: request text (host, server name) is masked with both.
  std::vector<std::string> both;
  if (!secrets_.empty() && !event_secrets.empty()) {
    both = secrets_;
    both.insert(both.end(), event_secrets.begin(), event_secrets.end());
  }
  const std::vector<std::string>& secrets = !both.empty() ? both : !secrets_.empty() ? secrets_ : event_secrets;
  Json event = Json::object();
  event["flow"] = id;
  if (!device.empty()) event["device"] = device;
  event["client"] = endpoint_string(client);
  Json destination = Json::object();
  if (dst) {
    destination["ip"] = unmap_v4(dst->address()).to_string();
    destination["port"] = dst->port();
  }
  if (!dst_host.empty()) destination["host"] = secrets.empty() ? dst_host : mask_occurrences(dst_host, secrets);
  if (!dst_host.empty() && !dst_host_source.empty()) destination["host_source"] = dst_host_source;
  if (!country.empty()) destination["country"] = country;
  event["dst"] = std::move(destination);
  if (!transport.empty()) event["transport"] = transport;
  if (!sni.empty()) event["sni"] = secrets.empty() ? sni : mask_occurrences(sni, secrets);
  return event;
}

Json Flow::event(std::string_view type, const std::vector<std::string>& secrets) const {
  Json event = fields(secrets);
  event["type"] = type;
  event["ts"] = rfc3339_now();
  return event;
}

std::string_view Flow::serialized_fields(const std::vector<std::string>& secrets) const {
  const auto serialize = [this, &secrets](std::string& out) {
    out = fields(secrets).dump(-1, ' ', false, Json::error_handler_t::replace);
    out.pop_back();  // the pairs without the object's braces
    out.erase(0, 1);
  };
  if (!secrets.empty()) {
    serialize(uncached_);
    return uncached_;
  }
  const bool unchanged = cache_.valid && cache_.secrets == secrets_.size() && cache_.id == id &&
                         cache_.client == client && cache_.dst == dst && cache_.dst_host == dst_host &&
                         cache_.dst_host_source == dst_host_source &&
                         cache_.country == country && cache_.transport == transport && cache_.sni == sni &&
                         cache_.device == device;
  if (!unchanged) {
    cache_.id = id;
    cache_.secrets = secrets_.size();
    cache_.client = client;
    cache_.dst = dst;
    cache_.dst_host = dst_host;
    cache_.dst_host_source = dst_host_source;
    cache_.country = country;
    cache_.transport = transport;
    cache_.sni = sni;
    cache_.device = device;
    serialize(cache_.text);
    cache_.valid = true;
  }
  return cache_.text;
}

}  // namespace leakguard
