// DNS messages as the forwarder needs them: a parsed value (header, questions, answers) and the
// few replies leakguard writes itself (NXDOMAIN, REFUSED, SERVFAIL, FORMERR). Parsing and building
// go through NLnet Labs' ldns (wire2pkt / pkt2wire); no I/O here, so the fuzzer and `scan` link it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace leakguard {

// The largest DNS message (the TCP length prefix's range); anything longer is refused unread.
inline constexpr std::size_t max_dns_message = 65535;

namespace dns_rcode {
inline constexpr std::uint8_t noerror = 0, formerr = 1, servfail = 2, nxdomain = 3, notimp = 4, refused = 5;
}
namespace dns_type {
inline constexpr std::uint16_t a = 1, cname = 5, aaaa = 28;
}

struct DnsQuestion {
  std::string name;      // presentation form without the final dot, as sent ("WwW.Example.com")
  std::string lower;     // the same, ASCII lower-cased: for matching and the address map
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
};

struct DnsAnswer {
  std::string name;      // owner, lower-cased
  std::uint16_t type = 0;
  std::uint32_t ttl = 0;
  std::string address;   // A / AAAA: the address in text form
  std::string target;    // CNAME: the target name, lower-cased
};

struct DnsMessage {
  std::uint16_t id = 0;
  bool response = false;   // QR
  std::uint8_t opcode = 0;
  bool recursion_desired = false;
  bool truncated = false;
  std::uint8_t rcode = 0;
  std::vector<DnsQuestion> questions;
  std::vector<DnsAnswer> answers;  // answer section; records of other types are kept with name and type only

  // A query leakguard inspects and forwards: QR clear, opcode QUERY, exactly one question.
  bool is_standard_query() const { return !response && opcode == 0 && questions.size() == 1; }
  // The addresses the answer section gives for the question's name, following CNAMEs in this
  // message from the question (records outside that chain are ignored), with the smallest TTL on
  // the way to each address.
  struct Resolved {
    std::string address;
    std::uint32_t ttl = 0;
  };
  std::vector<Resolved> resolved() const;
};

// nullopt for anything ldns will not parse, and for messages over max_dns_message (never given to ldns).
std::optional<DnsMessage> parse_dns_message(std::span<const std::uint8_t> wire);

// A reply to `query` with `rcode` and no records: same id, opcode, RD and question (when the query
// has exactly one), QR and RA set. When the query cannot be parsed but has a whole header, the
// reply carries its id and no question (FORMERR); shorter than a header: empty (nothing to answer).
std::vector<std::uint8_t> build_dns_error_reply(std::span<const std::uint8_t> query, std::uint8_t rcode);

// "A", "AAAA", "CNAME", ... or "TYPE65280"; "NXDOMAIN", "SERVFAIL", ... or "RCODE12".
std::string dns_type_name(std::uint16_t type);
std::string dns_rcode_name(std::uint8_t rcode);

// The message's id (first two bytes) replaced: for forwarding under a fresh id and answering under the client's.
void set_dns_id(std::span<std::uint8_t> wire, std::uint16_t id);

}  // namespace leakguard
