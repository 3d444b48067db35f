// The known-identifier detector through the Inspector: every derived form is found in a request,
// boundaries keep a 14-digit form out of a longer number, locations are matched by distance, cell
// ids need context, another device's values are not reported, and plain findings carry the byte
// location the policy needs to redact in place.
#include <doctest/doctest.h>

#include <openssl/evp.h>

#include <set>

#include "detectors/decoders/base64.hpp"
#include "detectors/decoders/hex.hpp"
#include "detectors/known_identifiers/known_index.hpp"
#include "tests/detectors/test_support.hpp"

using namespace leakguard;

namespace {
struct Profiled {
  Inspector inspector{test::config_from(test::lab_phone_yaml)};
  InspectionContext context() const {
    InspectionContext out;
    out.device = inspector.device("lab-phone-01");
    return out;
  }
  InspectionResult get(const std::string& target, std::vector<HttpHeader> headers = {}, std::string body = {}) const {
    return inspector.inspect_request(test::make_request(body.empty() ? "GET" : "POST", target, std::move(headers), body),
                                     context());
  }
  InspectionResult known_only(const std::string& target, std::vector<HttpHeader> headers = {}, std::string body = {}) const {
    InspectionResult all = get(target, std::move(headers), std::move(body));
    InspectionResult out;
    for (auto& finding : all.findings)
      if (finding.method == DetectionMethod::known) out.findings.push_back(finding);
    return out;
  }
};
std::string sha(const EVP_MD* md, std::string_view text) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), out, &size, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), size);
}
}  // namespace

TEST_CASE("every form of the profile's values is found") {
  Profiled p;
  struct Case {
    std::string target;
    IdentifierKind kind;
    std::string encoding;
    std::string form;
  };
  const std::string imei = "353209091234567";
  const std::vector<Case> cases = {
      {"/q?imei=" + imei, IdentifierKind::imei, "plain", ""},
      {"/q?d=35320909123456&x", IdentifierKind::imei, "plain", "no-check-digit"},
      {"/q?label=35-320909-123456-7", IdentifierKind::imei, "plain", "dashed"},
      {"/q?u=" + decoders::hex_encode(sha(EVP_md5(), imei), true), IdentifierKind::imei, "md5", ""},
      {"/q?u=" + decoders::hex_encode(sha(EVP_sha256(), imei)), IdentifierKind::imei, "sha256", ""},
      {"/q?u=" + decoders::base64_encode(sha(EVP_sha1(), imei), true, false), IdentifierKind::imei, "sha1-base64", ""},
      {"/q?h=" + decoders::hex_encode(imei), IdentifierKind::imei, "hex", ""},
      {"/q?mac=A4-50-46-12-34-56", IdentifierKind::mac, "plain", "dashes"},
      {"/q?m=a45046123456", IdentifierKind::mac, "plain", "bare"},
      {"/q?m=" + decoders::hex_encode(sha(EVP_md5(), "A4:50:46:12:34:56")), IdentifierKind::mac, "md5", ""},
      {"/q?p=004791234567", IdentifierKind::msisdn, "plain", "00"},
      {"/q?p=91234567", IdentifierKind::msisdn, "plain", "national"},
      {"/q?p=%2B4791234567", IdentifierKind::msisdn, "url", ""},
      {"/q?s=b2ngaa8831702345", IdentifierKind::serial, "plain", ""},
      {"/q?g=384000008CF011BDB23E10B96E40000D", IdentifierKind::gaid, "plain", "bare"},
      {"/q?e=KARI.NORDMANN%40EXAMPLE.NO", IdentifierKind::email, "url", ""},
      {"/q?e=" + decoders::hex_encode(sha(EVP_sha256(), "kari.nordmann@example.no")), IdentifierKind::email, "sha256", ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.target);
    const auto result = p.known_only(c.target);
    const Finding* finding = test::find(result, c.kind, c.encoding);
    REQUIRE_MESSAGE(finding, test::describe(result));
    CHECK(finding->form == c.form);
    CHECK(finding->device == "lab-phone-01");
    CHECK(finding->masked_value.find(finding->value) == std::string::npos);
  }
}

TEST_CASE("base64 of the value inside a larger binary blob, at each alignment") {
  Profiled p;
  for (std::size_t offset = 0; offset < 3; ++offset) {
    std::string blob(10 + offset, '\xf0');
    blob += "353209091234567";
    blob += std::string(11, '\xf1');
    const auto result = p.known_only("/up", {{"Content-Type", "application/octet-stream"}}, decoders::base64_encode(blob));
    CHECK_MESSAGE(test::find(result, IdentifierKind::imei, "base64", "body"), "offset " << offset);
  }
}

