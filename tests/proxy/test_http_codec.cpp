// The llhttp codec as the proxy drives it: boundaries, consumed byte counts (the proxy forwards
// exactly those bytes), decoded chunks, responses that depend on the request, and refusals.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <vector>

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
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
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

// The HTTP Desync Guardian tiers (tests/integration/test_conformance.py runs the whole suite through
// the binary): what must be forwarded, and the shapes around it that must not.
namespace {
struct Parsed {
  Boundary boundary;
  std::string reason;
  HttpRequestHead head;
  bool chunked = false;
  std::string body;
};

Parsed parse_all(const std::string& input) {
  HttpStreamParser parser(HttpStreamParser::Direction::request, 8192);
  Parsed result;
  auto step = parser.parse(input);
  result.boundary = step.boundary;
  result.reason = parser.error_reason();
  if (step.boundary != Boundary::head_complete) return result;
  result.head = parser.head();
  result.chunked = parser.chunked();
  step = parser.parse(std::string_view(input).substr(step.consumed));
  for (auto chunk : step.body_chunks) result.body += chunk;
  result.boundary = step.boundary;
  return result;
}
}  // namespace

TEST_CASE("transfer-coding lists ending in one chunked frame the request as chunked") {
  const std::string body = "5\r\nhello\r\n0\r\n\r\n";
  for (const std::string te : {"Transfer-Encoding: gzip, chunked\r\n",
                               "Transfer-Encoding: deflate, identity, chunked\r\n",
                               "Transfer-Encoding: gzip , deflate , \tidentity\t, compress\t, chunked\r\n",
                               "Transfer-Encoding: gzip\r\nTransfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n",
                               "Transfer-Encoding: ChUnKeD\r\n"}) {
    const auto parsed = parse_all("POST / HTTP/1.1\r\nHost: h\r\n" + te + "\r\n" + body);
    CHECK_MESSAGE(parsed.boundary == Boundary::message_complete, te, " ", parsed.reason);
    CHECK(parsed.chunked);
    CHECK(parsed.body == "hello");
  }
}

