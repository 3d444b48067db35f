// What happens to an exchange: the `rules:` of the configuration (first match wins) applied to the
// destination and to each finding, and `mode` for findings no rule matches. Pure functions over the
// configuration, so the proxy and the tests decide the same way. Detectors never decide this.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "config/config.hpp"
#include "detectors/finding.hpp"

namespace leakguard {

// What leakguard knows about where an exchange goes, before looking inside it.
struct ExchangeFacts {
  std::string_view device;   // device profile name; empty when the client matched none
  std::string_view host;     // Host / SNI / CONNECT name; empty when unknown
  std::optional<boost::asio::ip::address> ip;
  std::uint16_t port = 0;
  std::string_view country;  // ISO alpha-2 from the GeoIP database; empty when unknown
  std::string_view transport;  // http, https, tcp, tls-passthrough
};

struct PolicyDecision {
  Action action = Action::log;
  const Rule* rule = nullptr;  // null: no rule matched (the action comes from `mode`, or "forward")
};

// Rules that need no finding (no identifier or method_of_detection condition) applied to the
// destination alone: a block here stops the exchange before anything is read from its body.
// Without a matching rule the exchange is simply forwarded (`allow`).
PolicyDecision decide_destination(const Config& config, const ExchangeFacts& facts);

// The first rule matching the finding (device, kind, destination, transport, method), or `mode`.
PolicyDecision decide_finding(const Config& config, const ExchangeFacts& facts, const Finding& finding);

// The outcome for one request carrying findings, and per finding what the event says happened.
struct ExchangeVerdict {
  enum class Outcome { forward, block, redact };
  Outcome outcome = Outcome::forward;
  const Rule* rule = nullptr;       // the rule that decided a block or redaction, if any
  std::string reason;               // identifier kinds and rule, for the 403 text and events
  std::vector<std::string> finding_actions;  // "blocked" | "redacted" | "logged" | "allowed", per finding
};

// Combines the destination decision and every finding's decision. Redaction is possible only when
// every finding to redact has byte locations in the request as sent; otherwise the rule's
// `otherwise` action applies. Block beats redact beats log beats allow.
ExchangeVerdict decide_exchange(const Config& config, const ExchangeFacts& facts, const std::vector<Finding>& findings);

// "rule 'name'", "rule at line N", or "mode" when no rule decided: for 403 texts and events.
std::string rule_label(const Rule* rule);

// Whether this configuration can ever block or redact: only then does the proxy hold requests back
// for inspection before forwarding (log mode streams).
bool policy_may_hold(const Config& config);

}  // namespace leakguard