TEST_CASE("a 14-digit form does not match inside another number") {
  Profiled p;
  CHECK(p.known_only("/order?id=353209091234568").findings.empty());   // IMEI + 1: the corpus trap
  CHECK(p.known_only("/order?id=1353209091234567").findings.empty());  // one digit more in front
  CHECK(p.known_only("/n?x=9912345678").findings.empty());             // national number inside digits
}

TEST_CASE("location by distance, with at least 3 decimals, E7 too") {
  Profiled p;
  CHECK(test::find(p.known_only("/w?lat=59.9145&lon=10.7530"), IdentifierKind::location));  // ~100 m away
  CHECK_FALSE(test::find(p.known_only("/w?lat=59.9180&lon=10.7600"), IdentifierKind::location));  // ~700 m
  CHECK_FALSE(test::find(p.known_only("/w?lat=59.91&lon=10.75"), IdentifierKind::location));  // 2 decimals
  CHECK_FALSE(test::find(p.known_only("/w?lat=59.913868"), IdentifierKind::location));  // one coordinate
  CHECK_FALSE(test::find(p.known_only("/w?lat=-59.913868&lon=10.752245"), IdentifierKind::location));  // sign
  CHECK(test::find(p.known_only("/g", {{"Content-Type", "application/json"}},
                                R"({"latE7": 599138000, "lngE7": 107521000})"),
                   IdentifierKind::location, "json>e7"));
}

TEST_CASE("cell id needs its network or a cell key") {
  Profiled p;
  CHECK(test::find(p.known_only("/c?cellid=56789"), IdentifierKind::cell));
  CHECK(test::find(p.known_only("/c?mcc=242&mnc=01&x=56789"), IdentifierKind::cell));
  CHECK_FALSE(test::find(p.known_only("/c?page=56789"), IdentifierKind::cell));
}

TEST_CASE("another device's values are not this device's findings; no profile, no known findings") {
  Profiled p;
  InspectionContext none;
  CHECK(p.inspector.inspect_request(test::make_request("GET", "/?s=B2NGAA8831702345"), none).findings.empty());
  auto config = test::config_from(std::string(test::lab_phone_yaml) + R"(  - name: other
    match: { ip: 10.42.0.12 }
    identifiers: { serial: "ZZ99XX88YY77" }
)");
  Inspector two(config);
  InspectionContext first;
  first.device = two.device("lab-phone-01");
  CHECK(two.inspect_request(test::make_request("GET", "/?s=ZZ99XX88YY77"), first).findings.empty());
  InspectionContext second;
  second.device = two.device("other");
  CHECK(test::find(two.inspect_request(test::make_request("GET", "/?s=ZZ99XX88YY77"), second), IdentifierKind::serial));
}

TEST_CASE("every copy of an identifier in one place is located: redaction must mask them all") {
  Profiled p;
  // The IMEI three times in one field (one finding for the place), then in a field where the
  // heuristics also see a second IMEI the profile does not know (reported as the known one's place).
  const std::string target = "/r?log=imei%3D353209091234567%0Aimei%3D353209091234567%0A353209091234567"
                             "&ids=353209091234567,490154203237518";
  const auto result = p.get(target);
  std::vector<std::string> located;
  for (const Finding& finding : result.findings)
    for (const ByteLocation& location : finding.locations) {
      CHECK(location.part == RequestPart::target);
      located.push_back(target.substr(location.offset, location.length));
    }
  std::sort(located.begin(), located.end());
  CHECK(located == std::vector<std::string>{"353209091234567", "353209091234567", "353209091234567", "353209091234567",
                                            "490154203237518"});
  const Finding* log = test::find(result, IdentifierKind::imei, "url");
  REQUIRE(log);
  CHECK(log->locations.size() == 3);
  const Finding* ids = test::find(result, IdentifierKind::imei, "plain");
  REQUIRE(ids);
  CHECK(ids->where == "query:ids");
  CHECK(ids->locations.size() == 2);
}