TEST_CASE("parameters on transfer codings are accepted and dropped from the forwarded head") {
  // llhttp alone does not take "chunked;custom_param;" for chunked; the codec frames it as chunked
  // and forwards plain "chunked", so the upstream cannot frame it differently.
  const auto parsed = parse_all(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:   gzip   ;   \r\nTransfer-Encoding: deflate\t\t;\t\t\r\n"
      "Transfer-Encoding: \t\t\t\tchunked;custom_param;\t\t\t\t\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  CHECK_MESSAGE(parsed.boundary == Boundary::message_complete, parsed.reason);
  CHECK(parsed.chunked);
  CHECK(parsed.body == "hello");
  REQUIRE(parsed.head.headers.size() == 4);
  CHECK(parsed.head.headers[1].value == "gzip");
  CHECK(parsed.head.headers[2].value == "deflate");
  CHECK(parsed.head.headers[3].value == "chunked");
  CHECK(serialize_request_head(parsed.head).find("Transfer-Encoding: chunked\r\n") != std::string::npos);
}

TEST_CASE("transfer codings that leave the length to a guess are refused") {
  for (const std::string te : {"Transfer-Encoding: xchunked\r\n", "Transfer-Encoding: chunk\r\n",
                               "Transfer-Encoding: gzip\r\n", "Transfer-Encoding: chunked, gzip\r\n",
                               "Transfer-Encoding: chunked,chunked\r\n", "Transfer-Encoding: gzip, , chunked\r\n",
                               "Transfer-Encoding: chunked\r\nTransfer-Encoding: cow\r\n",
                               "Transfer-Encoding: \"chunked\"\r\n", "Transfer-Encoding: chunked;a=\"b,c\"\r\n",
                               "Transfer-Encoding: \xa0" "chunked\r\n"}) {
    const auto parsed = parse_all("POST / HTTP/1.1\r\nHost: h\r\n" + te + "\r\n0\r\n\r\n");
    CHECK_MESSAGE(parsed.boundary == Boundary::error, te);
  }
}

TEST_CASE("GET and HEAD may say Content-Length: 0 but carry no content") {
  CHECK(parse_all("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n").boundary == Boundary::message_complete);
  CHECK(parse_all("HEAD / HTTP/1.1\r\nHost: h\r\nContent-Length: 00\r\n\r\n").boundary == Boundary::message_complete);
  for (const std::string input : {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
                                  "HEAD / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
                                  "GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"}) {
    CHECK_MESSAGE(parse_all(input).boundary == Boundary::error, input);
  }
}

TEST_CASE("header names that resemble Transfer-Encoding or Content-Length are refused") {
  for (const std::string name : {"Transfer_Encoding", "Content_Length", "Transfer---Encoding", "Transfer___Encoding",
                                 "transfer.encoding", "Content-Length ", "Transfer-Encoding\t",
                                 "Tran\xC5\xBF" "fer-Encoding", "Transfer-Encod\xC4\xB1" "ng", "\x01" "Content-Length"}) {
    const auto parsed = parse_all("POST / HTTP/1.1\r\nHost: h\r\n" + name + ": 5\r\n\r\nhello");
    CHECK_MESSAGE(parsed.boundary == Boundary::error, name);
  }
  // A custom header that merely contains the words is an ordinary header.
  CHECK(parse_all("GET / HTTP/1.1\r\nHost: h\r\nX-Content-Length: 5\r\n\r\n").boundary == Boundary::message_complete);
  CHECK(parse_all("GET / HTTP/1.1\r\nHost: h\r\nMy_Custom_Header: 5\r\n\r\n").boundary == Boundary::message_complete);
}

TEST_CASE("whitespace between a header name and its colon is refused (RFC 9112 section 5.1), whatever the header") {
  for (const std::string line : {"x-my-custom-header : some value\r\n", "Host : h\r\n", "Accept\t: */*\r\n",
                                 "Content-Length : 2\r\n"}) {
    for (const std::string& input : {"PUT / HTTP/1.1\r\n" + line + "Host: h\r\nContent-Length: 2\r\n\r\nok",
                                     "PUT / HTTP/1.1\r\nHost: h\r\n" + line + "Content-Length: 2\r\n\r\nok"}) {
      const auto parsed = parse_all(input);
      CHECK_MESSAGE(parsed.boundary == Boundary::error, input);
    }
  }
  CHECK(parse_all("PUT / HTTP/1.1\r\nHost: h\r\nx-a : b\r\n\r\n").reason == "whitespace between a header name and its colon");
}

namespace {
// A request whose header section holds `line` first, after Host, or after two other headers.
std::vector<std::string> in_every_position(const std::string& line) {
  const std::string start = "POST / HTTP/1.1\r\n";
  const std::string rest = "Content-Length: 5\r\n\r\nhello";
  return {start + line + "Host: h\r\n" + rest, start + "Host: h\r\n" + line + rest,
          start + "Host: h\r\nAccept: */*\r\nUser-Agent: t\r\n" + line + rest};
}
}  // namespace

TEST_CASE("a header line that begins with a space or a tab (obs-fold) is refused wherever it stands") {
  // The public desync shapes, and folds that look harmless: none of them may reach a server that
  // reads the line as a header of its own.
  for (const std::string line : {" Content-Length: 5\r\n", "\tTransfer-Encoding: chunked\r\n", "   \t\t  : x\r\n",
                                 " folded continuation\r\n", "\t\r\n"}) {
    for (const auto& input : in_every_position(line)) {
      const auto parsed = parse_all(input);
      CHECK_MESSAGE(parsed.boundary == Boundary::error, input);
    }
  }
  const auto after_host = parse_all("GET / HTTP/1.1\r\nHost: h\r\n X-Folded: y\r\n\r\n");
  CHECK(after_host.boundary == Boundary::error);
  CHECK(after_host.reason == "a header line that begins with whitespace (obs-fold)");
  // Split one byte per read, the scan still sees the line start across reads.
  const std::string folded = "GET / HTTP/1.1\r\nHost: h\r\n\tX: y\r\n\r\n";
  HttpStreamParser parser(HttpStreamParser::Direction::request, 8192);
  Boundary last = Boundary::need_more;
  for (std::size_t i = 0; i < folded.size() && last == Boundary::need_more; ++i)
    last = parser.parse(std::string_view(folded).substr(i, 1)).boundary;
  CHECK(last == Boundary::error);
  // Whitespace inside a value is no fold.
  CHECK(parse_all("GET / HTTP/1.1\r\nHost: h\r\nX:  a \t b\r\n\r\n").boundary == Boundary::message_complete);
}

TEST_CASE("a Host that is not a valid authority is refused") {
  for (const std::string host : {"", " ", "a b", "user@h", "h:", "h:0", "h:65536", "h:123456", "h:8o", "h:1:2",
                                 "a,b", "a;b", "h/x", "h?x", "[::1", "[::1]x", "[::1]:", "[zz::1]", "[fe80::1%25eth0]",
                                 "h%zz", "h%2", "\xC3\xA9.example", "[::1]:99999"}) {
    const std::string input = "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
    const auto parsed = parse_all(input);
    CHECK_MESSAGE(parsed.boundary == Boundary::error, host);
    if (parsed.boundary == Boundary::error && host != "\xC3\xA9.example") CHECK_MESSAGE(parsed.reason == "Host is not a valid authority", host);
  }
  for (const std::string host : {"h", "example.com", "example.com.", "a-b.c_d~e", "127.0.0.1:8080", "h:1", "h:65535",
                                 "[::1]", "[::1]:443", "[2001:db8::7]", "xn--bcher-kva.example", "%41.example", " h \t"}) {
    const std::string input = "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
    const auto parsed = parse_all(input);
    CHECK_MESSAGE(parsed.boundary == Boundary::message_complete, host, ": ", parsed.reason);
  }
  // The authority of an absolute-form target is held to the same grammar: the proxy routes by it.
  for (const std::string target : {"http://user@h/", "http:///x", "http://h:0/", "http://a,b/", "http://h:/"}) {
    const auto parsed = parse_all("GET " + target + " HTTP/1.1\r\nAccept: */*\r\n\r\n");
    CHECK_MESSAGE(parsed.boundary == Boundary::error, target);
  }
  CHECK(parse_all("GET http://[::1]:8080/x?y HTTP/1.1\r\n\r\n").boundary == Boundary::message_complete);
}

TEST_CASE("a CR or LF without its pair in the head is refused") {
  // llhttp's loose mode ends the head at "\r\n\r" + 'T': the rest would be a second "request" here
  // and header lines to a server that reads the line properly.
  for (const std::string input : {"POST / HTTP/1.1\r\nHost: h\r\n\rTransfer-Encoding: chunked\r\n\r\n",
                                  "POST / HTTP/1.1\r\nHost: h\r\n\rContent-Length: 5\r\n\r\nhello",
                                  "GET / HTTP/1.1\nHost: h\n\n", "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n"}) {
    CHECK_MESSAGE(parse_all(input).boundary == Boundary::error, input);
  }
  // Split at every byte, the scan still sees the pairs across reads.
  const std::string good = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  HttpStreamParser parser(HttpStreamParser::Direction::request, 8192);
  Boundary last = Boundary::need_more;
  for (std::size_t i = 0; i < good.size() && last == Boundary::need_more; ++i)
    last = parser.parse(std::string_view(good).substr(i, 1)).boundary;
  CHECK(last == Boundary::head_complete);
}

TEST_CASE("chunked bodies must follow RFC 9112 7.1 to the byte, or nothing of them goes upstream") {
  const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const std::string body : {"5\r\nhello\r\n0\r\n\r\n", "5;ext=1\r\nhello\r\n0\r\n\r\n",
                                 "A\r\n0123456789\r\n000\r\n\r\n", "5\r\nhello\r\n0\r\nTrailer: x\r\n\r\n"}) {
    // Whole, and one byte per read: the check keeps its state across reads.
    CHECK_MESSAGE(parse_all(head + body).boundary == Boundary::message_complete, body);
    HttpStreamParser parser(HttpStreamParser::Direction::request, 8192);
    REQUIRE(parser.parse(head).boundary == Boundary::head_complete);
    Boundary last = Boundary::need_more;
    for (std::size_t i = 0; i < body.size() && last == Boundary::need_more; ++i)
      last = parser.parse(std::string_view(body).substr(i, 1)).boundary;
    CHECK_MESSAGE(last == Boundary::message_complete, body);
  }
  // llhttp's loose mode takes these; a strict server does not, or ends the body elsewhere.
  for (const std::string body : {"5\r\nhelloXX0\r\n\r\n", "5\r\nhello\r\n0\r\n\rG", "5\r\nhello\r\n0\r\n\rGET / HTTP/1.1\r\n\r\n",
                                 "5\r\nhello\n0\r\n\r\n", "5\r\nhello\r\n0\r\nTrailer: x\n\r\n"}) {
    HttpStreamParser parser(HttpStreamParser::Direction::request, 8192);
    REQUIRE(parser.parse(head).boundary == Boundary::head_complete);
    const auto step = parser.parse(body);
    CHECK_MESSAGE(step.boundary == Boundary::error, body);
    CHECK(step.consumed == 0);
  }
}

