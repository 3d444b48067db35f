#include "proxy/dns_message.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

// ldns's common.h turns bool, true and false into macros unless stdbool.h came first.
#include <stdbool.h>
#include <ldns/ldns.h>

namespace leakguard {

namespace {

struct PacketFree {
  void operator()(ldns_pkt* packet) const { ldns_pkt_free(packet); }
};
using PacketPtr = std::unique_ptr<ldns_pkt, PacketFree>;

PacketPtr parse_packet(std::span<const std::uint8_t> wire) {
  // ldns never sees more than a DNS message can be: a longer buffer is not DNS, whatever it holds.
  if (wire.size() > max_dns_message || wire.size() < 12) return nullptr;
  ldns_pkt* packet = nullptr;
  if (ldns_wire2pkt(&packet, wire.data(), wire.size()) != LDNS_STATUS_OK) {
    ldns_pkt_free(packet);
    return nullptr;
  }
  return PacketPtr(packet);
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// A name in wire form (uncompressed labels, as ldns keeps them) to presentation form without the
// final dot. Bytes that are not letters, digits, '-' or '_' are written \DDD, and '.' or '\' inside
// a label are escaped: the text is safe in JSON and names the same labels.
std::string name_text(const ldns_rdf* rdf) {
  if (!rdf || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME) return {};
  const std::uint8_t* data = ldns_rdf_data(rdf);
  const std::size_t size = ldns_rdf_size(rdf);
  std::string out;
  std::size_t at = 0;
  while (at < size && data[at] != 0) {
    const std::size_t length = data[at++];
    if (at + length > size) break;
    if (!out.empty()) out += '.';
    for (std::size_t i = 0; i < length; ++i) {
      const unsigned char c = data[at + i];
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
        out += static_cast<char>(c);
      } else if (c == '.' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else {
        char escaped[5];
        std::snprintf(escaped, sizeof escaped, "\\%03u", c);
        out += escaped;
      }
    }
    at += length;
  }
  return out.empty() ? "." : out;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), ascii_lower);
  return text;
}

std::string address_text(const ldns_rdf* rdf, int family, std::size_t size) {
  if (!rdf || ldns_rdf_size(rdf) != size) return {};
  char buffer[INET6_ADDRSTRLEN] = {};
  if (!::inet_ntop(family, ldns_rdf_data(rdf), buffer, sizeof buffer)) return {};
  return buffer;
}

std::vector<std::uint8_t> header_only_reply(std::span<const std::uint8_t> query, std::uint8_t rcode) {
  if (query.size() < 12) return {};
  std::vector<std::uint8_t> reply(12, 0);
  reply[0] = query[0];
  reply[1] = query[1];
  // QR, the query's opcode and RD; RA; the rcode. No sections: nothing of the query is echoed.
  reply[2] = static_cast<std::uint8_t>(0x80 | (query[2] & 0x79));
  reply[3] = static_cast<std::uint8_t>(0x80 | (rcode & 0x0F));
  return reply;
}

}  // namespace

std::optional<DnsMessage> parse_dns_message(std::span<const std::uint8_t> wire) {
  const auto packet = parse_packet(wire);
  if (!packet) return std::nullopt;
  DnsMessage message;
  const ldns_pkt* p = packet.get();
  message.id = ldns_pkt_id(p);
  message.response = ldns_pkt_qr(p);
  message.opcode = static_cast<std::uint8_t>(ldns_pkt_get_opcode(p));
  message.recursion_desired = ldns_pkt_rd(p);
  message.truncated = ldns_pkt_tc(p);
  message.rcode = ldns_pkt_get_rcode(p);
  if (const ldns_rr_list* questions = ldns_pkt_question(p)) {
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(questions); ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(questions, i);
      DnsQuestion question;
      question.name = name_text(ldns_rr_owner(rr));
      question.lower = lower(question.name);
      question.qtype = static_cast<std::uint16_t>(ldns_rr_get_type(rr));
      question.qclass = static_cast<std::uint16_t>(ldns_rr_get_class(rr));
      message.questions.push_back(std::move(question));
    }
  }
  if (const ldns_rr_list* answers = ldns_pkt_answer(p)) {
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(answers); ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(answers, i);
      DnsAnswer answer;
      answer.name = lower(name_text(ldns_rr_owner(rr)));
      answer.type = static_cast<std::uint16_t>(ldns_rr_get_type(rr));
      answer.ttl = ldns_rr_ttl(rr);
      const ldns_rdf* first = ldns_rr_rd_count(rr) > 0 ? ldns_rr_rdf(rr, 0) : nullptr;
      if (answer.type == dns_type::a) answer.address = address_text(first, AF_INET, 4);
      if (answer.type == dns_type::aaaa) answer.address = address_text(first, AF_INET6, 16);
      if (answer.type == dns_type::cname) answer.target = lower(name_text(first));
      message.answers.push_back(std::move(answer));
    }
  }
  return message;
}

