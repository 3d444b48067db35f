// The registry: built-in detectors in order, options read and refused with line and column,
// unknown detector names refused, a detector switched off.
#include <doctest/doctest.h>

#include "detectors/registry.hpp"
#include "tests/detectors/test_support.hpp"

using namespace leakguard;

TEST_CASE("the built-in detectors, in order") {
  const auto factories = builtin_detector_factories();
  REQUIRE(factories.size() == 2);
  CHECK(factories[0].name == "known_identifiers");
  CHECK(factories[1].name == "heuristics");
  const auto detectors = build_detectors(*default_config());
  REQUIRE(detectors.size() == 2);
  CHECK(detectors[1]->feeds_learning());
}

TEST_CASE("bad detector configuration names the line and column") {
  auto config_error = [](const std::string& yaml) -> std::optional<ConfigError> {
    try {
      Inspector inspector(test::config_from(yaml));
    } catch (const ConfigError& error) {
      return error;
    }
    return std::nullopt;
  };
  auto unknown = config_error("detectors:\n  spyware_finder: {level: 3}\n");
  REQUIRE(unknown);
  CHECK(unknown->line() == 2);
  CHECK(unknown->message().find("spyware_finder") != std::string::npos);

  auto option = config_error("detectors:\n  heuristics:\n    learn: true\n    colour: blue\n");
  REQUIRE(option);
  CHECK(option->line() == 4);
  CHECK(option->column() == 5);
  CHECK(option->message().find("colour") != std::string::npos);

  auto kind = config_error("detectors:\n  known_identifiers:\n    kinds: [imei, shoe_size]\n");
  REQUIRE(kind);
  CHECK(kind->line() == 3);
  CHECK(kind->message().find("shoe_size") != std::string::npos);

  auto hash = config_error("detectors:\n  known_identifiers:\n    hashes: [md4]\n");
  REQUIRE(hash);
  CHECK(hash->line() == 3);

  auto radius = config_error("detectors:\n  known_identifiers:\n    location_radius_m: -5\n");
  REQUIRE(radius);
  CHECK(radius->line() == 3);
}

TEST_CASE("options change what is found; enabled: false removes a detector") {
  const std::string device = test::lab_phone_yaml;
  Inspector no_md5(test::config_from(device + "detectors:\n  known_identifiers:\n    hashes: [sha1]\n"));
  InspectionContext context;
  context.device = no_md5.device("lab-phone-01");
  const auto md5 = test::make_request("GET", "/?u=bddd39b3cfca46dbae3b9450283f5917");
  CHECK(no_md5.inspect_request(md5, context).findings.empty());

  Inspector no_heuristics(test::config_from("detectors:\n  heuristics: {enabled: false}\n"));
  CHECK(no_heuristics.inspect_request(test::make_request("GET", "/?imei=353209091234567"), {}).findings.empty());

  Inspector only_imsi(test::config_from("detectors:\n  heuristics:\n    kinds: [imsi]\n"));
  const auto result = only_imsi.inspect_request(test::make_request("GET", "/?imei=353209091234567&imsi=242016601234567"), {});
  CHECK(test::kinds(result) == std::set<std::string>{"imsi"});
}
