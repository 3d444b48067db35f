// Protobuf and gRPC payloads: the schema-less walker on its own, then through the Inspector with
// the lab phone's profile: identifiers as strings and as numbers, nested messages, protobuf
// arrays inside gzip'd bytes, gRPC and gRPC-web frames, base64 protobuf in a form field and in a
// -bin header, and numbers that must not be findings (near misses, timestamps, counters).
#include <doctest/doctest.h>

#include <bit>
#include <cstdio>
#include <fstream>
#include <random>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "detectors/decoders/base64.hpp"
#include "detectors/decoders/protobuf.hpp"
#include "tests/detectors/test_support.hpp"
#include "tests/support/protobuf_wire.hpp"

using namespace leakguard;
namespace pb = leakguard::test::pb;
namespace wire = leakguard::decoders::protobuf;

namespace {

constexpr std::uint64_t imei = 353209091234567ull;
constexpr std::uint64_t android_id = 0x9774d56d682e549cull;
constexpr std::uint64_t mac = 0xa45046123456ull;

struct Walked {
  std::vector<std::string> paths;
  std::vector<wire::Leaf> leaves;
  wire::WalkResult result;
};

Walked walk(std::string_view bytes, wire::WalkLimits limits = {}) {
  Walked out;
  out.result = wire::walk(bytes, limits, [&](const wire::Leaf& leaf) {
    out.paths.emplace_back(leaf.path);
    out.leaves.push_back(leaf);
  });
  return out;
}

InspectionResult inspect(const HttpRequest& request) {
  static const Inspector inspector(test::config_from(test::lab_phone_yaml));
  InspectionContext context;
  context.device = inspector.device("lab-phone-01");
  return inspector.inspect_request(request, context);
}

HttpRequest post(std::string content_type, std::string body, std::vector<HttpHeader> more = {}) {
  more.push_back({"Content-Type", std::move(content_type)});
  return test::make_request("POST", "/checkin", std::move(more), std::move(body));
}

// A check-in shaped message: build info strings, a nested device message with the IMEI as text
// and the Android ID as an int64, timestamps and counters around them.
std::string checkin(std::uint64_t id, std::string_view imei_text) {
  const std::string build = pb::bytes(1, "google/sdk_gphone64_x86_64/emu64xa:14/UE1A.230829.036") + pb::number(7, 34);
  const std::string device = pb::bytes(6, imei_text);
  const std::string inner = pb::bytes(16, device) + pb::number(2, 1701857230000ull);
  return pb::fixed64(2, id) + pb::bytes(3, build) + pb::bytes(4, inner) + pb::number(9, 3);
}

}  // namespace

TEST_CASE("protobuf walk: nested messages, arrays, packed varints, paths") {
  const std::string nested = pb::bytes(1, "hello") + pb::number(2, 150);
  const std::string array = pb::delimited(pb::number(1, 7)) + pb::delimited(pb::number(1, 8) + pb::bytes(2, "x"));
  const std::string packed = pb::varint(1) + pb::varint(300) + pb::varint(70000);
  const std::string message = pb::bytes(4, pb::bytes(16, pb::bytes(6, "deep text"))) + pb::bytes(5, nested) +
                              pb::bytes(6, array) + pb::bytes(7, packed) + pb::fixed32(8, 5) + pb::fixed64(9, 6);
  const Walked walked = walk(message);
  REQUIRE(walked.result.message);
  CHECK_FALSE(walked.result.limit);
  const std::vector<std::string> paths = {"4.16.6", "5.1", "5.2", "6[0].1", "6[1].1", "6[1].2", "7", "7", "7", "8", "9"};
  CHECK(walked.paths == paths);
  CHECK(walked.leaves[0].kind == wire::Leaf::Kind::text);
  CHECK(message.substr(walked.leaves[0].offset, walked.leaves[0].size) == "deep text");
  CHECK(walked.leaves[2].value == 150);
  CHECK(walked.leaves[8].value == 70000);
  CHECK(walked.leaves[9].wire == wire::Wire::fixed32);
  CHECK(walked.leaves[0].message != walked.leaves[1].message);
  CHECK(walked.leaves[1].message == walked.leaves[2].message);
  // Offsets come in order: fields of a buffer stay sorted and disjoint.
  for (std::size_t i = 1; i < walked.leaves.size(); ++i) CHECK(walked.leaves[i].offset >= walked.leaves[i - 1].offset);
}

