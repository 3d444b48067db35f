// Heuristics without a profile: each identifier family by format, checksum and key, and the traps
// (placeholders, Luhn-valid numbers without context, UUIDs under other keys, versions, prices).
#include <doctest/doctest.h>

#include "tests/detectors/test_support.hpp"

using namespace leakguard;

namespace {
const Inspector& plain_inspector() {
  static const Inspector inspector(default_config());
  return inspector;
}
InspectionResult scan(const std::string& target, std::vector<HttpHeader> headers = {}, std::string body = {}) {
  return plain_inspector().inspect_request(
      test::make_request(body.empty() ? "GET" : "POST", target, std::move(headers), std::move(body)), {});
}
InspectionResult scan_json(const std::string& json) { return scan("/", {{"Content-Type", "application/json"}}, json); }
std::set<std::string> kinds(const InspectionResult& result) { return test::kinds(result); }
using Kinds = std::set<std::string>;
}  // namespace

TEST_CASE("IMEI: Luhn and reporting body, or an IMEI key; the dashed form") {
  CHECK(kinds(scan("/?x=353209091234567")) == Kinds{"imei"});          // 35: BABT, Luhn ok
  CHECK(kinds(scan("/?x=353209091234568")).empty());                   // Luhn fails
  CHECK(kinds(scan("/?x=123456789012347")).empty());                   // Luhn ok, prefix implausible, no key
  CHECK(kinds(scan("/?imei=120000000000000")).empty());                // placeholder-shaped
  CHECK(kinds(scan("/?imei=35320909123456")) == Kinds{"imei"});        // 14 digits under an IMEI key
  CHECK(kinds(scan_json(R"({"id": "35-320909-123456-7"})")) == Kinds{"imei"});
  CHECK(kinds(scan("/?imei=000000000000000")).empty());
  CHECK(kinds(scan_json(R"({"v": 1.353209091234567})")).empty());      // digits of a decimal
}

TEST_CASE("IMSI needs a valid MCC and an IMSI key") {
  CHECK(kinds(scan("/?imsi=242016601234567")) == Kinds{"imsi"});
  CHECK(kinds(scan("/?subscriberId=460011234567890")) == Kinds{"imsi"});
  CHECK(kinds(scan("/?imsi=123016601234567")).empty());  // 123 is no MCC
  CHECK(kinds(scan("/?x=242016601234567")).empty());     // no key
}

TEST_CASE("ICCID: 89, Luhn, 18 to 20 digits") {
  CHECK(kinds(scan("/?x=8947016601234567890")) == Kinds{"iccid"});
  CHECK(kinds(scan("/?x=8947016601234567891")).empty());       // Luhn fails, no key
  CHECK(kinds(scan("/?iccid=8947016601234567891")) == Kinds{"iccid"});  // key
  CHECK(kinds(scan("/?iccid=89000000000000000000")).empty());  // placeholder
}

TEST_CASE("MSISDN: E.164 anywhere, national under a phone key") {
  CHECK(kinds(scan("/?to=%2B4791234567")) == Kinds{"msisdn"});
  CHECK(kinds(scan_json(R"({"a": "+8613812345678"})")) == Kinds{"msisdn"});
  CHECK(kinds(scan_json(R"({"phone": "13812345678"})")) == Kinds{"msisdn"});
  CHECK(kinds(scan_json(R"({"count": "13812345678"})")).empty());
  CHECK(kinds(scan("/?tz=+0100")).empty());
}

TEST_CASE("MAC with separators anywhere, bare under a MAC key; placeholders are none") {
  CHECK(kinds(scan("/?w=A4-50-46-12-34-56")) == Kinds{"mac"});
  CHECK(kinds(scan_json(R"({"wifiMac": "a45046123456"})")) == Kinds{"mac"});
  CHECK(kinds(scan_json(R"({"token": "a45046123456"})")).empty());
  CHECK(kinds(scan_json(R"({"mac": "02:00:00:00:00:00"})")).empty());
  CHECK(kinds(scan_json(R"({"mac": "00:00:00:00:00:00", "b": "ff:ff:ff:ff:ff:ff"})")).empty());
  CHECK(kinds(scan("/?t=12:34:56:78:9a:bc:de")).empty());  // seven groups: not a MAC
}

