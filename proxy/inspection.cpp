// The session's side of inspection and policy: who the client is (device profile), what is known
// about the destination, the events for findings, and the raw-stream window that block mode judges
// before a byte is forwarded. The detectors themselves live in detectors/ and never decide policy.
#include <algorithm>

#include "common/ip_network.hpp"
#include "common/mask.hpp"
#include "proxy/device_match.hpp"
#include "proxy/inspection_events.hpp"
#include "proxy/neighbor_table.hpp"
#include "proxy/session.hpp"

namespace leakguard {

using asio::awaitable;

void Session::attribute_device() {
  const auto address = unmap_v4(flow_.client.address());
  device_ = match_device(*config_, address, [&] { return neighbor_mac(address); });
  if (device_) flow_.device = device_->name;
  learned_ = context_.learned_values(device_ ? "device:" + device_->name : "client:" + address.to_string());
}

void Session::set_destination(const tcp::endpoint& destination) {
  flow_.dst = destination;
  // A connection to an address this client resolved through leakguard's DNS forwarder is named
  // after the question it asked, until the connection names its destination itself.
  if (flow_.dst_host.empty() || flow_.dst_host_source == "dns")
    if (auto name = context_.dns_names().lookup(DnsNameMap::client_key(flow_.device, flow_.client.address()),
                                                destination.address()))
      flow_.set_host(std::move(*name), "dns");
  if (snapshot_->geoip) flow_.country = snapshot_->geoip->country(destination.address());
}

ExchangeFacts Session::facts() const {
  ExchangeFacts facts;
  facts.device = flow_.device;
  facts.host = flow_.dst_host.empty() ? std::string_view(flow_.sni) : std::string_view(flow_.dst_host);
  if (flow_.dst) {
    facts.ip = unmap_v4(flow_.dst->address());
    facts.port = flow_.dst->port();
  }
  facts.country = flow_.country;
  facts.transport = flow_.transport;
  return facts;
}

InspectionContext Session::inspection_context() const {
  InspectionContext context;
  context.device = device_;
  context.learned = learned_.get();
  context.transport = flow_.transport;
  context.header_memo = &header_memo_;
  return context;
}

void emit_finding_events(ProxyContext& context, Flow& flow, const InspectionResult& result,
                         const ExchangeVerdict& verdict, std::string_view method, std::string_view url,
                         std::int32_t stream) {
  if (result.empty()) return;
  const auto secrets = secrets_of(result);
  flow.add_secrets(secrets);
  for (std::size_t i = 0; i < result.findings.size(); ++i) {
    auto event = flow.event("finding", secrets);
    if (stream != 0) event["stream"] = stream;
    if (!method.empty()) event["method"] = method;
    if (!url.empty()) event["url"] = mask_occurrences(url, secrets);
    event.update(finding_event_fields(result.findings[i], secrets));
    const auto& action = i < verdict.finding_actions.size() ? verdict.finding_actions[i] : std::string("logged");
    event["action"] = action;
    if (verdict.rule && action != "logged" && action != "allowed")
      event["rule"] = verdict.rule->name.empty() ? "line " + std::to_string(verdict.rule->line) : verdict.rule->name;
    context.counters().count_finding(result.findings[i].kind, action == "blocked"    ? Action::block
                                                             : action == "redacted" ? Action::redact
                                                             : action == "allowed"  ? Action::allow
                                                                                    : Action::log);
    context.events().emit(std::move(event));
  }
  for (const auto& anomaly : result.anomalies) {
    auto event = flow.event("anomaly", secrets);
    if (!url.empty()) event["url"] = mask_occurrences(url, secrets);
    event.update(anomaly_event_fields(anomaly, secrets));
    context.events().emit(std::move(event));
  }
}

void Session::emit_findings(const InspectionResult& result, const ExchangeVerdict& verdict, std::string_view method,
                            std::string_view url) {
  emit_finding_events(context_, flow_, result, verdict, method, url, event_stream_);
}

std::optional<ExchangeVerdict> forbidden_destination(const Config& config, const ExchangeFacts& facts) {
  const auto decision = decide_destination(config, facts);
  if (decision.action != Action::block) return std::nullopt;
  ExchangeVerdict verdict;
  verdict.outcome = ExchangeVerdict::Outcome::block;
  verdict.rule = decision.rule;
  verdict.reason = "destination is forbidden (" + rule_label(decision.rule) + ")";
  return verdict;
}

std::optional<ExchangeVerdict> Session::forbidden_destination() const { return leakguard::forbidden_destination(*config_, facts()); }

void emit_policy_event(ProxyContext& context, const Flow& flow, const ExchangeVerdict& verdict,
                       std::string_view method, std::string_view url, std::int32_t stream) {
  auto event = flow.event("policy");
  event["event"] = "blocked";
  if (stream != 0) event["stream"] = stream;
  if (!method.empty()) event["method"] = method;
  if (!url.empty()) event["url"] = url;
  event["reason"] = verdict.reason;
  if (verdict.rule)
    event["rule"] = verdict.rule->name.empty() ? "line " + std::to_string(verdict.rule->line) : verdict.rule->name;
  context.counters().blocked++;
  context.events().emit(std::move(event));
}

void Session::emit_policy_block(const ExchangeVerdict& verdict, std::string_view method, std::string_view url) {
  emit_policy_event(context_, flow_, verdict, method, url, event_stream_);
}

std::optional<ExchangeVerdict> judge_name(ProxyContext& context, const RuntimeSnapshot& snapshot, Flow& flow,
                                          const ExchangeFacts& facts, const InspectionContext& inspection,
                                          std::string_view name, std::string_view where) {
  InspectionResult result;
  snapshot.inspector->inspect_name(name, where, inspection, result);
  if (result.empty()) return std::nullopt;
  auto verdict = decide_exchange(*snapshot.config, facts, result.findings);
  // A name cannot be redacted (the origin's certificate and DNS name it): what is not blocked is logged.
  for (auto& action : verdict.finding_actions)
    if (action == "redacted") action = "logged";
  emit_finding_events(context, flow, result, verdict, "", "");
  if (verdict.outcome != ExchangeVerdict::Outcome::block) return std::nullopt;
  emit_policy_event(context, flow, verdict, "", "");
  return verdict;
}

std::optional<ExchangeVerdict> Session::inspect_name(std::string_view name, std::string_view where) {
  // A host name a client sends in clear (the ClientHello's server name, a CONNECT target) goes to
  // resolvers and middleboxes whatever happens to the rest: judged before the name is used.
  return judge_name(context_, *snapshot_, flow_, facts(), inspection_context(), name, where);
}

awaitable<bool> Session::inspect_first_raw_window() {
  // Hold the first bytes until the window fills, the client pauses (a short timer: many protocols
  // send one message and wait for an answer) or the client half-closes.
  sniff_deadline_ = Clock::now() + config_->limits.raw_inspect_timeout;
  watchdog_timer_.cancel();
  while (client_buffer_.size() < config_->limits.raw_inspect_window && !closed_) {
    if (!co_await read_client()) break;
  }
  sniff_deadline_ = Clock::time_point::max();
  if (closed_) co_return false;

  InspectionResult result;
  const auto context = inspection_context();
  raw_scanner_->feed(client_buffer_, context, result);
  // Judge the whole window now, matches at its very end included, on a copy of the scanner: the
  // stream itself goes on, and later bytes may still complete a match.
  RawStreamScanner probe = *raw_scanner_;
  probe.finish(context, result);
  const auto verdict = decide_exchange(*config_, facts(), result.findings);
  emit_findings(result, verdict, "", "");
  if (verdict.outcome == ExchangeVerdict::Outcome::block) {
    emit_policy_block(verdict, "", "");
    co_return false;  // closed before any byte was forwarded (or any connection made)
  }
  *raw_scanner_ = std::move(probe);
  co_return true;
}

bool Session::inspect_raw_chunk(std::string_view bytes, bool end_of_stream) {
  InspectionResult result;
  const auto context = inspection_context();
  if (end_of_stream)
    raw_scanner_->finish(context, result);
  else
    raw_scanner_->feed(bytes, context, result);
  if (result.empty()) return true;
  const auto verdict = decide_exchange(*config_, facts(), result.findings);
  emit_findings(result, verdict, "", "");
  if (verdict.outcome == ExchangeVerdict::Outcome::block && raw_may_block_) {
    emit_policy_block(verdict, "", "");
    return false;
  }
  return true;
}

}  // namespace leakguard