TEST_CASE("protobuf walk: only bytes that parse to their end") {
  const std::string good = pb::number(1, 5) + pb::bytes(2, "abc");
  CHECK(wire::is_message(good));
  CHECK_FALSE(wire::is_message(good + "\x08"));                  // truncated varint
  CHECK_FALSE(wire::is_message(good.substr(0, good.size() - 1)));  // length past the end
  CHECK_FALSE(wire::is_message(pb::tag(3, 3) + pb::tag(3, 4)));  // a group
  CHECK_FALSE(wire::is_message(pb::tag(0, 0) + pb::varint(1)));  // field 0
  CHECK_FALSE(wire::is_message(pb::tag(1, 6)));                  // wire type 6
  CHECK_FALSE(wire::is_message(""));
  CHECK_FALSE(wire::is_message(std::string(11, '\xff') + "\x01"));  // an 11-byte varint
  CHECK_FALSE(walk("The quick brown fox").result.message);
  // Text comes first: "(d" parses (field 5 = 100) but is a string to the walker.
  const Walked text = walk(pb::bytes(1, "(d"));
  REQUIRE(text.leaves.size() == 1);
  CHECK(text.leaves[0].kind == wire::Leaf::Kind::text);
}

TEST_CASE("protobuf walk: a tag varint longer than 32 bits keeps its low 32 bits, as libprotobuf reads it") {
  // Field 2, wire type 2, written as a 6-byte varint whose high bits libprotobuf and protobuf-java
  // discard: the receiving server sees field 2 = "353209091234567", so must we.
  const std::string long_tag = std::string("\x92\x80\x80\x80\x80\x01", 6) + "\x0f" + "353209091234567";
  const auto walked = walk(long_tag);
  REQUIRE(walked.result.message);
  REQUIRE(walked.paths.size() == 1);
  CHECK(walked.paths[0] == "2");
  // Only the wire type and number of the low 32 bits count: field 0 there is still no field.
  CHECK_FALSE(wire::is_message(std::string("\x82\x80\x80\x80\x80\x01\x00", 7)));
}

TEST_CASE("protobuf walk: depth and work are bounded") {
  std::string message = pb::number(1, 1);
  for (int i = 0; i < 40; ++i) message = pb::bytes(1, message + pb::number(2, 2));
  wire::WalkLimits limits;
  limits.max_depth = 8;
  const Walked walked = walk(message, limits);
  CHECK(walked.result.message);
  CHECK(walked.result.limit);
  for (const auto& leaf : walked.leaves) CHECK(leaf.depth <= 8);
  limits.max_depth = 64;
  limits.max_work = message.size() * 3;
  CHECK(walk(message, limits).result.limit);
}

TEST_CASE("check-in: the IMEI as a string field and the Android ID as a fixed64 and a varint") {
  const std::string body = checkin(android_id, "353209091234567");
  const auto result = inspect(post("application/x-protobuf", body));
  INFO(test::describe(result));
  const Finding* text = test::find(result, IdentifierKind::imei, "protobuf", "body.protobuf:4.16.6");
  REQUIRE(text);
  // A string field is masked in place: its bytes are where they were sent.
  REQUIRE(text->locations.size() == 1);
  CHECK(body.substr(text->locations[0].offset, text->locations[0].length) == "353209091234567");
  const Finding* number = test::find(result, IdentifierKind::android_id, "protobuf>fixed64", "body.protobuf:2");
  REQUIRE(number);
  CHECK(number->locations.empty());  // a number cannot be masked in place
  CHECK(number->masked_value.find("9774d56d682e549c") == std::string::npos);

  const auto varint = inspect(post("application/vnd.google.protobuf", pb::number(1, android_id)));
  CHECK(test::find(varint, IdentifierKind::android_id, "protobuf>varint", "body.protobuf:1"));
}

