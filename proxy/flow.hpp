// One client connection as the event log describes it: the connection fields that every event
// type carries (design.md, "Events"), and the byte counters of the `conn` close event.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "events/event_log.hpp"

namespace leakguard {

struct Flow {
  std::string id;
  tcp::endpoint client;
  std::optional<tcp::endpoint> dst;
  std::string dst_host;   // from Host, CONNECT, SNI or the client's DNS answers; empty when unknown
  std::string dst_host_source;  // where dst_host came from: "http", "sni" or "dns" (set_host)
  std::string country;    // of dst, from the GeoIP database; empty when unknown
  std::string transport;  // http, https, tcp, tls-passthrough, dns
  std::string sni;
  std::string device;     // device profile name, when one matched
  bool redirected = false;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::uint64_t bytes_from_client = 0;
  std::uint64_t bytes_to_client = 0;
  std::uint64_t bytes_to_upstream = 0;
  std::uint64_t bytes_from_upstream = 0;

  // Names the destination. A name the connection itself carries (Host, CONNECT, SNI: what the
  // client addressed) replaces one inferred from its DNS answers (several names may share an
  // address), never the other way round.
  void set_host(std::string host, std::string_view source);

  // Raw texts of every identifier found in this flow so far. dst.host and sni of every later event
  // are masked with them too: a Host or server name that carried an identifier must not show it in
  // the connection's close event any more than in its finding.
  void add_secrets(const std::vector<std::string>& found);
  const std::vector<std::string>& secrets() const { return secrets_; }

  // {"type": type, "ts", "flow", "client", "dst", "transport", ...}. `secrets` are masked wherever
  // request text appears (dst.host, sni).
  Json event(std::string_view type, const std::vector<std::string>& secrets = {}) const;
  // The same connection fields (no type, no ts) serialized for an EventLine: "key":value pairs
  // without braces. Cached while they stay the same, for the event a connection emits per exchange.
  std::string_view serialized_fields(const std::vector<std::string>& secrets = {}) const;

 private:
  Json fields(const std::vector<std::string>& secrets) const;

  std::vector<std::string> secrets_;

  // What serialized_fields() was last built from, and the text.
  struct FieldsCache {
    bool valid = false;
    tcp::endpoint client;
    std::optional<tcp::endpoint> dst;
    std::string id, dst_host, dst_host_source, country, transport, sni, device, text;
    std::size_t secrets = 0;
  };
  mutable FieldsCache cache_;
  mutable std::string uncached_;  // serialized fields with secrets masked: never reused
};

std::string endpoint_string(const tcp::endpoint& endpoint);

}  // namespace leakguard
