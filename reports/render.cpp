#include "reports/render.hpp"

#include <algorithm>
#include <cstdio>

#include "reports/severity.hpp"

namespace leakguard::reports {
namespace {

Json set_to_json(const BoundedSet& set) {
  Json out = Json::array();
  for (const auto& value : set.values) out.push_back(value);
  if (set.truncated) out.push_back("(more)");
  return out;
}

Json inputs_to_json(const InputSummary& inputs) {
  Json problems = Json::array();
  for (const auto& problem : inputs.problems)
    problems.push_back({{"file", problem.file}, {"line", problem.line}, {"reason", problem.reason}});
  return {{"files", inputs.files},
          {"lines", inputs.lines},
          {"events", inputs.events},
          {"malformed_lines", inputs.malformed_lines},
          {"skipped_findings", inputs.skipped_findings},
          {"read_errors", inputs.read_errors},
          {"event_types", inputs.event_types},
          {"problems", std::move(problems)},
          {"problems_not_listed", inputs.problems_dropped}};
}

Json diff_entries(const std::vector<DiffEntry>& entries, bool with_baseline_severity) {
  Json out = Json::array();
  for (const auto& entry : entries) {
    Json item = {{"destination", entry.destination}, {"identifier", entry.identifier},
                 {"countries", entry.countries},     {"devices", entry.devices},
                 {"count", entry.count},             {"severity", entry.severity},
                 {"severity_label", severity_label(entry.severity)}};
    if (with_baseline_severity) item["baseline_severity"] = entry.baseline_severity;
    out.push_back(std::move(item));
  }
  return out;
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) return "0%";
  const double share = 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, share > 0 && share < 1 ? "%.1f%%" : "%.0f%%", share);
  return buffer;
}

std::string join(const Json& values, std::string_view separator = ", ") {
  std::string out;
  for (const auto& value : values) {
    if (!out.empty()) out += separator;
    out += value.is_string() ? value.get<std::string>() : value.dump();
  }
  return out;
}

std::string actions_text(const std::map<std::string, std::uint64_t>& actions) {
  std::string out;
  for (const auto& [action, count] : actions) {
    if (!out.empty()) out += ", ";
    out += action + " " + std::to_string(count);
  }
  return out;
}

// Markdown table cells: a '|' would end the cell, a newline the row, '<' could start raw HTML.
std::string cell(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else if (c == '<')
      out += "&lt;";
    else if (c == '\\')
      out += "\\\\";
    else
      out += c;
  }
  return out.empty() ? "-" : out;
}

std::string home_country_text(const Report& report) {
  return report.home_country.empty() ? "not set (every destination counts as abroad)" : report.home_country;
}

void markdown_inputs(std::string& out, const InputSummary& inputs, std::string_view title) {
  out += "**" + std::string(title) + "**: " + std::to_string(inputs.files.size()) + " file(s), " +
         std::to_string(inputs.lines) + " lines, " + std::to_string(inputs.events) + " events, " +
         std::to_string(inputs.malformed_lines) + " malformed lines, " + std::to_string(inputs.skipped_findings) +
         " findings without an identifier, " + std::to_string(inputs.read_errors) + " read errors.\n";
  std::string types;
  for (const auto& [type, count] : inputs.event_types) types += (types.empty() ? "" : ", ") + type + " " + std::to_string(count);
  if (!types.empty()) out += "Event types: " + cell(types) + ".\n";
  for (const auto& problem : inputs.problems)
    out += "- " + cell(problem.file) + (problem.line ? ":" + std::to_string(problem.line) : "") + ": " +
           cell(problem.reason) + "\n";
  if (inputs.problems_dropped) out += "- ... and " + std::to_string(inputs.problems_dropped) + " more malformed lines\n";
  out += "\n";
}

void markdown_diff_table(std::string& out, const std::vector<DiffEntry>& entries, bool escalated) {
  if (entries.empty()) {
    out += "None.\n\n";
    return;
  }
  out += escalated ? "| Severity | Was | Destination | Countries | Identifier | Count | Devices |\n|---|---|---|---|---|---|---|\n"
                   : "| Severity | Destination | Countries | Identifier | Count | Devices |\n|---|---|---|---|---|---|\n";
  for (const auto& entry : entries) {
    out += "| " + std::to_string(entry.severity) + " " + std::string(severity_label(entry.severity)) + " | ";
    if (escalated) out += std::to_string(entry.baseline_severity) + " | ";
    out += cell(entry.destination) + " | " + cell(join(Json(entry.countries))) + " | " + cell(entry.identifier) +
           " | " + std::to_string(entry.count) + " | " + cell(join(Json(entry.devices))) + " |\n";
  }
  out += "\n";
}

}  // namespace

