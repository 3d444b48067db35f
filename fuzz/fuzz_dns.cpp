// libFuzzer target for DNS messages (proxy/dns_message.*): every datagram a client or a resolver
// sends reaches ldns through this module first. It must survive any bytes, and what it builds from
// them must parse again and keep its promises (one question echoed, the id kept, chains bounded).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "proxy/dns_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leakguard;
  const std::span<const std::uint8_t> input(data, size);
  const auto message = parse_dns_message(input);
  if (message) {
    for (const auto& resolved : message->resolved())
      if (resolved.address.empty()) std::abort();
  }
  const auto reply = build_dns_error_reply(input, dns_rcode::nxdomain);
  if (size < 12) {
    if (!reply.empty()) std::abort();
    return 0;
  }
  const auto parsed = parse_dns_message(reply);
  if (!parsed || !parsed->response || parsed->rcode != dns_rcode::nxdomain || !parsed->answers.empty()) std::abort();
  if (parsed->id != (static_cast<std::uint16_t>(data[0]) << 8 | data[1])) std::abort();
  if (message && message->questions.size() == 1 &&
      (parsed->questions.size() != 1 || parsed->questions[0].lower != message->questions[0].lower))
    std::abort();
  return 0;
}
