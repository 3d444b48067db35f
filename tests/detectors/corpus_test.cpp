// The whole shared corpus (../shared/corpus) and this repository's own cases
// (tests/data/detectors and tests/data/protobuf, made by their make_cases.py), exactly as `leakguard scan` reads them: with the
// profile every expected kind and nothing else; without it every heuristic kind, with at most one
// extra finding over the whole corpus.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/detectors/test_support.hpp"

using namespace leakguard;

namespace {

struct CorpusResult {
  std::size_t cases = 0;
  std::size_t extra_heuristic = 0;
};

std::set<std::string> as_set(const nlohmann::json& list) {
  std::set<std::string> out;
  for (const auto& item : list) out.insert(item.get<std::string>());
  return out;
}

CorpusResult run_corpus(const std::string& dir) {
  CorpusResult totals;
  const auto cases = nlohmann::json::parse(test::read_file(dir + "/cases.json"));
  Inspector profiled(load_config_file(dir + "/profile.yaml"));
  Inspector plain(default_config());
  REQUIRE(profiled.config().devices.size() == 1);
  for (const auto& entry : cases) {
    const std::string file = entry["file"];
    CAPTURE(file);
    const std::string bytes = test::read_file(dir + "/" + file);
    REQUIRE(!bytes.empty());
    ++totals.cases;

    LearnedValues learned;
    InspectionContext context;
    context.device = &profiled.config().devices.front();
    context.learned = &learned;
    const auto known = test::scan_capture(profiled, bytes, context);
    CHECK_MESSAGE(test::kinds(known) == as_set(entry["expect_known"]), test::describe(known));
    for (const auto& want : entry.value("expect_findings", nlohmann::json::array())) {
      bool found = false;
      for (const auto& finding : known.findings) {
        const auto event = finding_event_fields(finding);
        bool all = true;
        for (const auto& [key, value] : want.items())
          if (key == "where" ? finding.where != value.get<std::string>() : (!event.contains(key) || event[key] != value))
            all = false;
        found = found || all;
      }
      CHECK_MESSAGE(found, "missing " << want.dump() << "\n" << test::describe(known));
    }
    CHECK(known.anomalies.empty() != entry.value("expect_anomaly", false));

    const auto heuristic = test::scan_capture(plain, bytes, {});
    const auto got = test::kinds(heuristic);
    const auto expected = as_set(entry["expect_heuristic"]);
    for (const auto& kind : expected) CHECK_MESSAGE(got.count(kind), kind << " not found\n" << test::describe(heuristic));
    // Cases made for one heuristic rule (issue 16) hold it exactly: no extra kind is tolerated there.
    if (entry.value("strict_heuristic", false)) CHECK_MESSAGE(got == expected, test::describe(heuristic));
    for (const auto& finding : heuristic.findings)
      if (!expected.count(std::string(to_string(finding.kind)))) ++totals.extra_heuristic;
  }
  return totals;
}

}  // namespace

TEST_CASE("shared corpus") {
  const auto totals = run_corpus(LEAKGUARD_SHARED_DIR "/corpus");
  CHECK(totals.cases >= 19);
  CHECK(totals.extra_heuristic <= 1);
}

TEST_CASE("protobuf and gRPC cases (tests/data/protobuf, issue 15)") {
  const auto totals = run_corpus(LEAKGUARD_SOURCE_DIR "/tests/data/protobuf");
  CHECK(totals.cases >= 13);
  CHECK(totals.extra_heuristic == 0);
}

TEST_CASE("own cases: every encoding and placement") {
  const auto totals = run_corpus(LEAKGUARD_SOURCE_DIR "/tests/data/detectors");
  CHECK(totals.cases >= 40);
  CHECK(totals.extra_heuristic <= 1);
}

TEST_CASE("read sizes do not change what a raw stream reports") {
  Inspector inspector(load_config_file(LEAKGUARD_SOURCE_DIR "/tests/data/detectors/profile.yaml"));
  InspectionContext context;
  context.device = &inspector.config().devices.front();
  const std::string bytes = test::read_file(LEAKGUARD_SOURCE_DIR "/tests/data/detectors/cases/129-raw-split-across-reads.bin");
  for (std::size_t read : {1u << 16, 4096u, 1000u, 17u}) {
    CAPTURE(read);
    CHECK(test::kinds(test::scan_capture(inspector, bytes, context, read)) == std::set<std::string>{"imei", "mac"});
  }
}