std::vector<DnsMessage::Resolved> DnsMessage::resolved() const {
  std::vector<Resolved> out;
  if (questions.size() != 1) return out;
  // The chain of names from the question through CNAMEs, each with the smallest TTL so far. A
  // chain is short; past 16 links (or on a loop) the rest is ignored.
  std::vector<std::pair<std::string, std::uint32_t>> chain{{questions.front().lower, UINT32_MAX}};
  for (int hop = 0; hop < 16; ++hop) {
    const auto next = std::find_if(answers.begin(), answers.end(), [&](const DnsAnswer& answer) {
      return answer.type == dns_type::cname && answer.name == chain.back().first && !answer.target.empty();
    });
    if (next == answers.end()) break;
    if (std::any_of(chain.begin(), chain.end(), [&](const auto& link) { return link.first == next->target; })) break;
    chain.emplace_back(next->target, std::min(chain.back().second, next->ttl));
  }
  for (const auto& answer : answers) {
    if (answer.address.empty()) continue;
    const auto link = std::find_if(chain.begin(), chain.end(), [&](const auto& l) { return l.first == answer.name; });
    if (link != chain.end()) out.push_back({answer.address, std::min(link->second, answer.ttl)});
  }
  return out;
}

std::vector<std::uint8_t> build_dns_error_reply(std::span<const std::uint8_t> query, std::uint8_t rcode) {
  const auto packet = parse_packet(query);
  const ldns_rr_list* questions = packet ? ldns_pkt_question(packet.get()) : nullptr;
  if (!questions || ldns_rr_list_rr_count(questions) != 1) return header_only_reply(query, rcode);
  PacketPtr reply(ldns_pkt_new());
  if (!reply) return header_only_reply(query, rcode);
  ldns_pkt_set_id(reply.get(), ldns_pkt_id(packet.get()));
  ldns_pkt_set_qr(reply.get(), true);
  ldns_pkt_set_opcode(reply.get(), ldns_pkt_get_opcode(packet.get()));
  ldns_pkt_set_rd(reply.get(), ldns_pkt_rd(packet.get()));
  ldns_pkt_set_ra(reply.get(), true);
  ldns_pkt_set_rcode(reply.get(), rcode);
  ldns_rr* question = ldns_rr_clone(ldns_rr_list_rr(questions, 0));
  if (!question || !ldns_pkt_push_rr(reply.get(), LDNS_SECTION_QUESTION, question)) {
    ldns_rr_free(question);
    return header_only_reply(query, rcode);
  }
  std::uint8_t* wire = nullptr;
  std::size_t size = 0;
  if (ldns_pkt2wire(&wire, reply.get(), &size) != LDNS_STATUS_OK || !wire) {
    std::free(wire);
    return header_only_reply(query, rcode);
  }
  std::vector<std::uint8_t> out(wire, wire + size);
  std::free(wire);
  return out;
}

std::string dns_type_name(std::uint16_t type) {
  const ldns_rr_descriptor* descriptor = ldns_rr_descript(type);
  if (descriptor && descriptor->_name) return descriptor->_name;
  return "TYPE" + std::to_string(type);
}

std::string dns_rcode_name(std::uint8_t rcode) {
  static constexpr const char* names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
  if (rcode < std::size(names)) return names[rcode];
  return "RCODE" + std::to_string(rcode);
}

void set_dns_id(std::span<std::uint8_t> wire, std::uint16_t id) {
  if (wire.size() < 2) return;
  wire[0] = static_cast<std::uint8_t>(id >> 8);
  wire[1] = static_cast<std::uint8_t>(id & 0xFF);
}

}  // namespace leakguard