std::optional<Format> parse_format(std::string_view name) {
  if (name == "html") return Format::html;
  if (name == "md" || name == "markdown") return Format::markdown;
  if (name == "json") return Format::json;
  return std::nullopt;
}

std::string coverage_line(const Coverage& c) {
  std::string out = std::to_string(c.connections) + " connection" + (c.connections == 1 ? "" : "s");
  if (c.connections == 0) return out;
  out += ": " + percent(c.decrypted, c.connections) + " decrypted, " + percent(c.plaintext, c.connections) +
         " plaintext HTTP, " + percent(c.passthrough, c.connections) + " passed through, " +
         percent(c.pinned, c.connections) + " pinned, " + percent(c.raw, c.connections) + " raw TCP";
  if (c.other) out += ", " + percent(c.other, c.connections) + " other";
  if (c.tls_failed) out += "; " + std::to_string(c.tls_failed) + " TLS failures";
  return out;
}

std::string dns_line(const DnsActivity& dns) {
  if (dns.queries == 0) return "-";
  std::string out = std::to_string(dns.queries) + " quer" + (dns.queries == 1 ? "y" : "ies") + ", " +
                    std::to_string(dns.names.values.size()) + (dns.names.truncated ? "+" : "") + " names";
  if (dns.blocked) out += ", " + std::to_string(dns.blocked) + " blocked";
  if (!dns.leaking.values.empty()) out += ", " + std::to_string(dns.leaking.values.size()) + " leaking";
  return out;
}

Json report_to_json(const RenderInput& input) {
  const Report& report = input.report;
  Json scale = Json::array();
  for (const auto& row : severity_scale())
    scale.push_back({{"class", to_string(row.identifier_class)},
                     {"plaintext", row.plaintext},
                     {"abroad", row.abroad},
                     {"severity", row.severity},
                     {"label", severity_label(row.severity)}});

  Json devices = Json::array();
  for (const auto& device : report.devices) {
    const auto& c = device.coverage;
    devices.push_back({{"device", device.device},
                       {"findings", device.findings},
                       {"max_severity", device.max_severity},
                       {"identifiers", device.identifiers},
                       {"destinations", device.destinations},
                       {"coverage",
                        {{"connections", c.connections},
                         {"decrypted", c.decrypted},
                         {"plaintext", c.plaintext},
                         {"passthrough", c.passthrough},
                         {"pinned", c.pinned},
                         {"raw", c.raw},
                         {"other", c.other},
                         {"tls_failed", c.tls_failed}}},
                       {"coverage_line", coverage_line(c)},
                       {"dns",
                        {{"queries", device.dns.queries},
                         {"blocked", device.dns.blocked},
                         {"names", set_to_json(device.dns.names)},
                         {"leaking_names", set_to_json(device.dns.leaking)},
                         {"blocked_names", set_to_json(device.dns.blocked_names)}}},
                       {"dns_line", dns_line(device.dns)}});
  }

  Json leaks = Json::array();
  for (const auto& row : report.leaks) {
    leaks.push_back({{"device", row.device},
                     {"host", row.host},
                     {"ip", row.ip},
                     {"country", row.country},
                     {"ports", set_to_json(row.ports)},
                     {"identifier", row.identifier},
                     {"class", to_string(classify_identifier(row.identifier))},
                     {"count", row.count},
                     {"first_seen", row.first_seen},
                     {"last_seen", row.last_seen},
                     {"transports", set_to_json(row.transports)},
                     {"encodings", set_to_json(row.encodings)},
                     {"detections", set_to_json(row.detections)},
                     {"actions", row.actions},
                     {"severity", row.severity},
                     {"severity_label", severity_label(row.severity)}});
  }

  Json out = {{"report", "leakguard"},
              {"version", 1},
              {"home_country", report.home_country.empty() ? Json(nullptr) : Json(report.home_country)},
              {"severity_scale", std::move(scale)},
              {"inputs", inputs_to_json(report.inputs)},
              {"devices", std::move(devices)},
              {"leaks", std::move(leaks)}};
  if (input.diff) {
    const auto& diff = *input.diff;
    Json baseline = {{"regression", diff.regression()},
                     {"new_destinations", diff.new_destinations},
                     {"new_identifiers", diff.new_identifiers},
                     {"new_leaks", diff_entries(diff.new_leaks, false)},
                     {"escalated", diff_entries(diff.escalated, true)},
                     {"gone", diff_entries(diff.gone, false)}};
    if (input.baseline) baseline["inputs"] = inputs_to_json(input.baseline->inputs);
    out["baseline"] = std::move(baseline);
  }
  return out;
}