TEST_CASE("identifiers as numbers: varint, zigzag, fixed64; MAC as a 48-bit integer") {
  const std::string body = pb::number(1, imei) + pb::bytes(2, pb::number(3, pb::zigzag(242016601234567ll))) +
                           pb::fixed64(4, 8947016601234567890ull) + pb::number(5, 4791234567ull) + pb::number(6, mac);
  const auto result = inspect(post("application/x-protobuffer", body));
  INFO(test::describe(result));
  CHECK(test::find(result, IdentifierKind::imei, "protobuf>varint", "body.protobuf:1"));
  CHECK(test::find(result, IdentifierKind::imsi, "protobuf>zigzag", "body.protobuf:2.3"));
  CHECK(test::find(result, IdentifierKind::iccid, "protobuf>fixed64", "body.protobuf:4"));
  CHECK(test::find(result, IdentifierKind::msisdn, "protobuf>varint", "body.protobuf:5"));
  CHECK(test::find(result, IdentifierKind::mac, "protobuf>varint", "body.protobuf:6"));
}

TEST_CASE("near misses, timestamps, counters and random ids are no finding") {
  std::mt19937_64 random(15);
  std::string body = pb::number(1, imei + 1) + pb::number(2, android_id + 1) + pb::fixed64(3, android_id - 1) +
                     pb::number(4, mac ^ 1) + pb::number(5, 1701857230123ull) + pb::number(6, 42);
  for (std::uint32_t f = 10; f < 60; ++f) body += (f % 2) ? pb::number(f, random()) : pb::fixed64(f, random());
  // Other phones' numbers and a location 1 km away.
  body += pb::bytes(7, pb::double_field(1, 59.922868) + pb::double_field(2, 10.752245));
  body += pb::bytes(8, pb::number(1, 242) + pb::number(2, 1) + pb::number(3, 1234) + pb::number(4, 56788));
  const auto result = inspect(post("application/x-protobuf", body));
  INFO(test::describe(result));
  CHECK(result.findings.empty());
}

TEST_CASE("location as doubles, floats and E7 integers inside one message") {
  const auto doubles = inspect(post("application/x-protobuf",
                                    pb::bytes(3, pb::double_field(1, 59.9139) + pb::double_field(2, 10.7523))));
  CHECK(test::find(doubles, IdentifierKind::location, "protobuf>double", "body.protobuf:3.1"));
  const auto floats = inspect(post("application/x-protobuf",
                                   pb::bytes(3, pb::float_field(1, 59.913868f) + pb::float_field(2, 10.752245f))));
  CHECK(test::find(floats, IdentifierKind::location, "protobuf>float"));
  const auto e7 = inspect(post("application/x-protobuf",
                               pb::bytes(3, pb::number(1, 599138680) + pb::number(2, 107522450) + pb::number(3, 12))));
  CHECK(test::find(e7, IdentifierKind::location, "protobuf>e7", "body.protobuf:3.1"));
  const auto zigzag = inspect(post("application/x-protobuf",
                                   pb::bytes(3, pb::number(1, pb::zigzag(599138680)) + pb::number(2, pb::zigzag(107522450)))));
  CHECK(test::find(zigzag, IdentifierKind::location, "protobuf>zigzag-e7"));
  const auto fixed = inspect(post("application/x-protobuf", pb::fixed32(1, 599138680) + pb::fixed32(2, 107522450)));
  CHECK(test::find(fixed, IdentifierKind::location, "protobuf>fixed32-e7"));
  // A latitude in one message and a longitude in another are not a location.
  const auto apart = inspect(post("application/x-protobuf",
                                  pb::bytes(3, pb::double_field(1, 59.9139)) + pb::bytes(4, pb::double_field(2, 10.7523))));
  CHECK_FALSE(test::find(apart, IdentifierKind::location));
}

TEST_CASE("cell tower as its numbers in one message") {
  const std::string cell = pb::number(1, 242) + pb::number(2, 1) + pb::number(3, 1234) + pb::number(4, 56789);
  const auto result = inspect(post("application/x-protobuf", pb::bytes(5, pb::bytes(2, cell))));
  INFO(test::describe(result));
  CHECK(test::find(result, IdentifierKind::cell, "protobuf>varint", "body.protobuf:5.2.4"));
  // The cell id without its network is a number like any other.
  const auto alone = inspect(post("application/x-protobuf", pb::bytes(5, pb::number(4, 56789) + pb::number(1, 7))));
  CHECK_FALSE(test::find(alone, IdentifierKind::cell));
}

