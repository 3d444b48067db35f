// Each decoding layer on its own: percent, base64 (both alphabets, padding, 76-column wrapping),
// hex, JSON fields with paths and offsets, forms, multipart, XML, gzip/deflate/br with bounds, and
// the request decoder's view (where, encoding chain, nesting).
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <set>

#include "detectors/decoders/base64.hpp"
#include "detectors/decoders/compression.hpp"
#include "detectors/decoders/form.hpp"
#include "detectors/decoders/hex.hpp"
#include "detectors/decoders/json.hpp"
#include "detectors/decoders/jwt.hpp"
#include "detectors/decoders/multipart.hpp"
#include "detectors/decoders/request_decoder.hpp"
#include "detectors/decoders/url.hpp"
#include "detectors/decoders/xml.hpp"
#include "tests/detectors/test_support.hpp"

using namespace leakguard;
using namespace leakguard::decoders;

TEST_CASE("percent decoding keeps '+' and maps offsets back to the raw bytes") {
  std::string out;
  CHECK(percent_decode("%2B47%20a+b%zz%4", out) == 2);
  CHECK(out == "+47 a+b%zz%4");
  CHECK(has_percent_escape("a%41"));
  CHECK_FALSE(has_percent_escape("100%"));
  CHECK(raw_offset_of_decoded("%2B4791", 0) == 0);
  CHECK(raw_offset_of_decoded("%2B4791", 1) == 3);
  CHECK(raw_offset_of_decoded("%2B4791", 5) == 7);
}

TEST_CASE("PercentOffsets maps decoded offsets as the one-offset walk does, past the end too") {
  // Escapes at the start and end, a '%' that is no escape, one that is cut short, and '%' escaped.
  for (const std::string_view raw : {"%2B4791%20x%zz%4", "%25%41b%", "abc", "", "%41%42%43"}) {
    PercentOffsets offsets;
    offsets.index(raw);
    std::string decoded;
    percent_decode(raw, decoded);
    for (std::size_t d = 0; d <= decoded.size() + 2; ++d) {
      CAPTURE(raw);
      CAPTURE(d);
      CHECK(offsets.raw_offset(d) == raw_offset_of_decoded(raw, d));
    }
  }
  // The index follows the text it is given: another text at another address is indexed anew.
  PercentOffsets offsets;
  const std::string first = "%41%42c";
  const std::string second = "abc";
  offsets.index(first);
  CHECK(offsets.raw_offset(2) == 6);
  offsets.index(second);
  CHECK(offsets.raw_offset(2) == 2);
}

TEST_CASE("base64: standard and URL-safe, padded or not, wrapped at 76 columns") {
  const std::string text = "{\"IMEI1\": \"353209091234567\", \"x\": \"\xff\xfe?>\"}";
  for (bool url : {false, true})
    for (bool pad : {false, true}) {
      std::string encoded = base64_encode(text, url, pad);
      std::string out;
      REQUIRE(base64_decode(encoded, out));
      CHECK(out == text);
    }
  std::string wrapped = base64_encode(std::string(200, 'a') + text);
  for (std::size_t i = 76; i < wrapped.size(); i += 78) wrapped.insert(i, "\r\n");
  std::string out;
  REQUIRE(base64_decode(wrapped, out));
  CHECK(out == std::string(200, 'a') + text);
  CHECK(looks_like_base64(wrapped));

  out.clear();
  CHECK_FALSE(base64_decode("ab+c-d__", out));  // mixed alphabets
  out.clear();
  CHECK_FALSE(base64_decode("abc=d", out));     // data after padding
  out.clear();
  CHECK_FALSE(base64_decode("abcde", out));     // impossible length
  out.clear();
  CHECK_FALSE(base64_decode("abcdefgh", out, 3));  // output bound
  CHECK_FALSE(looks_like_base64("1234567890123456789"));  // digits are not base64 text
  CHECK_FALSE(looks_like_base64("hello world this is text"));
  // A leading '/' or '+' (or '-', '_') encodes a first byte of 0xF8 or more: never text.
  CHECK_FALSE(looks_like_base64("/api/v2/feed/items"));
  CHECK_FALSE(looks_like_base64("_xY3kLmNoPqRsTuVw"));
  CHECK(looks_like_base64("aGVsbG8gd29ybGQgdGhpcyBpcyB0ZXh0"));  // "hello world this is text"
  for (int first = 0x20; first < 0x7f; ++first)  // base64 of text never starts with one of them
    CHECK(looks_like_base64(base64_encode(std::string(1, static_cast<char>(first)) + "ello World 123")));
}