std::string render_json(const RenderInput& input) {
  // Strings from the log were valid UTF-8 when parsed; file names may not be: replace, never throw.
  return report_to_json(input).dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string render_markdown(const RenderInput& input) {
  const Report& report = input.report;
  std::string out = "# leakguard report\n\n";
  out += "Home country: " + home_country_text(report) + ".\n\n";
  markdown_inputs(out, report.inputs, input.diff ? "New batch" : "Inputs");

  if (input.diff) {
    const auto& diff = *input.diff;
    if (input.baseline) markdown_inputs(out, input.baseline->inputs, "Baseline");
    out += "## Compared with the baseline: ";
    out += diff.regression() ? "REGRESSION\n\n" : "no regression\n\n";
    out += "New destinations: " + cell(diff.new_destinations.empty() ? "none" : join(Json(diff.new_destinations))) + "\n\n";
    out += "New identifier kinds: " + cell(diff.new_identifiers.empty() ? "none" : join(Json(diff.new_identifiers))) + "\n\n";
    out += "### New leaks\n\n";
    markdown_diff_table(out, diff.new_leaks, false);
    out += "### Rated worse than in the baseline\n\n";
    markdown_diff_table(out, diff.escalated, true);
    out += "### Gone\n\n";
    markdown_diff_table(out, diff.gone, false);
  }

  out += "## Devices\n\n";
  if (report.devices.empty()) out += "No devices in the input.\n\n";
  else {
    out += "| Device | Worst | Findings | Identifiers | Destinations | Coverage |\n|---|---|---|---|---|---|\n";
    for (const auto& device : report.devices) {
      const std::string worst =
          device.max_severity ? std::to_string(device.max_severity) + " " + std::string(severity_label(device.max_severity)) : "-";
      out += "| " + cell(device.device) + " | " + worst + " | " + std::to_string(device.findings) + " | " +
             cell(join(Json(device.identifiers))) + " | " + std::to_string(device.destinations) + " | " +
             cell(coverage_line(device.coverage)) + " |\n";
    }
    out += "\n";
  }

  if (std::any_of(report.devices.begin(), report.devices.end(), [](const auto& d) { return d.dns.queries > 0; })) {
    out += "## DNS\n\nNames each device asked leakguard's DNS forwarder; leaking names are masked as in the events.\n\n"
           "| Device | Queries | Names | Blocked | Leaking names |\n|---|---|---|---|---|\n";
    for (const auto& device : report.devices) {
      if (device.dns.queries == 0) continue;
      out += "| " + cell(device.device) + " | " + std::to_string(device.dns.queries) + " | " +
             cell(join(set_to_json(device.dns.names))) + " | " + cell(join(set_to_json(device.dns.blocked_names))) +
             " | " + cell(join(set_to_json(device.dns.leaking))) + " |\n";
    }
    out += "\n";
  }

  out += "## Leaks\n\n";
  if (report.leaks.empty()) out += "No findings.\n\n";
  else {
    out += "| Severity | Device | Host | IP | Country | Identifier | Count | First seen | Last seen | Transports | "
           "Encodings | Actions |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& row : report.leaks) {
      out += "| " + std::to_string(row.severity) + " " + std::string(severity_label(row.severity)) + " | " +
             cell(row.device) + " | " + cell(row.host) + " | " + cell(row.ip) + " | " + cell(row.country) + " | " +
             cell(row.identifier) + " | " + std::to_string(row.count) + " | " + cell(row.first_seen) + " | " +
             cell(row.last_seen) + " | " + cell(join(set_to_json(row.transports))) + " | " +
             cell(join(set_to_json(row.encodings))) + " | " + cell(actions_text(row.actions)) + " |\n";
    }
    out += "\n";
  }

  out += "## Severity scale\n\n"
         "Base by identifier class (hardware 3, personal 2, resettable 1), +1 in plaintext (HTTP, raw TCP), "
         "+1 abroad (a country other than the home country, or unknown). It rates what the phone sent, "
         "whatever leakguard did with it. Classes: hardware = imei, imsi, iccid, serial, mac; resettable = "
         "gaid, android_id; personal = msisdn, email, location, cell and any kind added later.\n\n"
         "| Class | Plaintext | Abroad | Severity |\n|---|---|---|---|\n";
  for (const auto& row : severity_scale())
    out += "| " + std::string(to_string(row.identifier_class)) + " | " + (row.plaintext ? "yes" : "no") + " | " +
           (row.abroad ? "yes" : "no") + " | " + std::to_string(row.severity) + " " +
           std::string(severity_label(row.severity)) + " |\n";
  return out;
}

std::string render(Format format, const RenderInput& input) {
  switch (format) {
    case Format::html:
      return render_html(input);
    case Format::markdown:
      return render_markdown(input);
    case Format::json:
      return render_json(input);
  }
  return render_markdown(input);
}

}  // namespace leakguard::reports
