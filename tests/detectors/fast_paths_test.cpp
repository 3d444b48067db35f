// The shortcuts of the request path must not cost a finding: fields judged plain text are not
// sniffed or decoded (request_decoder.cpp, plain_value), heuristic shapes are found by their
// separators (matchers/separated_shapes.cpp), each device is matched against its own databases.
// Each case puts an identifier where one of them could skip it, next to the ordinary headers of
// an app request, and checks it is still found in its place with its encoding.
#include <doctest/doctest.h>

#include "detectors/decoders/base64.hpp"
#include "detectors/decoders/hex.hpp"
#include "tests/detectors/test_support.hpp"

using namespace leakguard;

namespace {

const std::string imei = "353209091234567";

// Ordinary headers around the one under test, as an app sends them.
HttpRequest app_request(std::string target, std::vector<HttpHeader> extra) {
  std::vector<HttpHeader> headers = {
      {"User-Agent", "Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230901.001) okhttp/4.12.0"},
      {"Accept-Language", "nb-NO,nb;q=0.9,en-US;q=0.8"},
      {"Connection", "keep-alive"},
  };
  for (auto& header : extra) headers.push_back(std::move(header));
  return test::make_request("GET", std::move(target), std::move(headers));
}

InspectionResult heuristics_only(const HttpRequest& request) {
  static const Inspector inspector(test::config_from("devices: []\n"));
  return inspector.inspect_request(request, InspectionContext{});
}

}  // namespace

TEST_CASE("fast paths: an ordinary app request has no findings") {
  CHECK(heuristics_only(app_request("/api/v2/feed?page=3&lang=nb-NO", {{"Cookie", "theme=dark; _ga=GA1.2.1234567890.1732780800"}}))
            .findings.empty());
}

