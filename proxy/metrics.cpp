#include "proxy/metrics.hpp"

#include <initializer_list>
#include <utility>

namespace leakguard {
namespace {

// The event log's words for an action (design.md: logged | blocked | redacted | allowed), so a
// dashboard and a report use one vocabulary. Indexed like Action.
constexpr std::string_view action_label[action_count] = {"allowed", "logged", "blocked", "redacted"};

using Label = std::pair<std::string_view, std::string_view>;

class Writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += escape_help(help);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(std::string_view name, std::initializer_list<Label> labels, std::uint64_t value) {
    out_ += name;
    if (labels.size()) {
      out_ += '{';
      bool first = true;
      for (const auto& [key, label_value] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += key;
        out_ += "=\"";
        out_ += escape_label_value(label_value);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += std::to_string(value);
    out_ += '\n';
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::uint64_t read(const std::atomic<std::uint64_t>& counter) { return counter.load(std::memory_order_relaxed); }

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string escape_help(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string render_prometheus_metrics(const ProxyCounters& counters, const std::optional<LeafCacheMetrics>& leaf_cache) {
  Writer w;
  w.family("leakguard_connections_total", "counter", "Client connections accepted.");
  w.sample("leakguard_connections_total", {}, read(counters.connections_total));
  w.family("leakguard_connections_open", "gauge", "Client connections open now.");
  w.sample("leakguard_connections_open", {}, read(counters.connections_open));
  w.family("leakguard_connections_refused_total", "counter",
           "Client connections refused (not in clients.allow, or limits.max_connections reached).");
  w.sample("leakguard_connections_refused_total", {}, read(counters.connections_refused));
  w.family("leakguard_http_exchanges_total", "counter", "HTTP request/response exchanges relayed.");
  w.sample("leakguard_http_exchanges_total", {}, read(counters.http_exchanges));
  w.family("leakguard_client_bytes_total", "counter", "Bytes received from and sent to clients.");
  w.sample("leakguard_client_bytes_total", {{"direction", "received"}}, read(counters.bytes_from_clients));
  w.sample("leakguard_client_bytes_total", {{"direction", "sent"}}, read(counters.bytes_to_clients));

  w.family("leakguard_findings_total", "counter", "Identifiers found leaving a device, by kind and the action taken.");
  for (const auto kind : all_identifier_kinds())
    for (std::size_t action = 0; action < action_count; ++action)
      w.sample("leakguard_findings_total", {{"identifier", to_string(kind)}, {"action", action_label[action]}},
               read(counters.findings[static_cast<std::size_t>(kind)][action]));

  w.family("leakguard_tls_connections_total", "counter",
           "TLS connections by outcome: intercepted (decrypted), passthrough, client_rejected (the client refused "
           "the forged certificate: pinned), failed (upstream verification and other handshake failures).");
  w.sample("leakguard_tls_connections_total", {{"result", "intercepted"}}, read(counters.tls_intercepted));
  w.sample("leakguard_tls_connections_total", {{"result", "passthrough"}}, read(counters.tls_passthrough));
  w.sample("leakguard_tls_connections_total", {{"result", "client_rejected"}}, read(counters.tls_client_rejected));
  w.sample("leakguard_tls_connections_total", {{"result", "failed"}}, read(counters.tls_failed));

  w.family("leakguard_tls_buffer_releases_total", "counter",
           "Intercepted TLS connections that went quiet (2 s without traffic) and gave their record buffers back.");
  w.sample("leakguard_tls_buffer_releases_total", {}, read(counters.tls_quiet_releases));

  w.family("leakguard_leaf_cache_lookups_total", "counter",
           "Forged leaf certificate cache lookups (zero while TLS interception is off).");
  w.sample("leakguard_leaf_cache_lookups_total", {{"result", "hit"}}, leaf_cache ? leaf_cache->hits : 0);
  w.sample("leakguard_leaf_cache_lookups_total", {{"result", "miss"}}, leaf_cache ? leaf_cache->misses : 0);

  w.family("leakguard_errors_total", "counter", "Errors (each one also an \"error\" event in the event log).");
  w.sample("leakguard_errors_total", {}, read(counters.errors));
  return w.take();
}

}  // namespace leakguard