TEST_CASE("base64 round trip of random bytes: every alphabet, padding and line wrap, at every length") {
  // The decoder takes four letters/digits at a time and falls back to a byte loop at the first
  // other character: '+' '/' '-' '_', padding and line breaks land at every offset here.
  std::mt19937 rng(17);
  for (int round = 0; round < 2000; ++round) {
    std::string bytes(rng() % 120, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() % 256);
    const bool url = rng() % 2, pad = rng() % 2;
    std::string encoded = base64_encode(bytes, url, pad);
    if (rng() % 4 == 0)
      for (std::size_t i = 76; i < encoded.size(); i += 78) encoded.insert(i, "\r\n");
    std::string decoded = "kept";  // decoding appends
    CAPTURE(encoded);
    REQUIRE(base64_decode(encoded, decoded));
    CHECK(decoded == "kept" + bytes);
    std::string bounded;
    if (!bytes.empty()) CHECK_FALSE(base64_decode(encoded, bounded, bytes.size() - 1));  // one byte short
  }
}

TEST_CASE("JWT: header and payload of a compact JWS, after an auth scheme or alone") {
  const std::string header = base64_encode(R"({"alg":"HS256","typ":"JWT"})", true, false);
  const std::string payload = base64_encode(R"({"imei":"353209091234567"})", true, false);
  const std::string token = header + "." + payload + ".c2lnbmF0dXJl-_";
  for (const std::string& text : {token, "Bearer " + token, "JWT " + token, header + "." + payload + "."}) {
    CAPTURE(text);
    const auto parts = jwt_parts(text);
    REQUIRE(parts);
    CHECK(parts->header == header);
    CHECK(parts->payload == payload);
  }
  CHECK_FALSE(jwt_parts(token + ".more.parts"));            // a JWE has five parts, its payload is ciphertext
  CHECK_FALSE(jwt_parts(header + "." + payload));            // two parts
  CHECK_FALSE(jwt_parts(header + ".." + "c2ln"));            // no payload
  CHECK_FALSE(jwt_parts("abc." + payload + ".c2ln"));        // the header is no JSON object
  CHECK_FALSE(jwt_parts("Bearer  " + token));                // one space after the scheme
  CHECK_FALSE(jwt_parts(token + " "));                       // trailing bytes outside the alphabet
  CHECK_FALSE(jwt_parts("Dalvik/2.1.0 (Linux; U; Android 13)"));
}

TEST_CASE("hex of ASCII") {
  std::string out;
  REQUIRE(hex_decode("333533323039", out));
  CHECK(out == "353209");
  CHECK(hex_encode("\x01\xab", true) == "01AB");
  CHECK(looks_like_hex("33353332303930393132333435363"
                       "7"));
  CHECK_FALSE(looks_like_hex("3335333"));  // odd
  out.clear();
  CHECK_FALSE(hex_decode("zz", out));
}

