// /metrics in the Prometheus text exposition format (version 0.0.4): the proxy's counters as a lab
// scrapes them. Rendering is a pure function of a counters snapshot, so it is tested without a
// socket, and the admin server only serves the text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/proxy_context.hpp"

namespace leakguard {

// The leaf certificate cache lives in the TLS interceptor (certs/leaf_forge.hpp), not in
// ProxyCounters; whoever renders passes its stats when interception is on.
struct LeafCacheMetrics {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
};

// A label value as the exposition format wants it: backslash, double quote and newline escaped.
std::string escape_label_value(std::string_view value);
// HELP text: backslash and newline escaped (a double quote is literal there).
std::string escape_help(std::string_view text);

// Every family has HELP and TYPE lines; counters end in _total and only go up; every label
// combination is always present (zero included), so a rate() never sees a series appear.
std::string render_prometheus_metrics(const ProxyCounters& counters,
                                      const std::optional<LeafCacheMetrics>& leaf_cache = std::nullopt);

// The Content-Type that goes with it.
inline constexpr std::string_view prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace leakguard
