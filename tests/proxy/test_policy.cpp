// Policy decisions from `rules:` and `mode`: first match wins, destination rules need no finding,
// block beats redact beats log, and redaction falls back to `otherwise` where it cannot mask.
#include <doctest/doctest.h>

#include "proxy/policy.hpp"

using namespace leakguard;

namespace {

ConfigSnapshot config_with(const std::string& yaml) { return load_config_text(yaml, "test.yaml"); }

Finding finding(IdentifierKind kind, std::string encoding = "plain", bool located = true) {
  Finding f;
  f.kind = kind;
  f.encoding = std::move(encoding);
  if (located) f.locations.push_back({RequestPart::target, 0, 5, 15});
  return f;
}

ExchangeFacts facts(std::string_view host = "a.example.com", std::string_view transport = "http") {
  ExchangeFacts f;
  f.device = "phone";
  f.host = host;
  f.ip = boost::asio::ip::make_address("203.0.113.7");
  f.port = 80;
  f.country = "CN";
  f.transport = transport;
  return f;
}

constexpr const char* devices = "devices:\n  - name: phone\n    match: {ip: 10.42.0.11}\n    identifiers: {imei: \"353209091234567\"}\n";

}  // namespace

TEST_CASE("mode applies to findings no rule matches; clean exchanges are forwarded") {
  const auto config = config_with(std::string(devices) + "mode: block\n");
  CHECK(decide_exchange(*config, facts(), {}).outcome == ExchangeVerdict::Outcome::forward);
  const auto verdict = decide_exchange(*config, facts(), {finding(IdentifierKind::imei)});
  CHECK(verdict.outcome == ExchangeVerdict::Outcome::block);
  CHECK(verdict.finding_actions == std::vector<std::string>{"blocked"});
  CHECK(verdict.reason.find("imei") != std::string::npos);
  CHECK(policy_may_hold(*config));
  CHECK_FALSE(policy_may_hold(*config_with(std::string(devices) + "mode: log\n")));
}

TEST_CASE("first matching rule wins, with every condition") {
  const auto config = config_with(std::string(devices) + R"(mode: log
rules:
  - name: allow-trusted
    match: {hosts: ["*.trusted.example"]}
    action: allow
  - name: block-hardware-ids-to-cn
    match: {identifiers: [imei, imsi], countries: [CN], transports: [http], devices: [phone]}
    action: block
  - name: heuristics-only-logged
    match: {method_of_detection: heuristic}
    action: log
)");
  auto imei = finding(IdentifierKind::imei);
  CHECK(decide_finding(*config, facts(), imei).rule->name == "block-hardware-ids-to-cn");
  CHECK(decide_finding(*config, facts("x.trusted.example"), imei).action == Action::allow);
  CHECK(decide_finding(*config, facts("a.example.com", "https"), imei).rule == nullptr);  // mode
  auto gaid = finding(IdentifierKind::gaid);
  CHECK(decide_finding(*config, facts(), gaid).action == Action::log);
  auto heuristic = finding(IdentifierKind::imei);
  heuristic.method = DetectionMethod::heuristic;
  CHECK(decide_finding(*config, facts(), heuristic).action == Action::block);  // rule 2 comes first

  const auto verdict = decide_exchange(*config, facts(), {gaid, imei});
  CHECK(verdict.outcome == ExchangeVerdict::Outcome::block);
  CHECK(verdict.finding_actions == std::vector<std::string>{"blocked", "blocked"});
  CHECK(verdict.rule->name == "block-hardware-ids-to-cn");
}

TEST_CASE("destination rules block without findings; rules needing findings do not") {
  const auto config = config_with(std::string(devices) + R"(rules:
  - name: no-vnet
    match: {hosts: ["*.vnet.cn"]}
    action: block
  - name: imei-anywhere
    match: {identifiers: [imei]}
    action: block
)");
  CHECK(decide_destination(*config, facts("cfg.vnet.cn")).rule->name == "no-vnet");
  CHECK(decide_destination(*config, facts("example.org")).action == Action::allow);
  const auto verdict = decide_exchange(*config, facts("cfg.vnet.cn"), {});
  CHECK(verdict.outcome == ExchangeVerdict::Outcome::block);
  CHECK(verdict.reason.find("no-vnet") != std::string::npos);
}

TEST_CASE("redaction needs a byte location and a maskable form, otherwise the fallback applies") {
  const auto config = config_with(std::string(devices) + R"(rules:
  - name: mask
    action: redact
    otherwise: log
)");
  CHECK(policy_may_hold(*config));
  auto verdict = decide_exchange(*config, facts(), {finding(IdentifierKind::imei)});
  CHECK(verdict.outcome == ExchangeVerdict::Outcome::redact);
  CHECK(verdict.finding_actions == std::vector<std::string>{"redacted"});

  verdict = decide_exchange(*config, facts(), {finding(IdentifierKind::imei, "md5")});
  CHECK(verdict.outcome == ExchangeVerdict::Outcome::forward);
  CHECK(verdict.finding_actions == std::vector<std::string>{"logged"});

  verdict = decide_exchange(*config, facts(), {finding(IdentifierKind::imsi, "gzip>json", false)});
  CHECK(verdict.finding_actions == std::vector<std::string>{"logged"});

  const auto strict = config_with(std::string(devices) + "rules:\n  - {name: mask, action: redact, otherwise: block}\n");
  verdict = decide_exchange(*strict, facts(), {finding(IdentifierKind::imei), finding(IdentifierKind::imei, "sha1")});
  CHECK(verdict.outcome == ExchangeVerdict::Outcome::block);
}