TEST_CASE("JSON fields carry paths, keys, groups and the value's position") {
  const std::string text = R"({"a": "x", "cell": {"mcc": 242, "cid": 56789}, "list": ["\u0033\u0035", 1.5e3], "b": true})";
  std::vector<JsonField> fields;
  std::vector<std::string> paths;
  std::vector<std::string> values;
  const auto result = parse_json_fields(text, 100, [&](const JsonField& field) {
    fields.push_back(field);
    paths.emplace_back(field.path);
    values.emplace_back(field.value);
    if (field.literal) CHECK(text.substr(field.offset, field.length) == std::string(field.value));
  });
  CHECK(result.valid);
  CHECK(paths == std::vector<std::string>{"a", "cell.mcc", "cell.cid", "list[0]", "list[1]"});
  CHECK(values == std::vector<std::string>{"x", "242", "56789", "35", "1.5e3"});
  CHECK(fields[1].group == fields[2].group);
  CHECK(fields[0].group != fields[1].group);
  CHECK_FALSE(fields[3].literal);  // \u escapes: the bytes are not the value
  CHECK(fields[3].length == 12);

  // Cut short: the fields before the cut are still reported.
  std::size_t count = 0;
  const auto cut = parse_json_fields(R"({"imei": "353209091234567", "x": [1, )", 100, [&](const JsonField&) { ++count; });
  CHECK_FALSE(cut.valid);
  CHECK(count == 2);
  CHECK(parse_json_fields("not json", 100, [](const JsonField&) {}).fields == 0);

  // Cut inside a string (a body at the inspection bound): the fields before that string count.
  std::vector<std::string> before_cut;
  const auto in_string = parse_json_fields(R"({"imei": "353209091234567", "note": "the body was cut he)", 100,
                                           [&](const JsonField& field) { before_cut.emplace_back(field.value); });
  CHECK_FALSE(in_string.valid);
  CHECK(before_cut == std::vector<std::string>{"353209091234567"});

  // A whole document that is one scalar; trailing bytes after a document make it invalid.
  std::vector<std::string> scalar;
  CHECK(parse_json_fields(R"("353209091234567")", 100, [&](const JsonField& field) { scalar.emplace_back(field.value); }).valid);
  CHECK(scalar == std::vector<std::string>{"353209091234567"});
  CHECK_FALSE(parse_json_fields(R"({"a": 1} {"b": 2})", 100, [](const JsonField&) {}).valid);

  // Nesting far deeper than any app's: no crash, the shallow values still reported.
  std::string deep = R"({"imsi": "242016601234567", "d": )";
  for (int i = 0; i < 5000; ++i) deep += "[";
  for (int i = 0; i < 5000; ++i) deep += "]";
  deep += "}";
  std::size_t shallow = 0;
  parse_json_fields(deep, 100, [&](const JsonField& field) { shallow += field.value == "242016601234567"; });
  CHECK(shallow == 1);
}

TEST_CASE("form pairs and sniffing") {
  std::vector<std::pair<std::string, std::string>> pairs;
  parse_form("imsi=242016601234567&flag&iccid=%38%39&", 10, [&](const FormPair& pair) {
    pairs.emplace_back(pair.name, pair.value);
  });
  REQUIRE(pairs.size() == 3);
  CHECK(pairs[0] == std::pair<std::string, std::string>{"imsi", "242016601234567"});
  CHECK(pairs[1].first == "flag");
  CHECK(pairs[2].second == "%38%39");
  CHECK(looks_like_form("id=3532090912345&x=1"));
  CHECK_FALSE(looks_like_form("hello world=1"));
  CHECK_FALSE(looks_like_form("=x"));
}

TEST_CASE("multipart parts with names, types and offsets") {
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{\"imsi\":\"1\"}\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n"
      "--XyZ--\r\n";
  CHECK(multipart_boundary("multipart/form-data; boundary=\"XyZ\"") == "XyZ");
  std::vector<MultipartPart> parts;
  CHECK(parse_multipart(body, "XyZ", 10, [&](const MultipartPart& part) { parts.push_back(part); }) == 2);
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].name == "meta");
  CHECK(parts[0].content_type == "application/json");
  CHECK(parts[0].body == "{\"imsi\":\"1\"}");
  CHECK(body.substr(parts[0].body_offset, parts[0].body.size()) == parts[0].body);
  CHECK(parts[1].filename == "a.bin");
  CHECK(parts[1].content_encoding == "base64");
}

