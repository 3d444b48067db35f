// The HAR reader: entries as Chrome (HTTP/2 pseudo-headers, cookie crumbs), Firefox (cookies array
// only, params without text) and other tools write them, bodies in text, base64 and params, bad
// entries skipped by index, files that are no HAR, every cut of a file, and the timestamps.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "capture/har_reader.hpp"

using namespace leakguard;

namespace {

struct Read {
  HarReadResult result;
  std::vector<HarRequest> requests;
  std::vector<std::pair<std::size_t, std::string>> bad;
};

Read read(std::string text, std::size_t max_body = 1 << 20) {
  Read out;
  const std::string before = text;
  out.result = read_har(
      text, max_body, [&](HarRequest&& request) { out.requests.push_back(std::move(request)); },
      [&](std::size_t index, std::string_view reason) { out.bad.emplace_back(index, std::string(reason)); });
  CHECK(text == before);  // the padding and the patch for a cut are taken back
  return out;
}

std::string har(const std::string& entries) {
  return R"({"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[)" + entries + "]}}";
}

std::string header(const HttpRequest& request, std::string_view name) {
  return std::string(request.head.header(name).value_or("<none>"));
}

constexpr const char* chrome_h2 = R"({
  "_initiator": {"type": "script", "stack": {"callFrames": [{"url": "x"}]}},
  "_priority": "High", "_resourceType": "fetch", "cache": {}, "connection": "443",
  "request": {
    "method": "POST", "url": "https://api.example.cn/v1/reg?imei=353209091234567#frag", "httpVersion": "http/2.0",
    "headers": [{"name": ":authority", "value": "api.example.cn"}, {"name": ":method", "value": "POST"},
                {"name": ":path", "value": "/v1/reg?imei=353209091234567"}, {"name": ":scheme", "value": "https"},
                {"name": "cookie", "value": "a=1"}, {"name": "content-type", "value": "application/json"},
                {"name": "cookie", "value": "imsi=242016601234567"}],
    "queryString": [{"name": "imei", "value": "353209091234567"}],
    "cookies": [{"name": "a", "value": "1"}, {"name": "imsi", "value": "242016601234567"}],
    "headersSize": -1, "bodySize": 13,
    "postData": {"mimeType": "application/json", "text": "{\"serial\":1}"}
  },
  "response": {"status": 200, "content": {"size": 2, "mimeType": "application/json", "text": "{}"}},
  "serverIPAddress": "[2001:db8::7]", "startedDateTime": "2026-12-06T10:00:00.123456+01:00", "time": 12.5,
  "timings": {"send": 0.1}
})";

}  // namespace

TEST_CASE("a Chrome HTTP/2 entry becomes the request the HTTP/2 bridge builds") {
  const auto got = read(har(chrome_h2));
  CHECK(got.result.is_har);
  CHECK_FALSE(got.result.error);
  CHECK(got.bad.empty());
  REQUIRE(got.requests.size() == 1);
  const auto& entry = got.requests[0];
  const auto& request = entry.request;
  CHECK(request.head.method == "POST");
  CHECK(request.head.target == "/v1/reg?imei=353209091234567");
  CHECK(request.head.version_major == 2);
  REQUIRE(!request.head.headers.empty());
  CHECK(request.head.headers.front().name == "Host");
  CHECK(request.head.headers.front().value == "api.example.cn");
  for (const auto& field : request.head.headers) CHECK_FALSE(field.name.starts_with(':'));
  CHECK(header(request, "cookie") == "a=1; imsi=242016601234567");  // crumbs joined, array not added twice
  CHECK(request.body == R"({"serial":1})");
  CHECK(entry.https);
  CHECK(entry.host == "api.example.cn");
  CHECK(entry.port == 443);
  CHECK(entry.server_ip == "2001:db8::7");
  CHECK(entry.started == "2026-12-06T09:00:00.123Z");
}

