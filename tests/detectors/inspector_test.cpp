// The Inspector as the proxy and `scan` use it: one finding per leak (known beats heuristic),
// learning, raw streams split across reads, decompression bombs as anomalies, concurrent use from
// several threads, and event fields that never show a raw identifier.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include <openssl/evp.h>

#include "common/mask.hpp"
#include "detectors/decoders/hex.hpp"
#include "tests/detectors/test_support.hpp"

using namespace leakguard;

TEST_CASE("with a profile, a leak is reported once, as known") {
  Inspector inspector(test::config_from(test::lab_phone_yaml));
  InspectionContext context;
  context.device = inspector.device("lab-phone-01");
  const auto result = inspector.inspect_request(test::make_request("GET", "/?imei=353209091234567"), context);
  REQUIRE(result.findings.size() == 1);
  CHECK(result.findings[0].method == DetectionMethod::known);
  CHECK(result.findings[0].detector == "known_identifiers");
}

TEST_CASE("learning: a heuristic value's hashed forms are caught from then on") {
  auto config = test::config_from(R"(devices:
  - name: unprofiled
    match: { ip: 10.42.0.99 }
)");
  Inspector inspector(config);
  LearnedValues learned;
  InspectionContext context;
  context.device = inspector.device("unprofiled");
  context.learned = &learned;
  const std::string imei = "866543041234560";
  const auto hashed = test::make_request("GET", "/ad?u=" + test::md5_hex(imei));
  CHECK(inspector.inspect_request(hashed, context).findings.empty());  // nothing known yet

  const auto first = inspector.inspect_request(test::make_request("GET", "/?imei=" + imei), context);
  REQUIRE(first.findings.size() == 1);
  CHECK(first.findings[0].method == DetectionMethod::heuristic);
  CHECK(learned.knows(IdentifierKind::imei, imei));

  const auto later = inspector.inspect_request(hashed, context);
  REQUIRE(later.findings.size() == 1);
  CHECK(later.findings[0].kind == IdentifierKind::imei);
  CHECK(later.findings[0].encoding == "md5");
  CHECK(later.findings[0].learned);

  // No device, no learning.
  LearnedValues unused;
  InspectionContext anonymous;
  anonymous.learned = &unused;
  inspector.inspect_request(test::make_request("GET", "/?imei=353209091234567"), anonymous);
  CHECK(unused.size() == 0);
}

TEST_CASE("raw stream: an identifier split across reads is found once, at every split point") {
  Inspector inspector(test::config_from(test::lab_phone_yaml));
  InspectionContext profiled;
  profiled.device = inspector.device("lab-phone-01");
  const std::string stream = std::string(700, 'x') + "\x02IMEI:353209091234567;IMSI:242016601234567\x03" + std::string(50, 'y') +
                             "md5=" + test::md5_hex("353209091234567") + ";";
  for (const InspectionContext* context : {static_cast<const InspectionContext*>(&profiled), static_cast<const InspectionContext*>(nullptr)}) {
    const InspectionContext none;
    const InspectionContext& ctx = context ? *context : none;
    for (std::size_t split = 690; split < 790; ++split) {
      RawStreamScanner scanner = inspector.raw_stream_scanner();
      InspectionResult result;
      scanner.feed(std::string_view(stream).substr(0, split), ctx, result);
      scanner.feed(std::string_view(stream).substr(split), ctx, result);
      scanner.finish(ctx, result);
      CAPTURE(split);
      CHECK(test::kinds(result) == std::set<std::string>{"imei", "imsi"});
      std::size_t imeis = 0;
      for (const auto& finding : result.findings)
        if (finding.kind == IdentifierKind::imei && finding.encoding == "plain") ++imeis;
      CHECK(imeis == 1);
      if (context) CHECK(test::find(result, IdentifierKind::imei, "md5"));
      for (const auto& finding : result.findings)
        for (const auto& location : finding.locations) {
          CHECK(location.part == RequestPart::stream);
          CHECK(stream.substr(location.offset, location.length) == finding.matched.front());
        }
    }
  }
  // Byte by byte, too.
  RawStreamScanner scanner = inspector.raw_stream_scanner();
  InspectionResult result;
  for (const char c : stream) scanner.feed(std::string_view(&c, 1), profiled, result);
  scanner.finish(profiled, result);
  CHECK(test::kinds(result) == std::set<std::string>{"imei", "imsi"});
  CHECK(scanner.bytes_seen() == stream.size());
}

TEST_CASE("a decompression bomb is an anomaly, and the body's start is still inspected") {
  Inspector inspector(default_config());
  const std::string body = "{\"imei\": \"353209091234567\", \"pad\": \"" + std::string(64 << 20, 'a') + "\"}";
  const auto request =
      test::make_request("POST", "/", {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}}, test::gzip(body));
  const auto result = inspector.inspect_request(request, {});
  REQUIRE(result.anomalies.size() == 1);
  CHECK(result.anomalies[0].anomaly == "decompression_bomb");
  CHECK(result.anomalies[0].encoding == "gzip");
  CHECK(test::find(result, IdentifierKind::imei));
  const auto event = anomaly_event_fields(result.anomalies[0]);
  CHECK(event["anomaly"] == "decompression_bomb");
  CHECK(event["output_bytes"].get<std::uint64_t>() > 0);
}

TEST_CASE("many threads share one Inspector") {
  Inspector inspector(test::config_from(test::lab_phone_yaml));
  LearnedValues learned;
  InspectionContext context;
  context.device = inspector.device("lab-phone-01");
  context.learned = &learned;
  const auto request = test::make_request("POST", "/a?imei=353209091234567&other=866543041234560",
                                          {{"Content-Type", "application/json"}}, R"({"mac": "a4:50:46:12:34:56"})");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        const auto result = inspector.inspect_request(request, context);
        if (test::kinds(result) != std::set<std::string>{"imei", "mac"}) ++failures;
      }
    });
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
  CHECK(learned.knows(IdentifierKind::imei, "866543041234560"));
}

TEST_CASE("event fields mask the value and every raw text in `where`") {
  Inspector inspector(test::config_from(test::lab_phone_yaml));
  InspectionContext context;
  context.device = inspector.device("lab-phone-01");
  const auto result = inspector.inspect_request(
      test::make_request("POST", "/", {{"Content-Type", "application/json"}}, R"({"353209091234567": {"x": 1}})"), context);
  REQUIRE(result.findings.size() >= 1);
  const auto& finding = result.findings[0];
  const auto event = finding_event_fields(finding, secrets_of(result));
  const std::string text = event.dump();
  CHECK(text.find("353209091234567") == std::string::npos);
  CHECK(event["identifier"] == "imei");
  CHECK(event["method_of_detection"] == "known");
  CHECK(event["value"] == mask_value("353209091234567"));
  CHECK(event["device"] == "lab-phone-01");
}