TEST_CASE("GAID: a UUID under an advertising key; Android ID: 16 hex under its key") {
  CHECK(kinds(scan("/?adid=38400000-8cf0-11bd-b23e-10b96e40000d")) == Kinds{"gaid"});
  CHECK(kinds(scan_json(R"({"advertising_id": "38400000-8CF0-11BD-B23E-10B96E40000D"})")) == Kinds{"gaid"});
  CHECK(kinds(scan("/?request_id=38400000-8cf0-11bd-b23e-10b96e40000d")).empty());
  CHECK(kinds(scan("/?adid=00000000-0000-0000-0000-000000000000")).empty());
  CHECK(kinds(scan_json(R"({"android_id": "9774d56d682e549c"})")) == Kinds{"android_id"});
  CHECK(kinds(scan_json(R"({"session": "9774d56d682e549c"})")).empty());
}

TEST_CASE("location: a keyed pair, a written pair, an E7 pair") {
  CHECK(kinds(scan("/?lat=59.913868&lon=10.752245")) == Kinds{"location"});
  CHECK(kinds(scan("/?ll=59.913868,10.752245")) == Kinds{"location"});
  CHECK(kinds(scan_json(R"({"loc": {"latitudeE7": 599138680, "longitudeE7": 107522450}})")) == Kinds{"location"});
  CHECK(kinds(scan("/?lat=59.91&lon=10.75")).empty());           // 2 decimals
  CHECK(kinds(scan_json(R"({"weights": "1.250,2.500"})")).empty());  // 3 decimals without a location key
  CHECK(kinds(scan_json(R"({"v": "10.2.345", "lat": 0.0, "lon": 0.0})")).empty());
}

TEST_CASE("cell: mcc with lac and cid keys; self-registration keys") {
  CHECK(kinds(scan_json(R"({"mcc": 242, "mnc": 1, "lac": 1234, "cid": 56789})")) == Kinds{"cell"});
  CHECK(kinds(scan("/?mcc=460&mnc=01&tac=41234&ci=98765432")) == Kinds{"cell"});
  CHECK(kinds(scan_json(R"({"SIM1CELLID": "98765432", "SIM1LAC": "41234"})")) == Kinds{"cell"});
  CHECK(kinds(scan_json(R"({"mcc": 123, "lac": 1, "cid": 5})")).empty());  // 123 is no MCC
  CHECK(kinds(scan_json(R"({"cid": 56789})")).empty());                     // a client id, maybe
  CHECK(kinds(scan_json(R"({"cellid": "-1"})")).empty());
}

TEST_CASE("email, and what only looks like one") {
  CHECK(kinds(scan_json(R"({"e": "Kari.Nordmann@Example.NO"})")) == Kinds{"email"});
  CHECK(kinds(scan("/?e=kari%40example.no")) == Kinds{"email"});
  CHECK(kinds(scan("/img/icon@2x.png")).empty());
  CHECK(kinds(scan_json(R"({"e": "user@localhost"})")).empty());
}

TEST_CASE("\"unknown\" and empty values are not identifiers") {
  CHECK(scan_json(R"({"serial": "unknown", "imei": "unknown", "imsi": "", "mac": "unknown"})").findings.empty());
}

// Issue 16, part 5: what no profile knows.

TEST_CASE("short device-id names count where the value's format fits") {
  // The Android ID under a short cookie name; an app id under the same name is no Android ID.
  CHECK(kinds(scan("/", {{"Cookie", "sid=q8Zr2; aid=f1e2d3c4b5a69788; lang=en"}})) == Kinds{"android_id"});
  CHECK(kinds(scan("/?andid=F1E2D3C4B5A69788")) == Kinds{"android_id"});
  CHECK(kinds(scan("/", {{"Cookie", "aid=1128; anid=2024112812345678"}})).empty());  // digits only: an app id, a counter
  CHECK(kinds(scan("/", {{"Cookie", "aid=f1e2d3c4b5a6978"}})).empty());             // 15 hex
  CHECK(kinds(scan("/", {{"Cookie", "aid=f1E2d3c4B5a69788"}})).empty());            // mixed case: a token
  CHECK(kinds(scan("/", {{"Cookie", "aid=abcdefabcdefabcd"}})).empty());            // no digit
  // Advertising ids under their vendors' short names: a UUID only.
  for (const std::string key : {"gps_adid", "fire_adid", "afai", "msai", "tifa", "rida", "advId", "google_aid"}) {
    CHECK_MESSAGE(kinds(scan("/?" + key + "=38400000-8cf0-11bd-b23e-10b96e40000d")) == Kinds{"gaid"}, key);
    CHECK_MESSAGE(kinds(scan("/?" + key + "=1")).empty(), key);
  }
}

