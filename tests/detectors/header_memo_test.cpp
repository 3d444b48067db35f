// The HeaderMemo (detectors/header_memo.hpp) must never change what an inspection reports: every
// test here inspects the same requests with a memo and without one and wants the same findings,
// and checks that the memo did leave lines out where it claims to.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/detectors/test_support.hpp"
#include "tests/support/findings_text.hpp"

using namespace leakguard;

namespace {

// One connection with a memo and one without, fed the same requests; each has its own learned
// values, as two runs of the proxy would.
struct TwoConnections {
  const Inspector& inspector;
  LearnedValues learned_with, learned_without;
  HeaderMemo memo;
  InspectionContext with, without;
  TwoConnections(const Inspector& inspector, const DeviceProfile* device) : inspector(inspector) {
    with.device = without.device = device;
    with.learned = &learned_with;
    without.learned = &learned_without;
    with.header_memo = &memo;
  }
  // Inspects `request` on both; returns the findings (the same on both, or the test fails).
  InspectionResult send(const HttpRequest& request) {
    const InspectionResult a = inspector.inspect_request(request, with);
    const InspectionResult b = inspector.inspect_request(request, without);
    CHECK_MESSAGE(test::findings_text(a) == test::findings_text(b), "target " << request.head.target);
    return a;
  }
  // How many of `request`'s header lines the memo would leave out now.
  std::size_t would_skip(const HttpRequest& request) {
    std::vector<std::uint8_t> skip;
    return memo.match(request.head.headers, skip);
  }
};

// The request with only header i and an empty target: clean alone, the line is remembered.
HttpRequest header_alone(const HttpRequest& request, std::size_t i) {
  HttpRequest alone;
  alone.head.method = "GET";
  alone.head.target = "/";
  alone.head.headers = {request.head.headers[i]};
  return alone;
}

const std::string lab_lat = "59.913868";
const std::string lab_lon = "10.752245";

HttpRequest app_request(std::vector<HttpHeader> extra = {}) {
  HttpRequest request = test::make_request(
      "GET", "/api/v2/feed?page=1",
      {{"User-Agent", "Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230901.001) okhttp/4.12.0"},
       {"Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"},
       {"Cookie", "sid=s%3A7d9f8a6b5c4e3d2f; theme=dark"},
       {"Accept-Language", "nb-NO,nb;q=0.9"}});
  for (auto& header : extra) request.head.headers.push_back(std::move(header));
  return request;
}

}  // namespace

TEST_CASE("header memo: repeated clean lines are left out, and the findings stay the same") {
  Inspector inspector(test::config_from(test::lab_phone_yaml));
  TwoConnections connection(inspector, &inspector.config().devices.front());
  const HttpRequest first = app_request();
  CHECK(connection.send(first).findings.empty());
  CHECK(connection.would_skip(first) == 0);  // a line is remembered the second time it comes clean
  CHECK(connection.send(first).findings.empty());
  CHECK(connection.would_skip(first) == first.head.headers.size());  // Host, User-Agent, ... all clean

  // The same lines, and a leak in the query: found, in its place.
  HttpRequest second = first;
  second.head.target = "/api/v2/feed?page=2&imei=353209091234567";
  const auto result = connection.send(second);
  REQUIRE(result.findings.size() == 1);
  CHECK(result.findings.front().where == "query:imei");

  // A new line with a leak among remembered ones: found, with its header index.
  HttpRequest third = first;
  third.head.headers.push_back({"X-Device", "imsi 242016601234567"});
  const auto leak = connection.send(third);
  REQUIRE(leak.findings.size() == 1);
  CHECK(leak.findings.front().where == "header:x-device");
  REQUIRE(leak.findings.front().locations.size() == 1);
  CHECK(leak.findings.front().locations.front().header_index == third.head.headers.size() - 1);
}