TEST_CASE("byte locations point at the identifier as sent, for in-place redaction") {
  Profiled p;
  const HttpRequest request = test::make_request(
      "POST", "/r?a=1&m=%2B4791234567", {{"X-Serial", "sn B2NGAA8831702345"}, {"Content-Type", "application/json"}},
      R"({"imei": "353209091234567", "z": ")" + decoders::base64_encode(R"({"imsi":"242016601234567"})") + "\"}");
  const auto result = p.inspector.inspect_request(request, p.context());
  const Finding* msisdn = test::find(result, IdentifierKind::msisdn, "url");
  REQUIRE(msisdn);
  REQUIRE(msisdn->locations.size() == 1);
  CHECK(msisdn->locations[0].part == RequestPart::target);
  CHECK(request.head.target.substr(msisdn->locations[0].offset, msisdn->locations[0].length) == "%2B4791234567");

  const Finding* serial = test::find(result, IdentifierKind::serial);
  REQUIRE(serial);
  REQUIRE(serial->locations.size() == 1);
  CHECK(serial->locations[0].part == RequestPart::header);
  const auto& header = request.head.headers[serial->locations[0].header_index];
  CHECK(header.value.substr(serial->locations[0].offset, serial->locations[0].length) == "B2NGAA8831702345");

  const Finding* imei = test::find(result, IdentifierKind::imei, "json");
  REQUIRE(imei);
  REQUIRE(imei->locations.size() == 1);
  CHECK(request.body.substr(imei->locations[0].offset, imei->locations[0].length) == "353209091234567");

  const Finding* imsi = test::find(result, IdentifierKind::imsi, "json>base64>json");
  REQUIRE(imsi);
  CHECK(imsi->locations.empty());  // only exists after decoding: not redactable in place
}

TEST_CASE("small buffers share one scan, and no match runs from one into the next") {
  // Escaped JSON strings are unescaped into buffers of their own, next to each other. The known
  // detector scans small buffers in one Hyperscan call; the IMEI split across two of them
  // ("35320909" + "1234567") must not be found, and a whole one in the second must.
  Profiled p;
  const std::vector<HttpHeader> json = {{"Content-Type", "application/json"}};
  const auto split = p.known_only("/", json, R"({"a":"\u00335320909","b":"\u0031234567"})");
  CHECK(split.findings.empty());
  const auto whole = p.known_only("/", json, R"({"a":"\u00335320909","b":"\u003353209091234567"})");
  REQUIRE(whole.findings.size() == 1);
  CHECK(whole.findings[0].kind == IdentifierKind::imei);
  CHECK(whole.findings[0].where == "body.json:b");
}

TEST_CASE("a device's database is compiled by its first scan and shared with the next configuration while unchanged") {
  const auto yaml = [](const std::string& second_imei) {
    return "devices:\n"
           "  - {name: a, match: {ip: 10.0.0.1}, identifiers: {imei: '353209091234567'}}\n"
           "  - {name: b, match: {ip: 10.0.0.2}, identifiers: {imei: '" + second_imei + "'}}\n"
           "  - {name: c, match: {ip: 10.0.0.3}, identifiers: {imei: '356938035643809'}}\n";
  };
  // The values (device index and canonical value) that a scan of `text` for `device` matched.
  const auto matched = [](const known::KnownIndex& index, std::size_t device, std::string_view text) {
    std::vector<matchers::Match> matches;
    index.scan(device, text, matches);
    std::set<std::pair<std::size_t, std::string>> values;
    for (const auto& match : matches) {
      const auto& value = index.value(index.pattern(match.id).value);
      values.insert({value.device, value.value});
    }
    return values;
  };
  using Values = std::set<std::pair<std::size_t, std::string>>;
  const auto first = known::KnownIndex::from_devices(*test::config_from(yaml("490154203237518")), {});
  for (std::size_t d = 0; d < 3; ++d) CHECK(first->compiled(d) == nullptr);
  CHECK(matched(*first, 0, "imei=353209091234567") == Values{{0, "353209091234567"}});
  CHECK(matched(*first, 1, "imei=353209091234567").empty());  // another device's value
  CHECK(matched(*first, 1, "x=490154203237518") == Values{{1, "490154203237518"}});
  REQUIRE(first->compiled(0) != nullptr);
  REQUIRE(first->compiled(1) != nullptr);
  CHECK(first->compiled(2) == nullptr);

  // A reload that changes device b only: a keeps its database, b's old one is not reused.
  const auto second = known::KnownIndex::from_devices(*test::config_from(yaml("359881234567899")), {});
  CHECK(second->compiled(0) == first->compiled(0));
  CHECK(second->compiled(1) == nullptr);
  CHECK(second->compiled(2) == nullptr);
  CHECK(matched(*second, 1, "x=490154203237518 y=359881234567899") == Values{{1, "359881234567899"}});
  CHECK(second->compiled(1) != first->compiled(1));
  CHECK(matched(*second, 0, "imei=353209091234567") == Values{{0, "353209091234567"}});
}