TEST_CASE("XML text nodes and attributes") {
  const std::string text = R"(<?xml version="1.0"?><r><IMEI>3532</IMEI><!-- c --><w mac='a4:50' x="1"/><t>a&amp;b</t><![CDATA[raw]]></r>)";
  std::vector<std::pair<std::string, std::string>> values;
  parse_xml_values(text, 100, [&](const XmlValue& value) {
    values.emplace_back(value.name, value.raw);
    CHECK(text.substr(value.offset, value.raw.size()) == std::string(value.raw));
  });
  REQUIRE(values.size() == 5);
  CHECK(values[0] == std::pair<std::string, std::string>{"IMEI", "3532"});
  CHECK(values[1] == std::pair<std::string, std::string>{"w@mac", "a4:50"});
  CHECK(values[3].second == "a&amp;b");
  std::string out;
  xml_unescape("a&amp;b&#x33;&#53;&bogus;", out);
  CHECK(out == "a&b35&bogus;");
}

TEST_CASE("gzip, deflate (zlib and raw) and br decode within a bound") {
  const std::string text = "{\"imsi\": \"242016601234567\"}";
  std::string out;
  CHECK(decompress(Compression::gzip, test::gzip(text), out, 1 << 20) == DecompressStatus::ok);
  CHECK(out == text);
  out.clear();
  CHECK(decompress(Compression::deflate, test::gzip(text, MAX_WBITS), out, 1 << 20) == DecompressStatus::ok);
  CHECK(out == text);
  out.clear();
  CHECK(decompress(Compression::deflate, test::gzip(text, -MAX_WBITS), out, 1 << 20) == DecompressStatus::ok);
  CHECK(out == text);
  out.clear();
  CHECK(decompress(Compression::brotli, test::brotli(text), out, 1 << 20) == DecompressStatus::ok);
  CHECK(out == text);

  // A bomb stops at the bound instead of allocating what it claims.
  const std::string bomb = test::gzip(std::string(32 << 20, '\0'));
  out.clear();
  CHECK(decompress(Compression::gzip, bomb, out, 1 << 20) == DecompressStatus::output_limit);
  CHECK(out.size() == (1u << 20));
  out.clear();
  CHECK(decompress(Compression::brotli, test::brotli(std::string(32 << 20, 'a')), out, 1 << 16) ==
        DecompressStatus::output_limit);
  // Truncated and corrupt input: what decoded so far, no crash.
  out.clear();
  const std::string gz = test::gzip(text);
  CHECK(decompress(Compression::gzip, std::string_view(gz).substr(0, gz.size() / 2), out, 1 << 20) ==
        DecompressStatus::truncated);
  out.clear();
  CHECK(decompress(Compression::gzip, "\x1f\x8bnot gzip at all", out, 1 << 20) == DecompressStatus::error);
  CHECK(compression_from_token(" X-GZIP ") == Compression::gzip);
  CHECK_FALSE(compression_from_token("compress"));
}

namespace {
struct DecodedRequest {
  DecodedView view;
  Arena arena;
  std::vector<Anomaly> anomalies;
  DecodeLimits limits;
  explicit DecodedRequest(const HttpRequest& request) {
    RequestDecoder decoder(view, arena, limits, anomalies);
    decoder.decode_request(request);
  }
  // Every (where, encoding) of a field or buffer, to check the view's shape.
  bool has(std::string_view where, std::string_view encoding) const {
    for (const auto& buffer : view.buffers) {
      if (buffer.where.str() == where && buffer.encoding == encoding) return true;
      for (const auto& field : view.fields_of(buffer))
        if (field.where.str() == where && buffer.encoding == encoding) return true;
    }
    return false;
  }
};
}  // namespace