TEST_CASE("request lines: HTTP/1.2 goes on as 1.1; 0.9, 2.0 and control characters in the target are refused") {
  const auto v12 = parse_all("GET http://h/a HTTP/1.2\r\nX: y\r\n\r\n");
  CHECK_MESSAGE(v12.boundary == Boundary::message_complete, v12.reason);
  CHECK(serialize_request_head(v12.head).starts_with("GET http://h/a HTTP/1.1\r\n"));
  for (const std::string input : {"GET /a\r\nHost: h\r\n\r\n", "GET /a HTTP/0.9\r\nHost: h\r\n\r\n",
                                  "GET /a HTTP/2.0\r\nHost: h\r\n\r\n", "GET /a HTTP/3.7\r\nHost: h\r\n\r\n",
                                  "GET /endpoint_a\tHTTP/1.1 HTTP/1.1\r\nHost: h\r\n\r\n",
                                  "GET /endpoint_a\tHTTP/1.1\r\nHost:localhost\r\n\r\nGET\t/endpoint_b\t HTTP/1.1\r\n\r\n"}) {
    CHECK_MESSAGE(parse_all(input).boundary == Boundary::error, input);
  }
}

TEST_CASE("Host: optional with an absolute-form target, set upstream from it") {
  auto parsed = parse_all("GET http://example.test:8080/x HTTP/1.1\r\nAccept: */*\r\n\r\n");
  CHECK_MESSAGE(parsed.boundary == Boundary::message_complete, parsed.reason);
  CHECK(serialize_request_head(parsed.head, {.target = "/x", .host = "example.test:8080"}) ==
        "GET /x HTTP/1.1\r\nHost: example.test:8080\r\nAccept: */*\r\n\r\n");

  parsed = parse_all("GET http://a.test/x HTTP/1.1\r\nAccept: */*\r\nhOsT: b.test\r\nProxy-Connection: keep-alive\r\n\r\n");
  // In place, the name as sent; Proxy-Connection is for the proxy only.
  CHECK(serialize_request_head(parsed.head, {.target = "/x", .host = "a.test"}) ==
        "GET /x HTTP/1.1\r\nAccept: */*\r\nhOsT: a.test\r\n\r\n");
  CHECK(parsed.head.headers[1].value == "b.test");  // the client's head itself is unchanged

  CHECK(parse_all("GET /x HTTP/1.1\r\nAccept: */*\r\n\r\n").boundary == Boundary::error);
}

