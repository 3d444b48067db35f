// DNS message parsing and the replies leakguard writes itself (proxy/dns_message.*), on messages
// built byte by byte here: names, CNAME chains, and the malformed shapes the forwarder must survive.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "proxy/dns_message.hpp"
#include "tests/support/dns_wire.hpp"

using namespace leakguard;

namespace {

using namespace leakguard::test;
using Bytes = DnsBytes;

Bytes header(unsigned id, unsigned flags, unsigned qd, unsigned an) { return dns_header(id, flags, qd, an); }

Bytes query(const std::string& name, unsigned qtype, unsigned id = 0x1234) {
  auto out = header(id, 0x0100, 1, 0);
  put_question(out, name, qtype);
  return out;
}

void put_record(Bytes& out, const std::string& owner, unsigned type, unsigned ttl, const Bytes& rdata) {
  leakguard::test::put_record(out, name_bytes(owner), type, ttl, rdata);
}

}  // namespace

TEST_CASE("a query: id, flags, the question with its original case and lower-cased") {
  const auto wire = query("WwW.Example.COM", dns_type::aaaa);
  const auto message = parse_dns_message(wire);
  REQUIRE(message);
  CHECK(message->id == 0x1234);
  CHECK_FALSE(message->response);
  CHECK(message->recursion_desired);
  CHECK(message->is_standard_query());
  REQUIRE(message->questions.size() == 1);
  CHECK(message->questions[0].name == "WwW.Example.COM");
  CHECK(message->questions[0].lower == "www.example.com");
  CHECK(message->questions[0].qtype == dns_type::aaaa);
  CHECK(dns_type_name(message->questions[0].qtype) == "AAAA");
}

TEST_CASE("odd bytes in a label are escaped, so the name is plain text") {
  Bytes wire = header(7, 0x0100, 1, 0);
  const std::string label = std::string("a.b\\c") + '\x01' + "\xff";
  wire.push_back(static_cast<std::uint8_t>(label.size()));
  wire.insert(wire.end(), label.begin(), label.end());
  put_question(wire, "example", dns_type::a);
  const auto message = parse_dns_message(wire);
  REQUIRE(message);
  CHECK(message->questions.at(0).name == "a\\.b\\\\c\\001\\255.example");
}

TEST_CASE("an answer with a CNAME chain resolves the question's name to the chain's addresses") {
  Bytes wire = header(9, 0x8180, 1, 5);
  put_question(wire, "zzhc.example.cn", dns_type::a);
  put_record(wire, "zzhc.example.cn", dns_type::cname, 300, name_bytes("edge.CDN.example.net"));
  put_record(wire, "edge.cdn.example.net", dns_type::cname, 60, name_bytes("node7.cdn.example.net"));
  put_record(wire, "node7.cdn.example.net", dns_type::a, 120, Bytes{203, 0, 113, 7});
  put_record(wire, "node7.cdn.example.net", dns_type::aaaa, 30,
             Bytes{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7});
  // Not on the chain: a resolver must not be able to attach a name to any address it likes.
  put_record(wire, "other.example.org", dns_type::a, 900, Bytes{198, 51, 100, 1});
  const auto message = parse_dns_message(wire);
  REQUIRE(message);
  CHECK(message->response);
  REQUIRE(message->answers.size() == 5);
  CHECK(message->answers[0].target == "edge.cdn.example.net");
  const auto resolved = message->resolved();
  REQUIRE(resolved.size() == 2);
  CHECK(resolved[0].address == "203.0.113.7");
  CHECK(resolved[0].ttl == 60);  // the smallest TTL on the way
  CHECK(resolved[1].address == "2001:db8::7");
  CHECK(resolved[1].ttl == 30);
}

TEST_CASE("a CNAME loop ends the chain") {
  Bytes wire = header(9, 0x8180, 1, 3);
  put_question(wire, "a.example", dns_type::a);
  put_record(wire, "a.example", dns_type::cname, 60, name_bytes("b.example"));
  put_record(wire, "b.example", dns_type::cname, 60, name_bytes("a.example"));
  put_record(wire, "b.example", dns_type::a, 60, Bytes{192, 0, 2, 1});
  const auto message = parse_dns_message(wire);
  REQUIRE(message);
  const auto resolved = message->resolved();
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].address == "192.0.2.1");
}

TEST_CASE("malformed messages are refused, never read past their end") {
  const auto good = query("example.com", dns_type::a);
  for (std::size_t cut = 0; cut < good.size(); ++cut)
    CHECK_FALSE(parse_dns_message(std::span(good.data(), cut)));
  // A compression pointer to itself.
  Bytes loop = header(1, 0x0100, 1, 0);
  loop.push_back(0xC0);
  loop.push_back(12);
  put16(loop, 1);
  put16(loop, 1);
  CHECK_FALSE(parse_dns_message(loop));
  // A count that promises more records than there are bytes.
  Bytes counts = query("example.com", dns_type::a);
  counts[7] = 200;
  CHECK_FALSE(parse_dns_message(counts));
  // Longer than any DNS message: not handed to the parser at all.
  Bytes huge = good;
  huge.resize(max_dns_message + 1);
  CHECK_FALSE(parse_dns_message(huge));
}

TEST_CASE("zero or two questions parse, but are not a query to inspect") {
  const auto none = parse_dns_message(header(5, 0x0100, 0, 0));
  REQUIRE(none);
  CHECK_FALSE(none->is_standard_query());
  Bytes two = header(5, 0x0100, 2, 0);
  for (const char* name : {"a.example", "b.example"}) put_question(two, name, dns_type::a);
  const auto parsed = parse_dns_message(two);
  REQUIRE(parsed);
  CHECK(parsed->questions.size() == 2);
  CHECK_FALSE(parsed->is_standard_query());
}

TEST_CASE("error replies keep the id and the question and set the rcode") {
  const auto wire = query("ImEi.Example.cn", dns_type::a, 0xBEEF);
  const auto reply = parse_dns_message(build_dns_error_reply(wire, dns_rcode::nxdomain));
  REQUIRE(reply);
  CHECK(reply->id == 0xBEEF);
  CHECK(reply->response);
  CHECK(reply->recursion_desired);
  CHECK(reply->rcode == dns_rcode::nxdomain);
  REQUIRE(reply->questions.size() == 1);
  CHECK(reply->questions[0].name == "ImEi.Example.cn");
  CHECK(reply->answers.empty());
  CHECK(dns_rcode_name(reply->rcode) == "NXDOMAIN");

  // Unparseable with a whole header: the id comes back with FORMERR and no question.
  Bytes garbage = header(0x4242, 0x0100, 1, 0);
  garbage.push_back(0x3F);
  const auto formerr = parse_dns_message(build_dns_error_reply(garbage, dns_rcode::formerr));
  REQUIRE(formerr);
  CHECK(formerr->id == 0x4242);
  CHECK(formerr->rcode == dns_rcode::formerr);
  CHECK(formerr->questions.empty());
  // Shorter than a header: nothing to answer.
  CHECK(build_dns_error_reply(std::span(garbage.data(), 5), dns_rcode::formerr).empty());
}

TEST_CASE("the id can be replaced in place") {
  auto wire = query("example.com", dns_type::a, 1);
  set_dns_id(wire, 0xA55A);
  REQUIRE(parse_dns_message(wire));
  CHECK(parse_dns_message(wire)->id == 0xA55A);
  CHECK(dns_type_name(65280) == "TYPE65280");
}
