// Aggregation: one row per device x destination x kind with counts, first/last seen, transports,
// encodings and actions; coverage per device; unprofiled clients; and every kind of bad input
// (not JSON, not an object, no type, unknown types and fields, wrong field types) counted, never
// fatal.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>
#include <zlib.h>

#include "reports/report.hpp"
#include "tests/reports/test_support.hpp"

using namespace leakguard::reports;
using namespace leakguard::reports::test;

namespace {

Report build(const std::vector<std::string>& lines, std::string home = "NO") {
  ReportBuilder builder({.home_country = home});
  std::size_t number = 0;
  for (const auto& line : lines) builder.add_line(line, "test.jsonl", ++number);
  return builder.finish();
}

const LeakRow* find_row(const Report& report, std::string_view device, std::string_view host, std::string_view identifier) {
  for (const auto& row : report.leaks)
    if (row.device == device && row.host == host && row.identifier == identifier) return &row;
  return nullptr;
}

const DeviceSummary* find_device(const Report& report, std::string_view name) {
  for (const auto& device : report.devices)
    if (device.device == name) return &device;
  return nullptr;
}

}  // namespace

TEST_CASE("findings aggregate per device, destination and identifier kind") {
  const auto report = build({
      finding({.ts = "2026-11-28T09:00:02.000Z"}),
      finding({.encoding = "json", .action = "logged", .ts = "2026-11-28T09:00:01.000Z"}),
      finding({.transport = "tcp", .ts = "2026-11-28T09:00:03.000Z"}),
      finding({.identifier = "imsi"}),
      finding({.host = "ads.example.com", .ip = "198.51.100.9", .country = "NO", .port = 443, .transport = "https",
               .identifier = "gaid", .encoding = "", .action = "logged"}),
      finding({.device = "lab-phone-02", .client = "10.42.0.12:40000"}),
  });
  CHECK(report.leaks.size() == 4);
  const auto* imei = find_row(report, "lab-phone-01", "zzhc.example.cn", "imei");
  REQUIRE(imei);
  CHECK(imei->count == 3);
  CHECK(imei->ip == "203.0.113.7");
  CHECK(imei->country == "CN");
  CHECK(imei->first_seen == "2026-11-28T09:00:01.000Z");
  CHECK(imei->last_seen == "2026-11-28T09:00:03.000Z");
  CHECK(imei->transports.values == std::set<std::string>{"http", "tcp"});
  CHECK(imei->encodings.values == std::set<std::string>{"base64>json", "json"});
  CHECK(imei->actions == std::map<std::string, std::uint64_t>{{"blocked", 2}, {"logged", 1}});
  CHECK(imei->ports.values == std::set<std::string>{"80"});
  CHECK(imei->severity == 5);

  const auto* gaid = find_row(report, "lab-phone-01", "ads.example.com", "gaid");
  REQUIRE(gaid);
  CHECK(gaid->severity == 1);
  CHECK(gaid->encodings.values.empty());

  // Worst first.
  CHECK(report.leaks.front().severity == 5);
  CHECK(report.leaks.back().severity == 1);

  const auto* phone = find_device(report, "lab-phone-01");
  REQUIRE(phone);
  CHECK(phone->findings == 5);
  CHECK(phone->max_severity == 5);
  CHECK(phone->destinations == 2);
  CHECK(phone->identifiers == std::set<std::string>{"gaid", "imei", "imsi"});
  CHECK(find_device(report, "lab-phone-02"));
  CHECK(report.inputs.events == 6);
  CHECK(report.inputs.event_types.at("finding") == 6);
}