TEST_CASE("logger batch: gzip'd body, a protobuf array in a bytes field, gzip'd events inside") {
  std::string events;
  for (int i = 0; i < 5; ++i) {
    std::string event = pb::number(1, 1701857230000ull + i) + pb::bytes(6, pb::bytes(2, "screen_view"));
    if (i == 3) event += pb::bytes(9, pb::bytes(1, pb::number(3, android_id)));
    events += pb::delimited(event);
  }
  const std::string inner = pb::bytes(1, pb::number(2, mac)) + pb::number(3, 77);
  const std::string batch = pb::bytes(1, "logger") + pb::bytes(4, events) + pb::bytes(5, test::gzip(inner));
  auto request = post("application/x-protobuf", test::gzip(batch), {{"Content-Encoding", "gzip"}});
  const auto result = inspect(request);
  INFO(test::describe(result));
  CHECK(test::find(result, IdentifierKind::android_id, "gzip>protobuf>varint", "body.protobuf:4[3].9.1.3"));
  CHECK(test::find(result, IdentifierKind::mac, "gzip>protobuf>gzip>protobuf>varint", "body.protobuf:5.protobuf:1.2"));
}

TEST_CASE("gRPC-web frames, plain, compressed and as text") {
  const std::string message = pb::bytes(1, pb::bytes(2, "353209091234567")) + pb::number(3, android_id);
  const std::string trailer = pb::grpc_frame("grpc-status:0\r\n", false, true);
  const auto plain = inspect(post("application/grpc-web+proto", pb::grpc_frame(message) + trailer));
  INFO(test::describe(plain));
  CHECK(test::find(plain, IdentifierKind::imei, "grpc>protobuf", "body.protobuf:1.2"));
  CHECK(test::find(plain, IdentifierKind::android_id, "grpc>protobuf>varint", "body.protobuf:3"));
  CHECK(plain.findings.size() == 2);  // the framed body itself is not reported again

  const std::string two = pb::grpc_frame(pb::number(1, 5)) + pb::grpc_frame(test::gzip(message), true);
  const auto compressed = inspect(post("application/grpc", two, {{"grpc-encoding", "gzip"}}));
  INFO(test::describe(compressed));
  CHECK(test::find(compressed, IdentifierKind::imei, "grpc>gzip>protobuf", "body.protobuf:1.2"));
  const auto deflated = inspect(post("application/grpc+proto", pb::grpc_frame(test::gzip(message, MAX_WBITS), true),
                                     {{"grpc-encoding", "deflate"}}));
  CHECK(test::find(deflated, IdentifierKind::imei, "grpc>deflate>protobuf"));

  // grpc-web-text: base64 of the frames, possibly one padded chunk per write.
  const std::string text = decoders::base64_encode(pb::grpc_frame(message)) + decoders::base64_encode(trailer);
  const auto web_text = inspect(post("application/grpc-web-text", text));
  INFO(test::describe(web_text));
  CHECK(test::find(web_text, IdentifierKind::imei, "base64>grpc>protobuf", "body.protobuf:1.2"));
}

TEST_CASE("base64 protobuf in a form field, an octet-stream body and -bin metadata") {
  const std::string message = pb::bytes(1, "353209091234567") + pb::number(2, android_id);
  const auto form = inspect(post("application/x-www-form-urlencoded", "v=3&payload=" + decoders::base64_encode(message, true, false)));
  INFO(test::describe(form));
  CHECK(test::find(form, IdentifierKind::android_id, "form>base64>protobuf>varint", "body.form:payload.protobuf:2"));
  CHECK(test::find(form, IdentifierKind::imei, "form>base64>protobuf", "body.form:payload.protobuf:1"));

  const auto octets = inspect(post("application/octet-stream", message));
  CHECK(test::find(octets, IdentifierKind::android_id, "protobuf>varint", "body.protobuf:2"));

  const std::string other = pb::number(1, 7);
  auto bin = test::make_request("GET", "/", {{"x-device-bin", decoders::base64_encode(other) + ", " +
                                                                  decoders::base64_encode(pb::number(4, imei), false, false)}});
  const auto metadata = inspect(bin);
  INFO(test::describe(metadata));
  CHECK(test::find(metadata, IdentifierKind::imei, "base64>protobuf>varint", "header:x-device-bin.protobuf:4"));
}