TEST_CASE("key=value and key: value pairs in free text are read as pairs") {
  const std::vector<HttpHeader> text{{"Content-Type", "text/plain"}};
  const std::string log =
      "2026-12-06 05:13:18.123 I/Boot: starting\n"
      "device: android_id=f1e2d3c4b5a69788 wifi_mac=3c286daabbcc\n"
      "IMSI: 460011234567890\n"
      "\n"
      "mcc: 460\nmnc: 01\nlac: 41234\ncid: 98765432\n";
  CHECK(kinds(scan("/crash", text, log)) == Kinds{"android_id", "mac", "imsi", "cell"});
  // "Android ID: ..." and "phone number = ...": keys of more than one word.
  CHECK(kinds(scan("/t", text, "Build 11, Android ID: f1e2d3c4b5a69788, phone number = 13812345678\n")) ==
        Kinds{"android_id", "msisdn"});
  // A cell's keys on different lines of different records do not pair.
  CHECK(kinds(scan("/t", text, "mcc: 460 mnc: 01\nrebooting now, please wait\nlac: 41234 cid: 98765432\n")).empty());
  // Times and versions are no pairs.
  CHECK(kinds(scan("/t", text, "at 10:00:01 build 12:34:56 took 3c286daabbcc ms, version=35.2.1\n")).empty());

  // A log file uploaded in a multipart crash report: the part's name is "log", the pairs are inside.
  const std::string boundary = "b0undary";
  const std::string body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"log\"; filename=\"crash.txt\"\r\n"
                           "Content-Type: text/plain\r\n\r\n"
                           "E/AndroidRuntime: FATAL EXCEPTION: main\nimsi=242016601234567 aid=f1e2d3c4b5a69788\n"
                           "mcc=242 mnc=01 lac=1234 cid=56789\r\n--" + boundary + "--\r\n";
  const auto multipart = scan("/upload", {{"Content-Type", "multipart/form-data; boundary=" + boundary}}, body);
  CHECK(kinds(multipart) == Kinds{"imsi", "android_id", "cell"});
  for (const auto& finding : multipart.findings) CHECK(finding.where == "body.multipart:log");
}

TEST_CASE("a key that names another kind of number vetoes the identifier") {
  // Luhn-valid, a reporting body's prefix: an IMEI by format alone, but not under these names.
  for (const std::string key : {"order_no", "orderId", "invoice", "invoice_number", "tracking_number", "ticket",
                                "booking_ref", "transaction_id", "txn", "imei_order_no"}) {
    CHECK_MESSAGE(kinds(scan("/?" + key + "=353209091234567")).empty(), key);
    CHECK_MESSAGE(kinds(scan_json("{\"" + key + "\": \"35-320909-123456-7\"}")).empty(), key);
    CHECK_MESSAGE(kinds(scan_json("{\"" + key + "\": \"8947016601234567890\"}")).empty(), key);
    CHECK_MESSAGE(kinds(scan_json("{\"" + key + "\": \"+4791234567\"}")).empty(), key);
  }
  CHECK(kinds(scan("/t", {{"Content-Type", "text/plain"}}, "Order number: 353209091234567\n")).empty());
  // The last word of the name decides: the phone of an order is a phone number.
  CHECK(kinds(scan_json(R"({"order_phone": "13812345678"})")) == Kinds{"msisdn"});
  CHECK(kinds(scan_json(R"({"order_imei": "353209091234567"})")) == Kinds{"imei"});
  // "tracking" in an LTE tracking area code or an ad-tracking id names no other number.
  CHECK(kinds(scan_json(R"({"mcc": 242, "mnc": 1, "trackingAreaCode": 1234, "cid": 56789})")) == Kinds{"cell"});
  CHECK(kinds(scan("/?adTrackingId=38400000-8cf0-11bd-b23e-10b96e40000d")) == Kinds{"gaid"});
  // Without the veto the same value is still an IMEI.
  CHECK(kinds(scan("/?x=353209091234567")) == Kinds{"imei"});
}