TEST_CASE("Host, cookies array, mimeType, port and key order as other tools write them") {
  // "entries" before the rest of log, and log after another top-level member (Charles, HTTP Toolkit).
  const auto got = read(R"({"comment":"x","log":{"entries":[{"request":{"url":"http://user:pw@h.example:8080/p",
      "method":"PUT","httpVersion":"HTTP/1.0","headers":[{"name":"Host","value":"h.example:8080"}],
      "cookies":[{"name":"sid","value":"s1"},{"name":"imsi","value":"242016601234567"}],
      "postData":{"mimeType":"text/plain","text":"hello"}},"startedDateTime":"2026-12-06T09:00:00Z"}],
      "version":"1.2"}})");
  REQUIRE(got.requests.size() == 1);
  const auto& entry = got.requests[0];
  CHECK_FALSE(entry.https);
  CHECK(entry.host == "h.example");
  CHECK(entry.port == 8080);
  CHECK(entry.server_ip.empty());
  CHECK(entry.started == "2026-12-06T09:00:00.000Z");
  CHECK(entry.request.head.target == "/p");
  CHECK(entry.request.head.version_major == 1);
  CHECK(entry.request.head.version_minor == 0);
  CHECK(entry.request.head.headers.size() == 3);  // Host once, Cookie from the array, Content-Type from mimeType
  CHECK(header(entry.request, "host") == "h.example:8080");
  CHECK(header(entry.request, "cookie") == "sid=s1; imsi=242016601234567");
  CHECK(header(entry.request, "content-type") == "text/plain");
}

