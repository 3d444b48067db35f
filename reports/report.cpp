#include "reports/report.hpp"

#include <algorithm>
#include <tuple>

#include "reports/severity.hpp"

namespace leakguard::reports {
namespace {

// Field access that never throws: a missing field or one of the wrong type reads as empty, so an
// event from an older or newer leakguard (or a hand-edited log) is still counted.
std::string_view text(const Json& object, const char* key) {
  if (!object.is_object()) return {};
  const auto found = object.find(key);
  if (found == object.end() || !found->is_string()) return {};
  return found->get_ref<const std::string&>();
}

const Json& member(const Json& object, const char* key) {
  static const Json empty = Json::object();
  if (!object.is_object()) return empty;
  const auto found = object.find(key);
  return found == object.end() ? empty : *found;
}

std::string lower(std::string_view value) {
  std::string out(value);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string upper(std::string_view value) {
  std::string out(value);
  for (auto& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

// "10.42.0.12:51234" -> "10.42.0.12", "[::1]:5000" -> "::1", anything else as it is.
std::string client_address(std::string_view client) {
  if (client.starts_with('[')) {
    const auto close = client.find(']');
    if (close != std::string_view::npos) return std::string(client.substr(1, close - 1));
    return std::string(client);
  }
  const auto colon = client.rfind(':');
  if (colon != std::string_view::npos && client.find(':') == colon) return std::string(client.substr(0, colon));
  return std::string(client);
}

// `leakguard scan` of a bare HTTP capture knows no address, only the request: the destination is
// the URL's host ("http://h.example:8080/p" -> "h.example", 8080; "[::1]" -> "::1").
void host_of_url(std::string_view url, std::string& host, std::uint64_t& port) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return;
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return;
    if (authority.substr(close + 1).starts_with(':')) port_text = authority.substr(close + 2);
    authority = authority.substr(1, close - 1);
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    port_text = authority.substr(colon + 1);
    authority = authority.substr(0, colon);
  }
  host = lower(authority);
  port = url.starts_with("https") ? 443 : 80;
  if (!port_text.empty() && port_text.size() <= 5 && port_text.find_first_not_of("0123456789") == std::string_view::npos)
    port = std::stoull(std::string(port_text));
}

void keep_earliest(std::string& current, std::string_view ts) {
  // RFC 3339 UTC with a fixed width sorts as text.
  if (!ts.empty() && (current.empty() || ts < current)) current = ts;
}
void keep_latest(std::string& current, std::string_view ts) {
  if (!ts.empty() && (current.empty() || ts > current)) current = ts;
}

}  // namespace

void BoundedSet::insert(std::string_view value) {
  if (value.empty()) return;
  if (values.size() >= limit && !values.contains(std::string(value))) {
    truncated = true;
    return;
  }
  values.emplace(value);
}

std::string LeakRow::destination() const { return host.empty() ? ip : host; }

std::string device_of(const Json& event) {
  const auto device = text(event, "device");
  if (!device.empty()) return std::string(device);
  const auto client = text(event, "client");
  if (!client.empty()) return "client " + client_address(client);
  // `scan` output without a profile: each capture file is usually one phone.
  const auto source = text(event, "source");
  if (!source.empty()) return "source " + std::string(source);
  return "unknown client";
}

ReportBuilder::ReportBuilder(ReportOptions options) : options_(std::move(options)) {
  options_.home_country = upper(options_.home_country);
}

void ReportBuilder::problem(std::string_view file, std::size_t line, std::string reason, bool whole_file) {
  // A file that cannot be read is always listed; malformed lines only as the first few examples.
  if (!whole_file && inputs_.problems.size() >= options_.max_problem_examples) {
    ++inputs_.problems_dropped;
    return;
  }
  inputs_.problems.push_back({std::string(file), line, std::move(reason), whole_file});
}

bool ReportBuilder::add_file(const std::string& path) {
  inputs_.files.push_back(path);
  const auto result = read_lines(
      path,
      [&](const Line& line) {
        if (line.too_long) {
          ++inputs_.lines;
          ++inputs_.malformed_lines;
          problem(path, line.number, "line longer than " + std::to_string(options_.limits.max_line_bytes) + " bytes");
          return;
        }
        add_line(line.text, path, line.number);
      },
      options_.limits);
  if (!result.opened) {
    ++inputs_.read_errors;
    problem(path, 0, "cannot open: " + result.error, true);
    return false;
  }
  if (!result.error.empty()) {
    ++inputs_.read_errors;
    problem(path, 0, "read error after line " + std::to_string(result.lines) + ": " + result.error, true);
  }
  return true;
}

void ReportBuilder::add_line(std::string_view line, std::string_view file, std::size_t line_number) {
  ++inputs_.lines;
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;  // blank lines are not events
  const Json event = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (event.is_discarded()) {
    ++inputs_.malformed_lines;
    problem(file, line_number, "not JSON");
    return;
  }
  if (!event.is_object()) {
    ++inputs_.malformed_lines;
    problem(file, line_number, "not a JSON object");
    return;
  }
  if (text(event, "type").empty()) {
    ++inputs_.malformed_lines;
    problem(file, line_number, "no \"type\"");
    return;
  }
  add_event(event);
}

void ReportBuilder::add_event(const Json& event) {
  const auto type = text(event, "type");
  ++inputs_.events;
  const std::string name(type.empty() ? "(none)" : type);
  if (inputs_.event_types.size() < options_.max_event_types || inputs_.event_types.contains(name))
    ++inputs_.event_types[name];
  else
    ++inputs_.event_types["(other)"];
  if (type == "finding")
    add_finding(event);
  else if (type == "conn")
    add_conn(event);
  else if (type == "tls")
    add_tls(event);
  else if (type == "dns")
    add_dns(event);
}

void ReportBuilder::add_finding(const Json& event) {
  const auto identifier = text(event, "identifier");
  if (identifier.empty()) {
    ++inputs_.skipped_findings;
    return;
  }
  const Json& dst = member(event, "dst");
  RowKey key{device_of(event), lower(text(dst, "host")), std::string(text(dst, "ip")), upper(text(dst, "country")),
             std::string(identifier)};
  std::uint64_t url_port = 0;
  if (key.host.empty() && key.ip.empty()) host_of_url(text(event, "url"), key.host, url_port);
  auto [found, inserted] = rows_.try_emplace(key);
  LeakRow& row = found->second;
  if (inserted) {
    row.device = key.device;
    row.host = key.host;
    row.ip = key.ip;
    row.country = key.country;
    row.identifier = key.identifier;
  }
  ++row.count;
  const auto ts = text(event, "ts");
  keep_earliest(row.first_seen, ts);
  keep_latest(row.last_seen, ts);
  const auto port = member(dst, "port");
  if (port.is_number_unsigned()) row.ports.insert(std::to_string(port.get<std::uint64_t>()));
  if (url_port != 0) row.ports.insert(std::to_string(url_port));
  const auto transport = text(event, "transport");
  row.transports.insert(transport.empty() ? "unknown" : transport);
  row.encodings.insert(text(event, "encoding"));
  row.detections.insert(text(event, "method_of_detection"));
  // `scan` output has a source and takes no action on what it reads.
  const auto action = text(event, "action");
  ++row.actions[std::string(!action.empty() ? action : !text(event, "source").empty() ? "scanned" : "unknown")];
  row.severity = std::max(row.severity, severity(identifier, transport, key.country, options_.home_country));
  auto& state = devices_[key.device];
  if (transport == "dns") state.dns.leaking.insert(key.host);
}

void ReportBuilder::add_conn(const Json& event) {
  if (text(event, "event") != "close") return;
  auto& state = devices_[device_of(event)];
  auto& coverage = state.coverage;
  ++coverage.connections;
  const auto transport = text(event, "transport");
  if (transport == "https")
    ++coverage.decrypted;
  else if (transport == "http")
    ++coverage.plaintext;
  else if (transport == "tls-passthrough")
    ++state.tls_passthrough;
  else if (transport == "tcp")
    ++coverage.raw;
  else
    ++coverage.other;
}

void ReportBuilder::add_tls(const Json& event) {
  const auto what = text(event, "event");
  auto& coverage = devices_[device_of(event)].coverage;
  if (what == "passthrough" && text(event, "passthrough") == "pinned")
    ++coverage.pinned;
  else if (what == "client_rejected" || what == "upstream_verify_failed" || what.ends_with("_failed"))
    ++coverage.tls_failed;
}

void ReportBuilder::add_dns(const Json& event) {
  auto& dns = devices_[device_of(event)].dns;
  ++dns.queries;
  const auto name = lower(text(event, "name"));
  dns.names.insert(name);
  if (text(event, "action") == "blocked") {
    ++dns.blocked;
    dns.blocked_names.insert(name);
  }
}

Report ReportBuilder::finish() const {
  Report report;
  report.home_country = options_.home_country;
  report.inputs = inputs_;

  std::map<std::string, DeviceSummary> devices;
  std::map<std::string, std::set<std::string>> destinations;
  for (const auto& [name, state] : devices_) {
    auto& summary = devices[name];
    summary.device = name;
    summary.coverage = state.coverage;
    summary.dns = state.dns;
    // A pinned connection is also a tls-passthrough connection; count it once, as pinned. Pinned
    // events without a matching close (a log cut in the middle) are capped, so shares add to 100%.
    summary.coverage.pinned = std::min(state.coverage.pinned, state.tls_passthrough);
    summary.coverage.passthrough = state.tls_passthrough - summary.coverage.pinned;
  }
  report.leaks.reserve(rows_.size());
  for (const auto& [key, row] : rows_) {
    report.leaks.push_back(row);
    auto& summary = devices[row.device];
    summary.findings += row.count;
    summary.max_severity = std::max(summary.max_severity, row.severity);
    summary.identifiers.insert(row.identifier);
    destinations[row.device].insert(row.destination());
  }
  for (auto& [name, summary] : devices) {
    summary.destinations = destinations[name].size();
    report.devices.push_back(std::move(summary));
  }
  std::stable_sort(report.devices.begin(), report.devices.end(), [](const auto& a, const auto& b) {
    return std::tie(b.max_severity, b.findings, a.device) < std::tie(a.max_severity, a.findings, b.device);
  });
  std::stable_sort(report.leaks.begin(), report.leaks.end(), [](const LeakRow& a, const LeakRow& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    return std::tie(a.device, a.host, a.ip, a.identifier) < std::tie(b.device, b.host, b.ip, b.identifier);
  });
  return report;
}

}  // namespace leakguard::reports