TEST_CASE("fast paths: encoded identifiers are decoded wherever they sit (no profile: only decoding finds them)") {
  struct Case {
    std::string name;
    std::string target;
    std::vector<HttpHeader> headers;
    IdentifierKind kind;
    std::string encoding;
    std::string where;
  };
  std::string percent;
  for (const char c : imei) percent += "%3" + std::string(1, c);
  const std::vector<Case> cases = {
      {"percent-encoded in a query", "/q?d=" + percent, {}, IdentifierKind::imei, "url", "query:d"},
      {"base64 in a cookie", "/q", {{"Cookie", "theme=dark; t=" + decoders::base64_encode("imei=" + imei)}},
       IdentifierKind::imei, "base64>form", "cookie:t.form:imei"},
      {"hex in an arbitrary header", "/q", {{"X-Blob", decoders::hex_encode("imei=" + imei)}}, IdentifierKind::imei,
       "hex>form", "header:x-blob.form:imei"},
      {"hex of text among hex ids in cookies", "/q",
       {{"Cookie", "sid=8f14e45fceea167a5a36dedd4bea2543; h=" + decoders::hex_encode("imei=" + imei, true)}},
       IdentifierKind::imei, "hex>form", "cookie:h.form:imei"},
      {"base64 in an arbitrary header", "/q", {{"X-Token", decoders::base64_encode("device " + imei, true, false)}},
       IdentifierKind::imei, "base64", "header:x-token"},
      {"JSON in an arbitrary header", "/q", {{"X-Meta", R"({"imsi":"242016601234567"})"}}, IdentifierKind::imsi, "json",
       "header:x-meta.json:imsi"},
      {"a form in an arbitrary header", "/q", {{"X-Form", "a=1&imsi=242016601234567"}}, IdentifierKind::imsi, "form",
       "header:x-form.form:imsi"},
      {"base64 in a query value", "/q?v=" + decoders::base64_encode("imei=" + imei, true, false), {}, IdentifierKind::imei,
       "base64>form", "query:v.form:imei"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const InspectionResult result = heuristics_only(app_request(c.target, c.headers));
    CAPTURE(test::describe(result));
    CHECK(test::find(result, c.kind, c.encoding, c.where));
  }
}

TEST_CASE("fast paths: plain identifiers in any header, found by shape") {
  struct Case {
    std::string name;
    std::string target;
    std::vector<HttpHeader> headers;
    IdentifierKind kind;
    std::string where;
  };
  const std::vector<Case> cases = {
      {"IMEI in an arbitrary header", "/q", {{"X-Device", imei}}, IdentifierKind::imei, "header:x-device"},
      {"dashed IMEI in a user agent", "/q", {{"User-Agent", "App/5.1 (35-320909-123456-7; Android 13)"}},
       IdentifierKind::imei, "header:user-agent"},
      {"MAC in an arbitrary header", "/q", {{"X-Wifi", "bssid a4:50:46:12:34:56"}}, IdentifierKind::mac, "header:x-wifi"},
      {"MAC with dashes in a cookie", "/q", {{"Cookie", "theme=dark; m=A4-50-46-12-34-56"}}, IdentifierKind::mac,
       "cookie:m"},
      {"GAID under its key", "/q?gaid=38400000-8cf0-11bd-b23e-10b96e40000d", {}, IdentifierKind::gaid, "query:gaid"},
      {"a location pair", "/q?lat=59.913868&lon=10.752245", {}, IdentifierKind::location, "query:lat"},
      {"an email in a header", "/q", {{"X-User", "kari.nordmann@example.no"}}, IdentifierKind::email, "header:x-user"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const InspectionResult result = heuristics_only(app_request(c.target, c.headers));
    CAPTURE(test::describe(result));
    CHECK(test::find(result, c.kind, "plain", c.where));
  }
}

TEST_CASE("fast paths: a profiled device's hashed value in an arbitrary header; another device's is not its finding") {
  const std::string yaml = std::string(test::lab_phone_yaml) +
                           "  - name: lab-phone-02\n    match: { ip: 10.42.0.12 }\n    identifiers:\n"
                           "      imei: \"490154203237518\"\n";
  const Inspector inspector(test::config_from(yaml));
  for (const char* name : {"lab-phone-01", "lab-phone-02"}) {
    CAPTURE(name);
    InspectionContext context;
    context.device = inspector.device(name);
    REQUIRE(context.device);
    const std::string own = context.device->values.at(IdentifierKind::imei).front();
    const HttpRequest request =
        app_request("/q", {{"X-Sig", test::md5_hex(own)}, {"X-Other", test::md5_hex("353209091234560")}});
    const InspectionResult result = inspector.inspect_request(request, context);
    CAPTURE(test::describe(result));
    const Finding* finding = test::find(result, IdentifierKind::imei, "md5", "header:x-sig");
    REQUIRE(finding);
    CHECK(finding->method == DetectionMethod::known);
    CHECK(finding->value == own);
    CHECK(result.findings.size() == 1);
  }
}

TEST_CASE("fast paths: a hashed value glued to other token characters by '-' or '_' is still a token") {
  // An ETag "<md5>-gzip" or a key "<sha1>_v2": the hash is a whole run of the standard base64
  // alphabet, which '-' and '_' are not part of. (The digest finder once saw only the URL-safe
  // run around it.)
  const Inspector inspector(test::config_from(test::lab_phone_yaml));
  InspectionContext context;
  context.device = inspector.device("lab-phone-01");
  REQUIRE(context.device);
  const std::string imei = context.device->values.at(IdentifierKind::imei).front();
  for (const std::string& value : {"W/\"" + test::md5_hex(imei) + "-gzip\"", "k_" + test::md5_hex(imei) + "_v2"}) {
    CAPTURE(value);
    const InspectionResult result = inspector.inspect_request(app_request("/q", {{"If-None-Match", value}}), context);
    CAPTURE(test::describe(result));
    CHECK(test::find(result, IdentifierKind::imei, "md5", "header:if-none-match"));
  }
}