TEST_CASE("a 100 Continue we answered ourselves is not asked of the origin again") {
  const auto parsed = parse_all("POST /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n");
  CHECK(serialize_request_head(parsed.head, {.drop_expect = true}) ==
        "POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  CHECK(serialize_request_head(parsed.head).find("Expect: 100-continue\r\n") != std::string::npos);
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
  // A request without a body at the very end is whole; one cut inside its body is not.
  CHECK(!two.error);
  CHECK_FALSE(two.requests[1].body_truncated);
  const auto cut = parse_captured_requests("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\n"
                                           "Content-Length: 10\r\n\r\n0123", 100);
  REQUIRE(cut.requests.size() == 2);
  CHECK(cut.requests[1].body == "0123");
  CHECK(cut.requests[1].body_truncated);
  CHECK(cut.error == "capture ends in the middle of a request");
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

TEST_CASE("responses with framing two readers could disagree on are errors, never relayed as one message") {
  // The client reads what leakguard relays: a response whose end it would place elsewhere than
  // leakguard does would desynchronise the client's connection (response splitting).
  for (const std::string response : {
           "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
           "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!",
           "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello",
           "HTTP/1.1 200 OK\r\n Content-Length: 5\r\n\r\nhello",
           "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
       }) {
    HttpStreamParser parser(HttpStreamParser::Direction::response, 8192);
    parser.set_request_method("GET");
    CHECK_MESSAGE(parser.parse(response).boundary == Boundary::error, response);
  }
  // Chunked not last: RFC 9112 section 6.3 says the body runs until the server closes, and so it is
  // relayed: nothing after it on that connection can be taken for another response.
  HttpStreamParser parser(HttpStreamParser::Direction::response, 8192);
  parser.set_request_method("GET");
  const auto step = parser.parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n");
  CHECK(step.boundary == Boundary::need_more);
  CHECK(parser.finish().boundary == Boundary::message_complete);
  CHECK_FALSE(parser.keep_alive());
}

TEST_CASE("the end of the stream right after a complete response is no error") {
  // An origin closing an idle keep-alive connection, or the proxy closing it when the client left.
  HttpStreamParser parser(HttpStreamParser::Direction::response, 8192);
  parser.set_request_method("GET");
  const auto step = parser.parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  REQUIRE(step.boundary == Boundary::message_complete);
  const auto end = parser.finish();
  CHECK(end.boundary != Boundary::error);
  CHECK(parser.error() == HttpParseError::none);
}