TEST_CASE("heuristics: a string field without a key is judged by format and checksum") {
  Inspector inspector(test::config_from("devices: []\n"));
  InspectionContext context;
  const std::string body = pb::bytes(1, pb::bytes(3, "866543041234560")) + pb::bytes(2, "123456789012345");
  const auto result = inspector.inspect_request(post("application/x-protobuf", body), context);
  INFO(test::describe(result));
  CHECK(test::find(result, IdentifierKind::imei, "protobuf", "body.protobuf:1.3"));
  CHECK(result.findings.size() == 1);
}

TEST_CASE("text bodies are not taken for protobuf") {
  // "hi" parses as field 13 = 105; a text body stays text.
  const auto result = inspect(post("application/octet-stream", "hi imei 353209091234567"));
  INFO(test::describe(result));
  REQUIRE(result.findings.size() == 1);
  CHECK(result.findings[0].encoding == "plain");
  CHECK(result.findings[0].where == "body");
}

// The false-accept rate the README and bench/RESULTS.md quote: how often bytes that are not
// protobuf parse to their end. A text body must never be sniffed as protobuf (the sniffer wants
// binary); random bytes and text do parse now and then when short, which is why a declared
// content type, decoded base64 or gzip is what makes the decoder look.
TEST_CASE("false accepts: the shared corpus, random text and random bytes") {
  std::size_t bodies = 0;
  std::size_t parsed = 0;
  std::size_t findings_in_protobuf = 0;
  const auto cases = nlohmann::json::parse(test::read_file(LEAKGUARD_SHARED_DIR "/corpus/cases.json"));
  for (const auto& entry : cases) {
    const std::string bytes = test::read_file(LEAKGUARD_SHARED_DIR "/corpus/" + entry["file"].get<std::string>());
    std::vector<std::string> pieces = {bytes};
    if (looks_like_http_request(bytes))
      for (const auto& request : parse_captured_requests(bytes, 1 << 20).requests) {
        pieces.push_back(request.body);
        for (const auto& header : request.head.headers) pieces.push_back(header.value);
      }
    for (const auto& piece : pieces) {
      if (piece.empty()) continue;
      ++bodies;
      parsed += wire::is_message(piece);
    }
    // Through the Inspector: no finding of the corpus comes out of a protobuf layer.
    const auto result = test::scan_capture(Inspector(test::config_from(test::lab_phone_yaml)), bytes, {});
    for (const auto& finding : result.findings) findings_in_protobuf += finding.encoding.find("protobuf") != std::string::npos;
  }
  MESSAGE("shared corpus: " << parsed << " of " << bodies << " bodies, files and header values parse as protobuf");
  CHECK(findings_in_protobuf == 0);

  std::mt19937_64 random(1515);
  const std::string_view words = "the quick brown fox jumps over lazy dog 0123456789 imei=&?:/.,-_";
  for (const std::size_t length : {4u, 16u, 64u, 256u}) {
    std::size_t text_parsed = 0;
    std::size_t bytes_parsed = 0;
    constexpr int trials = 100000;
    for (int t = 0; t < trials; ++t) {
      std::string text(length, ' ');
      std::string binary(length, '\0');
      for (std::size_t i = 0; i < length; ++i) {
        text[i] = words[random() % words.size()];
        binary[i] = static_cast<char>(random());
      }
      text_parsed += wire::is_message(text);
      bytes_parsed += wire::is_message(binary);
    }
    MESSAGE(length << " bytes: random text parses " << text_parsed << "/" << trials << ", random bytes " << bytes_parsed
                   << "/" << trials);
    if (length >= 64) CHECK(bytes_parsed * 500 < trials);  // under 0.2%
  }
}

