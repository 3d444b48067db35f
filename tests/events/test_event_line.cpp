// EventLine writes the same JSON that a nlohmann DOM of the same fields would dump.
#include <doctest/doctest.h>

#include <limits>
#include <regex>
#include <string>

#include "events/event_line.hpp"
#include "events/event_log.hpp"

using leakguard::EventLine;
using leakguard::Json;

TEST_CASE("an event line is one JSON object with type, ts and the fields, ending in a newline") {
  const std::string line = EventLine("http")
                               .add_serialized(R"("flow":"0-1","dst":{"ip":"127.0.0.1","port":80})")
                               .add("method", "GET")
                               .add("status", 200)
                               .add("request_bytes", std::uint64_t{18446744073709551615ull})
                               .add("ttfb_ms", 0.125)
                               .take();
  REQUIRE(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  const Json event = Json::parse(line);
  CHECK(event["type"] == "http");
  CHECK(std::regex_match(event["ts"].get<std::string>(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  CHECK(event["flow"] == "0-1");
  CHECK(event["dst"]["port"] == 80);
  CHECK(event["method"] == "GET");
  CHECK(event["status"] == 200);
  CHECK(event["request_bytes"] == std::numeric_limits<std::uint64_t>::max());
  CHECK(event["ttfb_ms"] == 0.125);
}

TEST_CASE("strings from the wire are escaped, invalid UTF-8 replaced, as in a dumped DOM") {
  const std::string nasty = std::string("/a\"b\\c\n\t\x01") + "\xff\xfe" + "caf\xc3\xa9" + "\xe2\x82";
  const std::string line = EventLine("http").add("url", nasty).take();
  const Json event = Json::parse(line);
  const Json expected = Json::parse(Json(nasty).dump(-1, ' ', false, Json::error_handler_t::replace));
  CHECK(event["url"] == expected);
  CHECK(event["url"].get<std::string>().find("caf\xc3\xa9") != std::string::npos);
}

TEST_CASE("doubles round-trip; NaN and infinity are null") {
  for (const double value : {0.0, 1.0, 1e-5, 123456.789, 3.0e300}) {
    const Json event = Json::parse(EventLine("t").add("v", value).take());
    CHECK(event["v"].get<double>() == value);
  }
  CHECK(Json::parse(EventLine("t").add("v", std::numeric_limits<double>::quiet_NaN()).take())["v"].is_null());
  CHECK(Json::parse(EventLine("t").add("v", std::numeric_limits<double>::infinity()).take())["v"].is_null());
}

TEST_CASE("empty serialized fields add nothing") {
  CHECK(Json::parse(EventLine("t").add_serialized("").take()).size() == 2);
}

TEST_CASE("every single byte is written as a dumped DOM would write it") {
  for (int byte = 0; byte < 256; ++byte) {
    const std::string value = "/p?q=" + std::string(1, static_cast<char>(byte)) + "&r=1";
    const Json event = Json::parse(EventLine("t").add("v", value).take());
    const Json expected = Json::parse(Json(value).dump(-1, ' ', false, Json::error_handler_t::replace));
    CHECK_MESSAGE(event["v"] == expected, byte);
  }
}