TEST_CASE("a client without a device profile is grouped by its address") {
  const auto report = build({
      finding({.device = "", .client = "10.42.0.12:51234"}),
      finding({.device = "", .client = "10.42.0.12:51999"}),
      finding({.device = "", .client = "[2001:db8::7]:443"}),
      conn_close("", "http", "10.42.0.12:6000"),
  });
  const auto* client = find_row(report, "client 10.42.0.12", "zzhc.example.cn", "imei");
  REQUIRE(client);
  CHECK(client->count == 2);
  CHECK(find_row(report, "client 2001:db8::7", "zzhc.example.cn", "imei"));
  const auto* device = find_device(report, "client 10.42.0.12");
  REQUIRE(device);
  CHECK(device->coverage.connections == 1);
  CHECK(device->coverage.plaintext == 1);
}

TEST_CASE("coverage: shares of conn close events by transport, pinned out of passthrough") {
  std::vector<std::string> lines;
  for (int i = 0; i < 4; ++i) lines.push_back(conn_close("lab-phone-01", "https"));
  for (int i = 0; i < 3; ++i) lines.push_back(conn_close("lab-phone-01", "tls-passthrough"));
  lines.push_back(conn_close("lab-phone-01", "http"));
  lines.push_back(conn_close("lab-phone-01", "tcp"));
  lines.push_back(conn_close("lab-phone-01", ""));  // refused before sniffing
  lines.push_back(tls_event("lab-phone-01", "passthrough", "pinned"));
  lines.push_back(tls_event("lab-phone-01", "passthrough", "config"));
  lines.push_back(tls_event("lab-phone-01", "intercepted"));
  lines.push_back(tls_event("lab-phone-01", "client_rejected"));
  lines.push_back(tls_event("lab-phone-01", "upstream_verify_failed"));
  // conn open events are not connections counted twice
  lines.push_back(R"({"type":"conn","event":"open","device":"lab-phone-01","client":"10.42.0.11:1","dst":{}})");
  const auto report = build(lines);
  const auto* device = find_device(report, "lab-phone-01");
  REQUIRE(device);
  const auto& c = device->coverage;
  CHECK(c.connections == 10);
  CHECK(c.decrypted == 4);
  CHECK(c.passthrough == 2);
  CHECK(c.pinned == 1);
  CHECK(c.plaintext == 1);
  CHECK(c.raw == 1);
  CHECK(c.other == 1);
  CHECK(c.tls_failed == 2);
  CHECK(c.decrypted + c.passthrough + c.pinned + c.plaintext + c.raw + c.other == c.connections);
  CHECK(device->findings == 0);
}

TEST_CASE("pinned events beyond the passthrough connections are capped") {
  const auto report = build({conn_close("p", "tls-passthrough"), tls_event("p", "passthrough", "pinned"),
                             tls_event("p", "passthrough", "pinned")});
  const auto* device = find_device(report, "p");
  REQUIRE(device);
  CHECK(device->coverage.pinned == 1);
  CHECK(device->coverage.passthrough == 0);
}

TEST_CASE("malformed lines are counted with their place; unknown types and fields are fine") {
  const auto report = build({
      "not json at all",
      "[1,2,3]",
      R"({"no_type":1})",
      R"({"type":42})",
      "{\"type\":\"finding\", \"identifier\":",  // a line cut by a crash
      "",
      "   ",
      R"({"type":"future_event","whatever":{"deep":[1,2,3]}})",
      R"({"type":"finding","device":"d","dst":"not an object","identifier":"imei","transport":7,"ts":5})",
      R"({"type":"finding","device":"d","dst":{"ip":"1.2.3.4"}})",  // no identifier
      R"({"type":"finding","device":"d","identifier":["imei"]})",    // identifier of the wrong type
      R"({"type":"conn","event":"close","device":7,"client":null})",
      R"({"type":"tls","event":null})",
      finding({.country = "NO", .identifier = "oaid"}),  // a kind from the future
      "{\"type\":\"finding\",\"device\":\"\xff\xfe\"}",  // invalid UTF-8 is not JSON
  });
  CHECK(report.inputs.lines == 15);
  CHECK(report.inputs.malformed_lines == 6);
  CHECK(report.inputs.skipped_findings == 2);
  CHECK(report.inputs.events == 7);
  CHECK(report.inputs.event_types.at("future_event") == 1);
  REQUIRE(report.inputs.problems.size() == 6);
  CHECK(report.inputs.problems[0].file == "test.jsonl");
  CHECK(report.inputs.problems[0].line == 1);
  CHECK(report.inputs.problems[0].reason == "not JSON");
  CHECK(report.inputs.problems[1].reason == "not a JSON object");
  CHECK(report.inputs.problems[2].reason == "no \"type\"");
  CHECK(report.inputs.problems[3].line == 4);

  // The finding with a bad dst and transport still counts, with what could be read.
  const auto* odd = find_row(report, "d", "", "imei");
  REQUIRE(odd);
  CHECK(odd->count == 1);
  CHECK(odd->transports.values == std::set<std::string>{"unknown"});
  CHECK(odd->severity == 5);
  CHECK(find_row(report, "lab-phone-01", "zzhc.example.cn", "oaid"));
  CHECK(find_device(report, "unknown client"));
}

