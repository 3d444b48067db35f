// Batch against batch: new destinations, new kinds, the same leak rated worse, leaks gone, and the
// verdict a release gate reads. Device names differ between batches and must not matter.
#include <doctest/doctest.h>

#include "reports/baseline_diff.hpp"
#include "tests/reports/test_support.hpp"

using namespace leakguard::reports;
using namespace leakguard::reports::test;

namespace {

Report build(const std::vector<std::string>& lines, std::string home = "NO") {
  ReportBuilder builder({.home_country = home});
  for (const auto& line : lines) builder.add_line(line);
  return builder.finish();
}

}  // namespace

TEST_CASE("identical batches: no regression, nothing gone") {
  const auto old_batch = build({finding({}), finding({.identifier = "gaid"})});
  const auto new_batch = build({finding({.device = "batch2-phone-07"}), finding({.device = "batch2-phone-07", .identifier = "gaid"})});
  const auto diff = diff_reports(old_batch, new_batch);
  CHECK_FALSE(diff.regression());
  CHECK(diff.new_leaks.empty());
  CHECK(diff.escalated.empty());
  CHECK(diff.gone.empty());
  CHECK(diff.new_destinations.empty());
  CHECK(diff.new_identifiers.empty());
}

TEST_CASE("a new destination and a new kind are a regression") {
  const auto old_batch = build({finding({})});
  const auto new_batch = build({finding({}), finding({.identifier = "iccid"}),
                                finding({.host = "telemetry.example.net", .ip = "192.0.2.1", .country = "US"})});
  const auto diff = diff_reports(old_batch, new_batch);
  CHECK(diff.regression());
  REQUIRE(diff.new_leaks.size() == 2);
  CHECK(diff.new_destinations == std::vector<std::string>{"telemetry.example.net"});
  CHECK(diff.new_identifiers == std::vector<std::string>{"iccid"});
  for (const auto& entry : diff.new_leaks) {
    CHECK(entry.severity == 5);
    CHECK(entry.devices == std::vector<std::string>{"lab-phone-01"});
  }
}

TEST_CASE("leaks that are gone are reported and are not a regression") {
  const auto old_batch = build({finding({}), finding({.identifier = "imsi"}), finding({.host = "old.example.com"})});
  const auto new_batch = build({finding({})});
  const auto diff = diff_reports(old_batch, new_batch);
  CHECK_FALSE(diff.regression());
  REQUIRE(diff.gone.size() == 2);
  CHECK(diff.gone[0].severity == 5);
}

TEST_CASE("the same leak, now in plaintext or abroad, is rated worse and is a regression") {
  const auto old_batch = build({finding({.country = "NO", .transport = "https"})});
  const auto new_batch = build({finding({.country = "NO", .transport = "http"})});
  const auto diff = diff_reports(old_batch, new_batch);
  CHECK(diff.regression());
  CHECK(diff.new_leaks.empty());
  REQUIRE(diff.escalated.size() == 1);
  CHECK(diff.escalated[0].baseline_severity == 3);
  CHECK(diff.escalated[0].severity == 4);

  // Better than before is not a regression.
  CHECK_FALSE(diff_reports(new_batch, old_batch).regression());
}

TEST_CASE("destinations compare by host, by IP when there is no host") {
  // The same host behind another IP (a CDN) is the same destination.
  const auto old_batch = build({finding({.ip = "203.0.113.7"}), finding({.host = "", .ip = "198.51.100.1", .transport = "tcp"})});
  const auto same = build({finding({.ip = "203.0.113.99"}), finding({.host = "", .ip = "198.51.100.1", .transport = "tcp"})});
  CHECK_FALSE(diff_reports(old_batch, same).regression());
  const auto other_ip = build({finding({.ip = "203.0.113.7"}), finding({.host = "", .ip = "198.51.100.2", .transport = "tcp"})});
  const auto diff = diff_reports(old_batch, other_ip);
  CHECK(diff.regression());
  CHECK(diff.new_destinations == std::vector<std::string>{"198.51.100.2"});
}

TEST_CASE("an empty baseline makes every leak new; an empty new batch has none") {
  const auto empty = build({});
  const auto batch = build({finding({})});
  CHECK(diff_reports(empty, batch).regression());
  CHECK_FALSE(diff_reports(batch, empty).regression());
  CHECK_FALSE(diff_reports(empty, empty).regression());
}

TEST_CASE("scan output diffs like proxy logs: the same leak in a capture of each firmware is no regression") {
  const auto old_batch = build({scan_finding({.source = "old.har", .host = "api.example.cn", .ip = "203.0.113.7"})});
  const auto same = build({scan_finding({.source = "new.har", .host = "api.example.cn", .ip = "198.51.100.1"})});
  CHECK_FALSE(diff_reports(old_batch, same).regression());  // compared by host: the address may change
  const auto worse = build({scan_finding({.source = "new.har", .host = "api.example.cn", .ip = "203.0.113.7"}),
                            scan_finding({.source = "new.har", .url = "http://track.example.net/t", .identifier = "imsi"})});
  const auto diff = diff_reports(old_batch, worse);
  CHECK(diff.regression());
  REQUIRE(diff.new_leaks.size() == 1);
  CHECK(diff.new_leaks[0].destination == "track.example.net");
  CHECK(diff.new_leaks[0].devices == std::vector<std::string>{"source new.har"});
}
