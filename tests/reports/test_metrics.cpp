// /metrics in the Prometheus text format: every sample belongs to a family announced by HELP and
// TYPE lines before it, counters end in _total, label values are escaped, and the counters
// rendered are the ones in ProxyCounters.
#include <doctest/doctest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "proxy/metrics.hpp"

using namespace leakguard;

TEST_CASE("label values and HELP text are escaped") {
  CHECK(escape_label_value(R"(plain)") == "plain");
  CHECK(escape_label_value("a\\b") == "a\\\\b");
  CHECK(escape_label_value("say \"hi\"") == "say \\\"hi\\\"");
  CHECK(escape_label_value("two\nlines") == "two\\nlines");
  CHECK(escape_help("back\\slash \"quoted\"\nnext") == "back\\\\slash \"quoted\"\\nnext");
}

TEST_CASE("exposition format: HELP and TYPE before samples, counter names, label syntax") {
  ProxyCounters counters;
  counters.connections_total = 12;
  counters.connections_open = 2;
  counters.http_exchanges = 7;
  counters.bytes_from_clients = 1000;
  counters.bytes_to_clients = 5000;
  counters.errors = 1;
  counters.tls_intercepted = 3;
  counters.tls_failed = 1;
  counters.count_finding(IdentifierKind::imei, Action::block);
  counters.count_finding(IdentifierKind::imei, Action::block);
  counters.count_finding(IdentifierKind::gaid, Action::log);
  const auto text = render_prometheus_metrics(counters, LeafCacheMetrics{5, 2});

  std::map<std::string, std::string> types;
  std::set<std::string> helped;
  std::map<std::string, std::string> samples;  // "name{labels}" -> value
  const std::regex sample_line(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (\d+)$)");
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    CAPTURE(line);
    if (line.starts_with("# HELP ")) {
      const auto name = line.substr(7, line.find(' ', 7) - 7);
      CHECK_FALSE(helped.contains(name));
      helped.insert(name);
    } else if (line.starts_with("# TYPE ")) {
      const auto name = line.substr(7, line.find(' ', 7) - 7);
      const auto type = line.substr(line.rfind(' ') + 1);
      CHECK(helped.contains(name));  // HELP first
      CHECK((type == "counter" || type == "gauge"));
      if (type == "counter") CHECK(name.ends_with("_total"));
      types[name] = type;
    } else {
      std::smatch match;
      REQUIRE(std::regex_match(line, match, sample_line));
      CHECK(types.contains(match[1].str()));  // announced before its samples
      samples[match[1].str() + match[2].str()] = match[5].str();
    }
  }
  CHECK(text.ends_with("\n"));
  CHECK(samples.at("leakguard_connections_total") == "12");
  CHECK(samples.at("leakguard_connections_open") == "2");
  CHECK(types.at("leakguard_connections_open") == "gauge");
  CHECK(samples.at("leakguard_http_exchanges_total") == "7");
  CHECK(samples.at("leakguard_client_bytes_total{direction=\"received\"}") == "1000");
  CHECK(samples.at("leakguard_client_bytes_total{direction=\"sent\"}") == "5000");
  CHECK(samples.at("leakguard_findings_total{identifier=\"imei\",action=\"blocked\"}") == "2");
  CHECK(samples.at("leakguard_findings_total{identifier=\"gaid\",action=\"logged\"}") == "1");
  CHECK(samples.at("leakguard_findings_total{identifier=\"iccid\",action=\"redacted\"}") == "0");
  CHECK(samples.at("leakguard_tls_connections_total{result=\"intercepted\"}") == "3");
  CHECK(samples.at("leakguard_tls_connections_total{result=\"failed\"}") == "1");
  CHECK(samples.at("leakguard_leaf_cache_lookups_total{result=\"hit\"}") == "5");
  CHECK(samples.at("leakguard_leaf_cache_lookups_total{result=\"miss\"}") == "2");
  CHECK(samples.at("leakguard_errors_total") == "1");
  // Every kind x action series exists from the start (11 kinds x 4 actions).
  std::size_t findings_series = 0;
  for (const auto& [key, value] : samples)
    if (key.starts_with("leakguard_findings_total{")) ++findings_series;
  CHECK(findings_series == identifier_kind_count * action_count);
}

TEST_CASE("without TLS interception the leaf cache series read zero") {
  ProxyCounters counters;
  const auto text = render_prometheus_metrics(counters);
  CHECK(text.find("leakguard_leaf_cache_lookups_total{result=\"hit\"} 0\n") != std::string::npos);
}