TEST_CASE("problem examples are bounded, the count is not") {
  ReportBuilder builder({.home_country = "NO", .max_problem_examples = 3});
  for (int i = 0; i < 100; ++i) builder.add_line("garbage");
  const auto report = builder.finish();
  CHECK(report.inputs.malformed_lines == 100);
  CHECK(report.inputs.problems.size() == 3);
  CHECK(report.inputs.problems_dropped == 97);
}

TEST_CASE("value sets in a row are bounded") {
  std::vector<std::string> lines;
  for (int i = 0; i < 40; ++i) lines.push_back(finding({.encoding = "enc" + std::to_string(i)}));
  const auto report = build(lines);
  REQUIRE(report.leaks.size() == 1);
  CHECK(report.leaks[0].count == 40);
  CHECK(report.leaks[0].encodings.values.size() == max_values_per_set);
  CHECK(report.leaks[0].encodings.truncated);
}

TEST_CASE("add_file reads plain and gzip logs and records what it cannot open") {
  const auto dir = std::filesystem::temp_directory_path() / ("leakguard-report-files-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "a.jsonl") << finding({}) << "\n" << conn_close("lab-phone-01", "http") << "\nbroken\n";
  const std::string gz_text = finding({.identifier = "iccid"}) + "\n";
  gzFile gz = gzopen((dir / "a.jsonl.1.gz").c_str(), "wb");
  REQUIRE(gz);
  gzwrite(gz, gz_text.data(), static_cast<unsigned>(gz_text.size()));
  gzclose(gz);

  ReportBuilder builder({.home_country = "no"});
  CHECK(builder.add_file((dir / "a.jsonl").string()));
  CHECK(builder.add_file((dir / "a.jsonl.1.gz").string()));
  CHECK_FALSE(builder.add_file((dir / "missing.jsonl").string()));
  const auto report = builder.finish();
  CHECK(report.home_country == "NO");
  CHECK(report.inputs.files.size() == 3);
  CHECK(report.inputs.events == 3);
  CHECK(report.inputs.malformed_lines == 1);
  CHECK(report.inputs.read_errors == 1);
  CHECK(find_row(report, "lab-phone-01", "zzhc.example.cn", "iccid"));
  CHECK(find_row(report, "lab-phone-01", "zzhc.example.cn", "imei"));
  bool missing_reported = false;
  for (const auto& problem : report.inputs.problems)
    if (problem.line == 0 && problem.file.ends_with("missing.jsonl")) missing_reported = true;
  CHECK(missing_reported);
  std::filesystem::remove_all(dir);
}

TEST_CASE("host names group case-insensitively; country codes upper-case") {
  const auto report = build({finding({.host = "ZZHC.Example.CN", .country = "cn"}), finding({})});
  REQUIRE(report.leaks.size() == 1);
  CHECK(report.leaks[0].count == 2);
  CHECK(report.leaks[0].host == "zzhc.example.cn");
  CHECK(report.leaks[0].country == "CN");
}

TEST_CASE("dns: queries, names, blocked and leaking names per device") {
  const auto report = build({
      R"({"type":"dns","ts":"2026-12-06T09:00:00.000Z","device":"lab-phone-01","name":"Clean.Example","qtype":"A","action":"forwarded","rcode":"NOERROR"})",
      R"({"type":"dns","ts":"2026-12-06T09:00:01.000Z","device":"lab-phone-01","name":"clean.example","qtype":"AAAA","action":"forwarded","rcode":"NOERROR"})",
      R"({"type":"finding","ts":"2026-12-06T09:00:02.000Z","device":"lab-phone-01","dst":{"host":"35320**********.reg.example.cn","host_source":"dns"},"transport":"dns","identifier":"imei","where":"dns.qname","value":"35320**********","action":"blocked"})",
      R"({"type":"dns","ts":"2026-12-06T09:00:02.000Z","device":"lab-phone-01","name":"35320**********.reg.example.cn","qtype":"A","action":"blocked","rcode":"NXDOMAIN"})",
      R"({"type":"dns","ts":"2026-12-06T09:00:03.000Z","client":"10.42.0.99:5353","name":"other.example","action":"forwarded"})",
  });
  const auto* phone = find_device(report, "lab-phone-01");
  REQUIRE(phone);
  CHECK(phone->dns.queries == 3);
  CHECK(phone->dns.blocked == 1);
  CHECK(phone->dns.names.values == std::set<std::string>{"clean.example", "35320**********.reg.example.cn"});
  CHECK(phone->dns.blocked_names.values == std::set<std::string>{"35320**********.reg.example.cn"});
  CHECK(phone->dns.leaking.values == std::set<std::string>{"35320**********.reg.example.cn"});
  const auto* other = find_device(report, "client 10.42.0.99");
  REQUIRE(other);
  CHECK(other->dns.queries == 1);
  CHECK(other->dns.leaking.values.empty());
}

TEST_CASE("scan output is reported like proxy events: device, else the source file; dst, else the URL") {
  const auto report = build({
      scan_finding({.device = "lab-phone-01", .host = "api.example.cn", .ip = "203.0.113.7", .transport = "https"}),
      scan_finding({.device = "lab-phone-01", .host = "api.example.cn", .ip = "203.0.113.7", .transport = "https",
                    .ts = "2026-12-01T09:00:05.000Z"}),
      scan_finding({.source = "router.http"}),
      scan_finding({.source = "router.http", .url = "http://[2001:db8::1]/x", .identifier = "imsi"}),
      scan_finding({.source = "raw.bin", .url = "", .transport = "tcp", .identifier = "serial"}),
  });
  CHECK(report.inputs.malformed_lines == 0);
  CHECK(report.leaks.size() == 4);
  const auto* har = find_row(report, "lab-phone-01", "api.example.cn", "imei");
  REQUIRE(har);
  CHECK(har->count == 2);
  CHECK(har->ip == "203.0.113.7");
  CHECK(har->ports.values == std::set<std::string>{"443"});
  CHECK(har->transports.values == std::set<std::string>{"https"});
  CHECK(har->actions == std::map<std::string, std::uint64_t>{{"scanned", 2}});
  CHECK(har->last_seen == "2026-12-01T09:00:05.000Z");
  const auto* bare = find_row(report, "source router.http", "zzhc.example.cn", "imei");
  REQUIRE(bare);
  CHECK(bare->ports.values == std::set<std::string>{"8080"});
  CHECK(bare->destination() == "zzhc.example.cn");
  CHECK(find_row(report, "source router.http", "2001:db8::1", "imsi"));
  const auto* raw = find_row(report, "source raw.bin", "", "serial");
  REQUIRE(raw);
  CHECK(raw->ip.empty());
  REQUIRE(find_device(report, "source router.http"));
  CHECK(find_device(report, "source router.http")->findings == 2);
  CHECK(find_device(report, "lab-phone-01")->destinations == 1);
}