TEST_CASE("bodies: base64, params re-encoded as a form, the inspection bound") {
  const auto got = read(har(R"(
    {"request":{"method":"POST","url":"http://a/b","postData":{"mimeType":"application/octet-stream",
      "encoding":"base64","text":"AAEC/w=="}}},
    {"request":{"method":"POST","url":"http://a/f","headers":[{"name":"Content-Type","value":"multipart/form-data; boundary=x"}],
      "postData":{"mimeType":"multipart/form-data","params":[{"name":"e mail","value":"kari@example.no"},
      {"name":"n","value":"a&b=c+d"},{"name":"file","fileName":"x.bin","contentType":"x/y"}]}}},
  )"));
  REQUIRE(got.requests.size() == 2);
  CHECK(got.requests[0].request.body == std::string("\x00\x01\x02\xff", 4));
  CHECK(got.requests[1].request.body == "e+mail=kari%40example.no&n=a%26b%3Dc%2Bd&file=");
  CHECK(header(got.requests[1].request, "content-type") == "application/x-www-form-urlencoded");
  CHECK_FALSE(got.requests[1].request.body_truncated);
  const auto big = read(har(R"({"request":{"method":"POST","url":"http://a/big","postData":{"text":"0123456789"}}})"), 8);
  REQUIRE(big.requests.size() == 1);
  CHECK(big.requests[0].request.body == "01234567");
  CHECK(big.requests[0].request.body_truncated);
}

TEST_CASE("bad entries are skipped by index, the others read") {
  const auto got = read(har(R"(
    "not an entry",
    {"request":{"method":"GET"}},
    {"request":{"url":"http://a/"}},
    {"request":{"method":"GET","url":"data:text/plain,hello"}},
    {"request":{"method":"GET","url":"/relative"}},
    {"request":{"method":"GET","url":"http:///nohost"}},
    {"request":{"method":"POST","url":"http://a/","postData":{"encoding":"base64","text":"***"}}},
    {"request":"GET /"},
    {"request":{"method":"GET","url":"ws://a/socket","headers":[{"name":5},7,{"name":"X-Ok","value":"1"}]},
     "startedDateTime":"yesterday"}
  )"));
  CHECK_FALSE(got.result.error);
  CHECK(got.result.entries == 9);
  CHECK(got.result.bad_entries == 8);
  REQUIRE(got.bad.size() == 8);
  CHECK(got.bad[0] == std::pair<std::size_t, std::string>{0, "no request object"});
  CHECK(got.bad[1].second == "request has no url");
  CHECK(got.bad[2].second == "request has no method");
  CHECK(got.bad[3].second == "request url has no scheme");  // "data:" has no "://"
  CHECK(got.bad[4].second == "request url has no scheme");
  CHECK(got.bad[5].second == "request url has a malformed host");
  CHECK(got.bad[6].second == "postData.text is not valid base64");
  CHECK(got.bad[7] == std::pair<std::size_t, std::string>{7, "no request object"});
  REQUIRE(got.requests.size() == 1);
  CHECK(got.requests[0].index == 8);
  CHECK(header(got.requests[0].request, "x-ok") == "1");  // the malformed header items are dropped
  CHECK(got.requests[0].started.empty());                 // unreadable: the scan's own time is used
}

TEST_CASE("valid JSON that is no HAR, and broken JSON") {
  for (const char* text : {R"({"log":"text"})", R"({"log":{"entries":{}}})", R"({"logs":{"entries":[]}})", "[1,2]",
                           R"("log")"}) {
    CAPTURE(text);
    const auto got = read(text);
    CHECK_FALSE(got.result.is_har);
    CHECK_FALSE(got.result.error);
  }
  const auto empty = read(R"({"log":{"entries":[]}})");
  CHECK(empty.result.is_har);
  CHECK(empty.result.entries == 0);

  const auto garbage = read(har("") + "\n x");
  REQUIRE(garbage.result.error);
  CHECK(garbage.result.error->find("not valid JSON") != std::string::npos);
  CHECK(garbage.result.error->find("line 2") != std::string::npos);

  const auto bom = read("\xEF\xBB\xBF\n  " + har(chrome_h2));
  CHECK(bom.requests.size() == 1);
  CHECK_FALSE(bom.result.error);
}

TEST_CASE("every cut of a HAR: an error, never a crash, and only whole entries before the cut") {
  const std::string whole = har(std::string(chrome_h2) + "," + chrome_h2 + "," + chrome_h2);
  const auto full = read(whole);
  REQUIRE(full.requests.size() == 3);
  for (std::size_t length = 0; length < whole.size(); ++length) {
    const auto got = read(whole.substr(0, length));
    CAPTURE(length);
    CHECK(got.requests.size() <= 3);
    for (std::size_t i = 0; i < got.requests.size(); ++i) {
      CHECK(got.requests[i].index == i);
      CHECK(got.requests[i].request.body == full.requests[i].request.body);
      CHECK(got.requests[i].request.head.target == full.requests[i].request.head.target);
    }
    CHECK(got.result.error);
  }
  // A cut after the second entry keeps both and names the third.
  const auto cut = read(whole.substr(0, whole.rfind("{\n  \"_initiator\"")));
  CHECK(cut.requests.size() == 2);
  REQUIRE(cut.result.error);
  CHECK(cut.result.error->starts_with("truncated: the file ends at byte"));
  CHECK(cut.result.error->find("log.entries[2]") != std::string::npos);
}

TEST_CASE("startedDateTime is normalised to RFC 3339 UTC with milliseconds") {
  CHECK(normalize_har_time("2026-12-06T09:00:00.123Z") == "2026-12-06T09:00:00.123Z");
  CHECK(normalize_har_time("2026-12-06T09:00:00Z") == "2026-12-06T09:00:00.000Z");
  CHECK(normalize_har_time("2026-12-06T09:00:00.1z") == "2026-12-06T09:00:00.100Z");
  CHECK(normalize_har_time("2026-12-06T09:00:00.987654321+00:00") == "2026-12-06T09:00:00.987Z");
  CHECK(normalize_har_time("2026-01-01T00:30:00.000+01:00") == "2025-12-31T23:30:00.000Z");
  CHECK(normalize_har_time("2024-02-28T22:00:00.000-0230") == "2024-02-29T00:30:00.000Z");
  CHECK(normalize_har_time("2026-12-06 09:00:00Z") == "2026-12-06T09:00:00.000Z");
  CHECK_FALSE(normalize_har_time("2026-12-06T09:00:00"));  // no zone: a local time we cannot place
  CHECK_FALSE(normalize_har_time("2026-13-06T09:00:00Z"));
  CHECK_FALSE(normalize_har_time("2026-12-06T09:00:00.Z"));
  CHECK_FALSE(normalize_har_time("2026-12-06T09:00:00Zjunk"));
  CHECK_FALSE(normalize_har_time("Sat Dec 06 2026"));
  CHECK_FALSE(normalize_har_time(""));
}