TEST_CASE("the request decoder names every place and every layer") {
  const std::string inner = leakguard::decoders::base64_encode(R"({"IMEI1":"353209091234567"})");
  HttpRequest request = test::make_request(
      "POST", "/a/b?imei=1&m=%252B47&d=" + inner,
      {{"Cookie", "sid=abc; dev=xyz"}, {"X-Device-Id", "42"}, {"Content-Type", "application/json"}},
      R"({"payload": "{\"iccid\":\"8947\"}", "z": ")" + base64_encode(test::gzip("a=1&imsi=2")) + "\"}");
  DecodedRequest decoded(request);
  CHECK(decoded.has("path", ""));
  CHECK(decoded.has("query:imei", ""));
  CHECK(decoded.has("query:m", "url>url"));
  CHECK(decoded.has("query:d.json:IMEI1", "base64>json"));
  CHECK(decoded.has("cookie:dev", ""));
  CHECK(decoded.has("header:x-device-id", ""));
  CHECK(decoded.has("body.json:payload.json:iccid", "json>json"));
  CHECK(decoded.has("body.json:z.form:imsi", "json>base64>gzip>form"));
  CHECK(decoded.anomalies.empty());
}

TEST_CASE("decoding depth and output are bounded") {
  // base64 of base64 of ... twenty times: decoding stops at max_depth, quietly.
  std::string value = R"({"imei":"353209091234567"})";
  for (int i = 0; i < 20; ++i) value = base64_encode(value);
  HttpRequest request = test::make_request("POST", "/", {{"Content-Type", "text/plain"}}, value);
  DecodedRequest decoded(request);
  std::size_t deepest = 0;
  for (const auto& buffer : decoded.view.buffers) deepest = std::max<std::size_t>(deepest, buffer.depth);
  CHECK(deepest <= decoded.limits.max_depth);

  HttpRequest bomb = test::make_request("POST", "/", {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}},
                                        test::gzip(std::string(64 << 20, ' ')));
  DecodedRequest decoded_bomb(bomb);
  REQUIRE(decoded_bomb.anomalies.size() == 1);
  CHECK(decoded_bomb.anomalies[0].anomaly == "decompression_bomb");
  CHECK(decoded_bomb.anomalies[0].output_bytes <= decoded_bomb.limits.max_decoded_bytes);
}

#include "detectors/matchers/digest_tokens.hpp"

TEST_CASE("digest-shaped tokens: whole hex and base64 runs of digest lengths, anywhere in a buffer") {
  using leakguard::matchers::find_digest_tokens;
  using leakguard::matchers::Token;
  const std::string md5 = "bddd39b3cfca46dbae3b9450283f5917";
  const std::string b64 = "vd05s8/KRtuuO5RQKD9ZFw";  // 22 characters, with a '/'
  for (std::size_t pad = 0; pad < 20; ++pad) {
    const std::string text = std::string(pad, ' ') + "u=" + md5 + "&d=" + b64 + "==&p=/s/" + md5 + "/x&long=" + md5 + "ab";
    std::vector<Token> tokens;
    find_digest_tokens(text, tokens);
    std::vector<std::string> found;
    for (const auto& token : tokens) found.push_back(text.substr(token.begin, token.end - token.begin));
    CAPTURE(pad);
    CHECK(std::count(found.begin(), found.end(), md5) == 2);  // the query value and the path segment
    CHECK(std::count(found.begin(), found.end(), b64) == 1);
    CHECK(found.size() == 3);  // not the 34-character run
  }
}

TEST_CASE("digest-shaped tokens: the maximal runs of each base64 alphabet, checked against a byte walk") {
  using leakguard::matchers::Token;
  // The definition, one byte at a time: runs of [A-Za-z0-9_-] and runs of [A-Za-z0-9+/].
  const auto reference = [](const std::string& text) {
    const auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    const auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
    std::set<std::pair<std::size_t, std::size_t>> tokens;
    for (const std::string extra : {"_-", "+/"}) {
      std::size_t start = 0;
      for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i < text.size() && (alnum(text[i]) || extra.find(text[i]) != std::string::npos)) continue;
        const std::size_t n = i - start;
        const bool all_hex = std::all_of(text.begin() + static_cast<long>(start), text.begin() + static_cast<long>(i), hex);
        if (((n == 32 || n == 40 || n == 64) && all_hex) || n == 22 || n == 27 || n == 43) tokens.insert({start, i});
        start = i + 1;
      }
    }
    return tokens;
  };
  // Pieces that make runs of every length, alphabet and mix at every alignment of the 64-bit walk.
  std::mt19937 rng(9);
  static constexpr const char* pieces[] = {"a", "0", "f", "Z", "q", "-", "_", "+", "/", " ", "=", "&", ".",
                                           "0123456789abcdef", "bddd39b3cfca46dbae3b9450283f5917", "vd05s8/KRtuuO5RQKD9ZFw",
                                           "\xff", "\x80"};
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const std::size_t length = rng() % 300;
    while (text.size() < length) {
      const std::size_t piece = rng() % std::size(pieces);
      // Long runs need many token pieces in a row: weight the hex and base64 pieces.
      text += pieces[rng() % 3 == 0 ? piece : 13 + rng() % 3];
      if (rng() % 8 == 0) text += pieces[rng() % 13];
    }
    std::vector<Token> tokens;
    leakguard::matchers::find_digest_tokens(text, tokens);
    std::set<std::pair<std::size_t, std::size_t>> found;
    for (const Token& token : tokens) CHECK(found.insert({token.begin, token.end}).second);  // each once
    CAPTURE(text);
    CHECK(found == reference(text));
  }
}