TEST_CASE("header memo: a line holding a coordinate is never remembered, and still pairs with one in a new line") {
  Inspector inspector(test::config_from(test::lab_phone_yaml));
  TwoConnections connection(inspector, &inspector.config().devices.front());
  CHECK(connection.send(app_request()).findings.empty());
  CHECK(connection.send(app_request()).findings.empty());
  // A latitude alone is no finding, but it is a candidate that pairs across headers: nothing of
  // that request is remembered.
  const HttpRequest lat_only = app_request({{"X-Trace", "v=" + lab_lat}});
  CHECK(connection.send(lat_only).findings.empty());
  CHECK(connection.send(lat_only).findings.empty());
  CHECK(connection.would_skip(lat_only) == lat_only.head.headers.size() - 1);
  const auto both = connection.send(app_request({{"X-Trace", "v=" + lab_lat}, {"X-Span", "w=" + lab_lon}}));
  CHECK(test::find(both, IdentifierKind::location) != nullptr);
}

TEST_CASE("header memo: coordinates under lat= and lon= in two lines pair, however often each came alone") {
  // Found by fuzz_header_memo (fuzz/regressions/fuzz_header_memo/): the heuristics pair a "lat="
  // in one header line with a "lon=" in another. Neither is a finding alone, and each line once
  // came clean twice, was remembered and was then left out of the request holding both.
  Inspector inspector(test::config_from(test::lab_phone_yaml));
  TwoConnections connection(inspector, &inspector.config().devices.front());
  const HttpRequest both = app_request({{"X-Geo-A", "r?lat=48.858370&v=2"}, {"X-Geo-B", "q?lon=2.294481&v=2"}});
  for (const std::size_t line : {both.head.headers.size() - 2, both.head.headers.size() - 1}) {
    const HttpRequest alone = header_alone(both, line);
    CHECK(connection.send(alone).findings.empty());
    CHECK(connection.send(alone).findings.empty());
    CHECK(connection.would_skip(alone) == 0);  // a candidate that pairs across lines: not remembered
  }
  const InspectionResult result = connection.send(both);
  const Finding* location = test::find(result, IdentifierKind::location);
  REQUIRE(location != nullptr);
  CHECK(location->value == "48.858370,2.294481");
}

TEST_CASE("header memo: a cell id in a new line finds its network in a remembered line") {
  Inspector inspector(test::config_from(test::lab_phone_yaml));
  TwoConnections connection(inspector, &inspector.config().devices.front());
  // "242 01" is no candidate on its own: the line is remembered, then left out of the next
  // request, where the cell id needs it; the inspector inspects that request whole.
  const HttpRequest carrier = app_request({{"X-Carrier", "plmn 242 01"}});
  CHECK(connection.send(carrier).findings.empty());
  CHECK(connection.send(carrier).findings.empty());
  CHECK(connection.would_skip(carrier) == carrier.head.headers.size());
  const auto cell = connection.send(app_request({{"X-Carrier", "plmn 242 01"}, {"X-Radio", "serving 56789"}}));
  CHECK(test::find(cell, IdentifierKind::cell) != nullptr);
}

TEST_CASE("header memo: learning a value empties it, so hashed forms in remembered lines are found") {
  Inspector inspector(test::config_from(test::lab_phone_yaml));
  TwoConnections connection(inspector, &inspector.config().devices.front());
  const std::string other_imei = "490154203237518";  // not in the profile: the heuristics find it
  const HttpRequest hashed = app_request({{"X-Fp", test::md5_hex(other_imei)}});
  CHECK(connection.send(hashed).findings.empty());  // a hash of nothing known yet
  CHECK(connection.send(hashed).findings.empty());
  CHECK(connection.would_skip(hashed) == hashed.head.headers.size());
  HttpRequest teaches = app_request();
  teaches.head.target = "/register?imei=" + other_imei;
  CHECK(test::find(connection.send(teaches), IdentifierKind::imei) != nullptr);
  const auto again = connection.send(hashed);
  const Finding* learned_hash = test::find(again, IdentifierKind::imei, "md5");
  REQUIRE(learned_hash != nullptr);
  CHECK(learned_hash->learned);
}

