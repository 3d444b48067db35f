// The three renderers: JSON carries the whole model, Markdown escapes table cells, and the HTML page
// is self-contained (no URL it would fetch) with its data embedded so that no log text can close
// the <script> element.
#include <doctest/doctest.h>

#include <regex>

#include "reports/render.hpp"
#include "tests/reports/test_support.hpp"

using namespace leakguard::reports;
using namespace leakguard::reports::test;

namespace {

Report sample() {
  ReportBuilder builder({.home_country = "NO"});
  builder.add_line(finding({}));
  builder.add_line(finding({.host = "evil|host</script><!--.example", .country = "US", .identifier = "gaid"}));
  builder.add_line(conn_close("lab-phone-01", "https"));
  builder.add_line(conn_close("lab-phone-01", "http"));
  builder.add_line("garbage");
  return builder.finish();
}

}  // namespace

TEST_CASE("JSON: rows, devices with coverage, inputs, scale") {
  const auto report = sample();
  const auto json = Json::parse(render_json({report}));
  CHECK(json["home_country"] == "NO");
  CHECK(json["leaks"].size() == 2);
  CHECK(json["leaks"][0]["severity"] == 5);
  CHECK(json["leaks"][0]["severity_label"] == "critical");
  CHECK(json["leaks"][0]["class"] == "hardware");
  CHECK(json["leaks"][0]["actions"]["blocked"] == 1);
  CHECK(json["leaks"][0]["transports"] == Json::array({"http"}));
  CHECK(json["devices"][0]["coverage"]["connections"] == 2);
  CHECK(json["devices"][0]["coverage_line"] == "2 connections: 50% decrypted, 50% plaintext HTTP, 0% passed through, 0% pinned, 0% raw TCP");
  CHECK(json["inputs"]["malformed_lines"] == 1);
  CHECK(json["severity_scale"].size() == 12);
  CHECK_FALSE(json.contains("baseline"));
}

TEST_CASE("JSON in baseline mode carries the diff and the verdict") {
  const auto report = sample();
  ReportBuilder empty_builder({});
  const auto empty = empty_builder.finish();
  const auto diff = diff_reports(empty, report);
  const auto json = Json::parse(render_json({report, &diff, &empty}));
  CHECK(json["baseline"]["regression"] == true);
  CHECK(json["baseline"]["new_leaks"].size() == 2);
  CHECK(json["baseline"]["inputs"]["events"] == 0);
}

TEST_CASE("Markdown escapes cells and states the home country") {
  const auto md = render_markdown({sample()});
  CHECK(md.find("Home country: NO.") != std::string::npos);
  CHECK(md.find("evil\\|host&lt;/script>&lt;!--.example") != std::string::npos);
  CHECK(md.find("evil|host") == std::string::npos);
  CHECK(md.find("| 5 critical | lab-phone-01 | zzhc.example.cn | 203.0.113.7 | CN | imei | 1 |") != std::string::npos);
  CHECK(md.find("## Severity scale") != std::string::npos);
  CHECK(md.find("test.jsonl") == std::string::npos);  // add_line's default file name is "<input>"
  CHECK(md.find("&lt;input>") != std::string::npos);

  ReportBuilder no_home({});
  CHECK(render_markdown({no_home.finish()}).find("not set (every destination counts as abroad)") != std::string::npos);
}

TEST_CASE("HTML is self-contained and its embedded data cannot end the script element") {
  const auto html = render_html({sample()});
  CHECK(html.starts_with("<!DOCTYPE html>"));
  // Nothing to fetch: no src/href, no url(), no @import; only the SVG namespace name is a URL.
  CHECK_FALSE(std::regex_search(html, std::regex(R"((src|href)\s*=)", std::regex::icase)));
  CHECK_FALSE(std::regex_search(html, std::regex(R"(url\(|@import)", std::regex::icase)));
  CHECK(html.find("default-src 'none'") != std::string::npos);
  // The host name with </script> appears only escaped.
  const auto data_start = html.find("<script type=\"application/json\" id=\"report-data\">");
  REQUIRE(data_start != std::string::npos);
  const auto data_end = html.find("</script>", data_start);
  const auto data = html.substr(data_start, data_end - data_start);
  CHECK(data.find("evil|host\\u003c/script\\u003e\\u003c!--.example") != std::string::npos);
  CHECK(html.find("evil|host</script>") == std::string::npos);
  // The embedded JSON parses back to the model.
  const auto json = Json::parse(data.substr(data.find('>') + 1));
  CHECK(json["leaks"].size() == 2);
  CHECK(html.find("id=\"chart\"") != std::string::npos);
  CHECK(html.find("leaks-table") != std::string::npos);
}

TEST_CASE("formats by name") {
  CHECK(parse_format("html") == Format::html);
  CHECK(parse_format("md") == Format::markdown);
  CHECK(parse_format("markdown") == Format::markdown);
  CHECK(parse_format("json") == Format::json);
  CHECK_FALSE(parse_format("pdf"));
}

TEST_CASE("coverage line") {
  CHECK(coverage_line({}) == "0 connections");
  Coverage c;
  c.connections = 3;
  c.decrypted = 1;
  c.raw = 1;
  c.other = 1;
  c.tls_failed = 2;
  CHECK(coverage_line(c) == "3 connections: 33% decrypted, 0% plaintext HTTP, 0% passed through, 0% pinned, 33% raw TCP, "
                            "33% other; 2 TLS failures");
}

TEST_CASE("DNS: a section per device in Markdown, the counts and names in JSON, none without dns events") {
  ReportBuilder builder({.home_country = "NO"});
  builder.add_line(R"({"type":"dns","device":"lab-phone-01","name":"clean.example","action":"forwarded"})");
  builder.add_line(R"({"type":"dns","device":"lab-phone-01","name":"35320**********.reg.example.cn","action":"blocked"})");
  const auto report = builder.finish();
  const auto json = Json::parse(render_json({report}));
  CHECK(json["devices"][0]["dns"]["queries"] == 2);
  CHECK(json["devices"][0]["dns"]["blocked_names"] == Json::array({"35320**********.reg.example.cn"}));
  CHECK(json["devices"][0]["dns_line"] == "2 queries, 2 names, 1 blocked");
  const auto md = render_markdown({report});
  CHECK(md.find("## DNS") != std::string::npos);
  CHECK(md.find("| lab-phone-01 | 2 | 35320**********.reg.example.cn, clean.example | 35320**********.reg.example.cn | - |") !=
        std::string::npos);
  CHECK(render_markdown({sample()}).find("## DNS") == std::string::npos);
}