#include "detectors/matchers/hyperscan.hpp"
#include "detectors/matchers/separated_shapes.hpp"

TEST_CASE("separated shapes: the same matches as the regular expressions they stand for") {
  using leakguard::matchers::Shape;
  using leakguard::matchers::ShapeMatch;
  // The heuristics found these with Hyperscan before; the separator walk must report exactly the
  // matches (overlapping ones too) Hyperscan reports for the expressions, in the same order.
  constexpr leakguard::matchers::Expression expressions[] = {
      {"[0-9]{2}-[0-9]{6}-[0-9]{6}-[0-9]", static_cast<std::uint32_t>(Shape::dashed_imei), false},
      {"[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}", static_cast<std::uint32_t>(Shape::mac_colon), true},
      {"[0-9a-f]{2}-[0-9a-f]{2}-[0-9a-f]{2}-[0-9a-f]{2}-[0-9a-f]{2}-[0-9a-f]{2}", static_cast<std::uint32_t>(Shape::mac_dash), true},
      {"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", static_cast<std::uint32_t>(Shape::uuid), true},
      {"[0-9]\\.[0-9]{3}", static_cast<std::uint32_t>(Shape::decimal), false},
  };
  const auto database = leakguard::matchers::Database::compile_expressions(expressions);
  const auto compare = [&](const std::string& text) {
    std::vector<leakguard::matchers::Match> expected;
    REQUIRE(database.scan(text, expected));
    std::vector<ShapeMatch> found;
    REQUIRE(leakguard::matchers::find_separated_shapes(text, found));
    CAPTURE(text);
    REQUIRE(found.size() == expected.size());
    const std::uint32_t lengths[] = {18, 17, 17, 36, 5};
    for (std::size_t i = 0; i < found.size(); ++i) {
      CHECK(static_cast<std::uint32_t>(found[i].shape) == expected[i].id);
      CHECK(found[i].end == expected[i].end);
      CHECK(found[i].end - found[i].begin == lengths[expected[i].id]);
    }
  };
  compare("imei=35-209900-176148-1&mac=AA:bb:cc:dd:ee:ff:00:11&m=aa-bb-cc-dd-ee-ff-00&lat=59.913868,10.752245&"
          "gaid=38400000-8cf0-11bd-b23e-10b96e40000d-aaaa-bbbb-cccc-dddddddddddd&v=1.2.3.4567");
  // Random text made of the pieces the shapes are made of, so that whole and broken shapes of
  // every kind occur at every alignment of the vector walk.
  std::mt19937 rng(5);
  static constexpr const char* pieces[] = {"0", "7", "a", "F", "-", ":", ".", "x", " ", "12", "aB", "-12", ":ab",
                                           "-3f", "3f2a", "123456", "1b2d4c8e", "-123456", "9.87"};
  for (int round = 0; round < 5000; ++round) {
    std::string text;
    for (std::size_t n = rng() % 60; n > 0; --n) text += pieces[rng() % std::size(pieces)];
    compare(text);
  }
  for (std::size_t pad = 0; pad < 40; ++pad)
    compare(std::string(pad, 'z') + "00:1a:2b:3c:4d:5e 35-209900-176148-1 0.1234 " + std::string(pad % 7, '-'));
}