// Descriptor sets: written by protoc from tests/data/protobuf/schema/*.proto (make_sets.sh there).
namespace {

const std::string schema_dir = std::string(LEAKGUARD_SOURCE_DIR) + "/tests/data/protobuf/schema/";
const std::string checkin_set = schema_dir + "checkin.pb";

std::string temp_file(std::string_view name, std::string_view content) {
  const std::string path = "/tmp/leakguard-protobuf-test-" + std::to_string(::getpid()) + "-" + std::string(name);
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

std::string schema_yaml(const std::string& devices, const std::string& file) {
  return devices + "protobuf:\n  descriptor_sets: [\"" + file + "\"]\n  messages: { \"/checkin\": checkin.CheckinRequest }\n";
}

std::string schema_error(const std::string& yaml) {
  try {
    Inspector inspector(test::config_from(yaml));
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("descriptor sets: field names in where, and as key context") {
  const std::string& file = checkin_set;
  const std::string message = pb::bytes(4, pb::bytes(6, "353209091234567") + pb::bytes(7, pb::bytes(3, "242016601234567")));
  Inspector profiled(test::config_from(schema_yaml(test::lab_phone_yaml, file)));
  InspectionContext context;
  context.device = profiled.device("lab-phone-01");
  const auto known = profiled.inspect_request(post("application/x-protobuf", message), context);
  INFO(test::describe(known));
  CHECK(test::find(known, IdentifierKind::imei, "protobuf", "body.protobuf:checkin.Device.imei"));
  CHECK(test::find(known, IdentifierKind::imsi, "protobuf", "body.protobuf:checkin.Network.imsi"));
  // A nested message type (Device.Radio) is named with its full name.
  const auto radio = profiled.inspect_request(
      post("application/x-protobuf", pb::bytes(4, pb::bytes(8, pb::bytes(2, "8947016601234567890")))), context);
  INFO(test::describe(radio));
  CHECK(test::find(radio, IdentifierKind::iccid, "protobuf", "body.protobuf:checkin.Device.Radio.iccid"));

  // gRPC: the method's input type names the frame's fields.
  auto call = post("application/grpc-web+proto", pb::grpc_frame(message));
  call.head.target = "/checkin.Checkin/Check";
  CHECK(test::find(profiled.inspect_request(call, context), IdentifierKind::imei, "grpc>protobuf",
                   "body.protobuf:checkin.Device.imei"));

  // Heuristics: a 15-digit number with no checksum is an IMSI only because the field says so.
  Inspector plain(test::config_from(schema_yaml("devices: []\n", file)));
  const auto named = plain.inspect_request(post("application/x-protobuf", message), {});
  INFO(test::describe(named));
  CHECK(test::find(named, IdentifierKind::imsi, "protobuf", "body.protobuf:checkin.Network.imsi"));
  Inspector unnamed(test::config_from("devices: []\n"));
  CHECK_FALSE(test::find(unnamed.inspect_request(post("application/x-protobuf", message), {}), IdentifierKind::imsi));
}

TEST_CASE("descriptor sets: a bad file is a configuration error naming it") {
  const std::string missing = "/tmp/leakguard-protobuf-test-missing.pb";
  CHECK(schema_error(schema_yaml("", missing)).find(missing + ": cannot be read") != std::string::npos);
  const std::string text = temp_file("text.pb", "syntax = \"proto3\"; message A {}");
  CHECK(schema_error(schema_yaml("", text)).find(text + ": not a FileDescriptorSet") != std::string::npos);
  const std::string wrong_type = "protobuf:\n  descriptor_sets: [\"" + checkin_set + "\"]\n  messages: { \"/x\": checkin.Nope }\n";
  CHECK(schema_error(wrong_type).find("no descriptor set defines message checkin.Nope") != std::string::npos);
  // libprotobuf checks the set: an import it does not carry is named, with how to include it.
  const std::string no_imports = schema_dir + "checkin-no-imports.pb";
  const std::string error = schema_error(schema_yaml("", no_imports));
  INFO(error);
  CHECK(error.find(no_imports + ": checkin.proto: ") != std::string::npos);
  CHECK(error.find("common.proto") != std::string::npos);
  CHECK(error.find("protoc --include_imports") != std::string::npos);
  std::remove(text.c_str());
}

TEST_CASE("descriptor sets: a file in two sets is read once; a different file of the same name is refused") {
  const std::string twice = "protobuf:\n  descriptor_sets: [\"" + checkin_set + "\", \"" + checkin_set + "\"]\n";
  CHECK(schema_error(twice) == "no error");
  const std::string other = schema_dir + "checkin-no-imports.pb";  // its checkin.proto is the same file
  const std::string both = "protobuf:\n  descriptor_sets: [\"" + checkin_set + "\", \"" + other + "\"]\n";
  CHECK(schema_error(both) == "no error");
}
