#include "proxy/policy.hpp"

#include <algorithm>

#include "certs/host_glob.hpp"

namespace leakguard {

namespace {

bool rule_matches_destination(const Rule& rule, const ExchangeFacts& facts) {
  if (!rule.devices.empty() &&
      std::find(rule.devices.begin(), rule.devices.end(), facts.device) == rule.devices.end())
    return false;
  if (!rule.hosts.empty() && !std::any_of(rule.hosts.begin(), rule.hosts.end(), [&](const std::string& glob) {
        return !facts.host.empty() && host_glob_match(glob, facts.host);
      }))
    return false;
  if (!rule.networks.empty() && !std::any_of(rule.networks.begin(), rule.networks.end(), [&](const IpNetwork& n) {
        return facts.ip && n.contains(*facts.ip);
      }))
    return false;
  if (!rule.ports.empty() && std::find(rule.ports.begin(), rule.ports.end(), facts.port) == rule.ports.end())
    return false;
  if (!rule.countries.empty() &&
      std::find(rule.countries.begin(), rule.countries.end(), facts.country) == rule.countries.end())
    return false;
  if (!rule.transports.empty() &&
      std::find(rule.transports.begin(), rule.transports.end(), facts.transport) == rule.transports.end())
    return false;
  return true;
}

bool rule_needs_finding(const Rule& rule) { return !rule.identifiers.empty() || rule.method_of_detection.has_value(); }

// Redaction masks the identifier where it stands. A hashed or compressed form has no such place
// (masking a hash only proves the hash was there; compressed bytes cannot be masked in place), so
// those findings take the rule's `otherwise` action, as does any finding without a byte location.
bool redactable(const Finding& finding) {
  if (finding.locations.empty()) return false;
  std::string_view encoding = finding.encoding;
  while (!encoding.empty()) {
    const auto end = encoding.find('>');
    const auto layer = encoding.substr(0, end);
    for (std::string_view opaque : {"md5", "sha1", "sha256", "gzip", "deflate", "br"})
      if (layer.substr(0, opaque.size()) == opaque) return false;
    if (end == std::string_view::npos) break;
    encoding.remove_prefix(end + 1);
  }
  return true;
}

int severity(Action action) {
  switch (action) {
    case Action::allow: return 0;
    case Action::log: return 1;
    case Action::redact: return 2;
    case Action::block: return 3;
  }
  return 1;
}

}  // namespace

std::string rule_label(const Rule* rule) {
  if (!rule) return "mode";
  return rule->name.empty() ? "rule at line " + std::to_string(rule->line) : "rule '" + rule->name + "'";
}

PolicyDecision decide_destination(const Config& config, const ExchangeFacts& facts) {
  for (const auto& rule : config.rules)
    if (!rule_needs_finding(rule) && rule_matches_destination(rule, facts)) return {rule.action, &rule};
  return {Action::allow, nullptr};
}

PolicyDecision decide_finding(const Config& config, const ExchangeFacts& facts, const Finding& finding) {
  for (const auto& rule : config.rules) {
    if (!rule_matches_destination(rule, facts)) continue;
    if (!rule.identifiers.empty() &&
        std::find(rule.identifiers.begin(), rule.identifiers.end(), finding.kind) == rule.identifiers.end())
      continue;
    if (rule.method_of_detection && *rule.method_of_detection != to_string(finding.method)) continue;
    return {rule.action, &rule};
  }
  return {config.mode, nullptr};
}

ExchangeVerdict decide_exchange(const Config& config, const ExchangeFacts& facts, const std::vector<Finding>& findings) {
  ExchangeVerdict verdict;
  const auto destination = decide_destination(config, facts);
  Action worst = destination.action == Action::block ? Action::block : Action::allow;
  const Rule* deciding_rule = destination.action == Action::block ? destination.rule : nullptr;
  std::string kinds;

  std::vector<Action> actions;
  for (const auto& finding : findings) {
    auto decision = decide_finding(config, facts, finding);
    if (decision.action == Action::redact && !redactable(finding)) {
      decision.action = decision.rule ? decision.rule->otherwise : Action::block;
    }
    actions.push_back(decision.action);
    if (severity(decision.action) > severity(worst)) {
      worst = decision.action;
      deciding_rule = decision.rule;
    }
    if (decision.action == Action::block || decision.action == Action::redact) {
      const auto kind = std::string(to_string(finding.kind));
      if (kinds.find(kind) == std::string::npos) kinds += (kinds.empty() ? "" : ", ") + kind;
    }
  }

  verdict.rule = deciding_rule;
  if (worst == Action::block) {
    verdict.outcome = ExchangeVerdict::Outcome::block;
    verdict.reason = kinds.empty() ? "destination is forbidden (" + rule_label(deciding_rule) + ")"
                                   : "it carries " + kinds + " (" + rule_label(deciding_rule) + ")";
  } else if (worst == Action::redact) {
    verdict.outcome = ExchangeVerdict::Outcome::redact;
    verdict.reason = kinds + " masked (" + rule_label(deciding_rule) + ")";
  }
  for (const auto action : actions) {
    if (verdict.outcome == ExchangeVerdict::Outcome::block)
      verdict.finding_actions.push_back("blocked");  // nothing of the request left
    else if (action == Action::redact)
      verdict.finding_actions.push_back("redacted");
    else if (action == Action::allow)
      verdict.finding_actions.push_back("allowed");
    else
      verdict.finding_actions.push_back("logged");
  }
  return verdict;
}

bool policy_may_hold(const Config& config) {
  if (config.mode == Action::block || config.mode == Action::redact) return true;
  // A block rule without finding conditions is decided from the destination alone, at the head;
  // every redact rule works on findings, so it needs the whole request.
  return std::any_of(config.rules.begin(), config.rules.end(), [](const Rule& rule) {
    return rule.action == Action::redact || (rule_needs_finding(rule) && rule.action == Action::block);
  });
}

}  // namespace leakguard