TEST_CASE("header memo: header names that are context keys are never remembered") {
  Inspector inspector(test::config_from(test::lab_phone_yaml));
  TwoConnections connection(inspector, &inspector.config().devices.front());
  // No candidate in them: the name alone keeps them out.
  const HttpRequest keyed = app_request({{"X-Lat", "unknown"}, {"X-MCC", "none"}});
  CHECK(connection.send(keyed).findings.empty());
  CHECK(connection.send(keyed).findings.empty());
  CHECK(connection.would_skip(keyed) == keyed.head.headers.size() - 2);
  // A number under such a name is a candidate that pairs across lines: nothing of a request
  // holding one is remembered.
  TwoConnections fresh(inspector, &inspector.config().devices.front());
  const HttpRequest candidates = app_request({{"X-Lat", "1.5"}, {"X-MCC", "242"}});
  CHECK(fresh.send(candidates).findings.empty());
  CHECK(fresh.send(candidates).findings.empty());
  CHECK(fresh.would_skip(candidates) == 0);
}

TEST_CASE("header memo: another configuration or device starts it empty") {
  Inspector inspector(test::config_from(test::lab_phone_yaml));
  HeaderMemo memo;
  InspectionContext context;
  context.device = &inspector.config().devices.front();
  context.header_memo = &memo;
  const HttpRequest request = app_request();
  const auto send_twice = [&](const Inspector& to, const HttpRequest& r) {
    CHECK(to.inspect_request(r, context).findings.empty());
    CHECK(to.inspect_request(r, context).findings.empty());
  };
  send_twice(inspector, request);
  CHECK(memo.size() == request.head.headers.size());
  const HttpRequest host_only = test::make_request("GET", "/");
  Inspector reloaded(test::config_from(test::lab_phone_yaml));
  context.device = &reloaded.config().devices.front();
  send_twice(reloaded, host_only);
  CHECK(memo.size() == 1);  // emptied, then filled with Host only
  send_twice(reloaded, request);
  CHECK(memo.size() == request.head.headers.size());
  context.device = nullptr;
  send_twice(reloaded, host_only);
  CHECK(memo.size() == 1);
}

// Every line of every corpus request that is clean on its own is remembered first; then the
// request itself, with those lines left out, must report what it reports without a memo.
TEST_CASE("header memo: corpus requests after their own clean lines") {
  for (const std::string& dir : {std::string(LEAKGUARD_SHARED_DIR "/corpus"), std::string(LEAKGUARD_SOURCE_DIR "/tests/data/detectors")}) {
    const auto cases = nlohmann::json::parse(test::read_file(dir + "/cases.json"));
    Inspector profiled(load_config_file(dir + "/profile.yaml"));
    Inspector plain(default_config());
    std::size_t requests = 0, skipped = 0;
    for (const auto& entry : cases) {
      const std::string file = entry["file"];
      const std::string bytes = test::read_file(dir + "/" + file);
      if (!looks_like_http_request(bytes)) continue;
      const auto captured = parse_captured_requests(bytes, profiled.config().limits.max_inspect_bytes);
      for (const Inspector* inspector : {&profiled, &plain}) {
        CAPTURE(file);
        const DeviceProfile* device = inspector == &profiled ? &profiled.config().devices.front() : nullptr;
        TwoConnections connection(*inspector, device);
        for (const auto& request : captured.requests) {
          for (std::size_t i = 0; i < request.head.headers.size(); ++i)
            for (int twice = 0; twice < 2; ++twice) connection.send(header_alone(request, i));
          skipped += connection.would_skip(request);
          ++requests;
          connection.send(request);
          connection.send(request);
        }
      }
    }
    CAPTURE(dir);
    CHECK(requests >= 20);
    CHECK(skipped >= requests);  // Host at least, in nearly every request
  }
}
