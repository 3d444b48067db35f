// The llhttp codec as the proxy drives it: boundaries, consumed byte counts (the proxy forwards
// exactly those bytes), decoded chunks, responses that depend on the request, and refusals.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "proxy/http_codec.hpp"

using namespace leakguard;
using Boundary = HttpStreamParser::Boundary;

namespace {
std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

TEST_CASE("a request stops at the end of its head, then at the end of its body") {
  HttpStreamParser parser(HttpStreamParser::Direction::request, 8192);
  const std::string head = "POST /a?b=c HTTP/1.1\r\nHost: h\r\nX-Case: V\r\nContent-Length: 5\r\n\r\n";
  const std::string input = head + "hello" + "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  auto step = parser.parse(input);
  CHECK(step.boundary == Boundary::head_complete);
  CHECK(step.consumed == head.size());
  CHECK(parser.head().method == "POST");
  CHECK(parser.head().target == "/a?b=c");
  REQUIRE(parser.head().headers.size() == 3);
  CHECK(parser.head().headers[1].name == "X-Case");
  CHECK(parser.head().headers[1].value == "V");

  step = parser.parse(std::string_view(input).substr(head.size()));
  CHECK(step.boundary == Boundary::message_complete);
  CHECK(step.consumed == 5);
  REQUIRE(step.body_chunks.size() == 1);
  CHECK(step.body_chunks[0] == "hello");

  step = parser.parse(std::string_view(input).substr(head.size() + 5));
  CHECK(step.boundary == Boundary::head_complete);
  CHECK(parser.head().method == "GET");
}

TEST_CASE("a head split over many reads is assembled") {
  HttpStreamParser parser(HttpStreamParser::Direction::request, 8192);
  const std::string input = "GET /split HTTP/1.1\r\nHost: example\r\nUser-Agent: t\r\n\r\n";
  Boundary last = Boundary::need_more;
  for (std::size_t i = 0; i < input.size(); ++i) {
    const auto step = parser.parse(std::string_view(input).substr(i, 1));
    CHECK(step.consumed == 1);
    last = step.boundary;
    if (last != Boundary::need_more) break;
  }
  CHECK(last == Boundary::head_complete);
  CHECK(parser.head().target == "/split");
  CHECK(parser.head().header("user-agent") == "t");
  CHECK(parser.head().host() == "example");
}

TEST_CASE("chunked bodies are reported decoded, while consumed covers the framing") {
  HttpStreamParser parser(HttpStreamParser::Direction::request, 8192);
  const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string body = "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";
  REQUIRE(parser.parse(head).boundary == Boundary::head_complete);
  CHECK(parser.chunked());
  const auto step = parser.parse(body);
  CHECK(step.boundary == Boundary::message_complete);
  CHECK(step.consumed == body.size());
  std::string decoded;
  for (auto chunk : step.body_chunks) decoded += chunk;
  CHECK(decoded == "Wikipedia");
}

TEST_CASE("the header section limit gives head_too_large") {
  HttpStreamParser parser(HttpStreamParser::Direction::request, 100);
  const std::string input = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(200, 'a') + "\r\n\r\n";
  const auto step = parser.parse(input);
  CHECK(step.boundary == Boundary::error);
  CHECK(parser.error() == HttpParseError::head_too_large);
}

TEST_CASE("malformed requests are errors, not guesses") {
  for (const std::string input : {"GET / HTTP/1.1\r\nHost: h\r\nBad Header: x\r\n\r\n", "GARBAGE\r\n\r\n",
                                  "GET / HTTP/1.1\r\nHost: h\r\nX-A\x01: x\r\n\r\n",
                                  "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n"}) {
    HttpStreamParser parser(HttpStreamParser::Direction::request, 8192);
    const auto step = parser.parse(input);
    CHECK_MESSAGE(step.boundary == Boundary::error, input);
  }
}

TEST_CASE("request smuggling shapes are refused as ambiguous framing") {
  const char* cases[] = {
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST / HTTP/1.0\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
      "GET / HTTP/1.1\r\nX: y\r\n\r\n",
  };
  for (const char* input : cases) {
    HttpStreamParser parser(HttpStreamParser::Direction::request, 8192);
    const auto step = parser.parse(input);
    CHECK_MESSAGE(step.boundary == Boundary::error, input);
  }
}

TEST_CASE("responses follow their request: HEAD has no body, 100 precedes the answer, 101 upgrades") {
  SUBCASE("HEAD") {
    HttpStreamParser parser(HttpStreamParser::Direction::response, 8192);
    parser.set_request_method("HEAD");
    const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
    const auto step = parser.parse(response + "HTTP/1.1 204 No Content\r\n\r\n");
    CHECK(step.boundary == Boundary::message_complete);
    CHECK(step.consumed == response.size());
  }
  SUBCASE("100 Continue") {
    HttpStreamParser parser(HttpStreamParser::Direction::response, 8192);
    const std::string informational = "HTTP/1.1 100 Continue\r\n\r\n";
    auto step = parser.parse(informational + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    CHECK(step.boundary == Boundary::message_complete);
    CHECK(parser.status_code() == 100);
    CHECK(step.consumed == informational.size());
  }
  SUBCASE("101") {
    HttpStreamParser parser(HttpStreamParser::Direction::response, 8192);
    const std::string upgrade = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    const auto step = parser.parse(upgrade + "\x81\x05hello");
    CHECK(step.boundary == Boundary::upgrade);
    CHECK(step.consumed == upgrade.size());
  }
  SUBCASE("end of stream delimits a body without length") {
    HttpStreamParser parser(HttpStreamParser::Direction::response, 8192);
    auto step = parser.parse("HTTP/1.0 200 OK\r\n\r\nuntil close");
    CHECK(step.boundary == Boundary::need_more);
    step = parser.finish();
    CHECK(step.boundary == Boundary::message_complete);
  }
}

TEST_CASE("serialised heads keep names, order and case") {
  HttpRequestHead head;
  head.method = "GET";
  head.target = "/x";
  head.headers = {{"Host", "h"}, {"x-LoWeR", "1"}, {"Accept", "*/*"}};
  CHECK(serialize_request_head(head) == "GET /x HTTP/1.1\r\nHost: h\r\nx-LoWeR: 1\r\nAccept: */*\r\n\r\n");
}

TEST_CASE("captured streams split into requests with decoded bodies") {
  const auto bytes = read_file(std::string(LEAKGUARD_SHARED_DIR) + "/corpus/cases/006-chunked-split.bin");
  REQUIRE(!bytes.empty());
  const auto captured = parse_captured_requests(bytes, 1 << 20);
  REQUIRE(captured.requests.size() == 1);
  CHECK(captured.requests[0].body == "id=353209091234567&x=1");
  CHECK(!captured.error);

  const auto raw = read_file(std::string(LEAKGUARD_SHARED_DIR) + "/corpus/cases/012-raw-tcp.bin");
  const auto not_http = parse_captured_requests(raw, 1 << 20);
  CHECK(not_http.requests.empty());
  CHECK(not_http.remainder.size() == raw.size());

  const auto two = parse_captured_requests("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n", 100);
  REQUIRE(two.requests.size() == 2);
  CHECK(two.requests[1].head.target == "/2");
}

TEST_CASE("bodies beyond the inspection limit are truncated and say so") {
  const auto captured = parse_captured_requests("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789", 4);
  REQUIRE(captured.requests.size() == 1);
  CHECK(captured.requests[0].body == "0123");
  CHECK(captured.requests[0].body_truncated);
}

TEST_CASE("protocol sniffing by method prefix") {
  CHECK(looks_like_http_request("GET / HTTP/1.1"));
  CHECK(looks_like_http_request("POS"));
  CHECK(looks_like_http_request("CONNECT a:443 HTTP/1.1"));
  CHECK_FALSE(looks_like_http_request("\x16\x03\x01"));
  CHECK_FALSE(looks_like_http_request("SSH-2.0-OpenSSH"));
  CHECK_FALSE(looks_like_http_request("GETX"));
}

TEST_CASE("a bodyless request completes without waiting for more bytes") {
  HttpStreamParser parser(HttpStreamParser::Direction::request, 8192);
  const std::string head = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
  REQUIRE(parser.parse(head).boundary == Boundary::head_complete);
  const auto step = parser.parse("");
  CHECK(step.boundary == Boundary::message_complete);
  CHECK(step.consumed == 0);
}
