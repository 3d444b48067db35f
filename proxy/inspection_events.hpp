// The finding / anomaly / policy events of a flow, and the judgment of a name sent in clear: shared
// by TCP sessions and the DNS forwarder, so both decide and say things the same way
// (proxy/inspection.cpp). Who the client is: proxy/device_match.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "proxy/flow.hpp"
#include "proxy/policy.hpp"
#include "proxy/proxy_context.hpp"

namespace leakguard {

// The block verdict of a destination rule (host, address, port, country, transport), or none: it
// needs no finding, and nothing is forwarded to a forbidden destination.
std::optional<ExchangeVerdict> forbidden_destination(const Config& config, const ExchangeFacts& facts);

// One finding event per finding (with the verdict's action) and one anomaly event per anomaly;
// the findings' raw texts join the flow's secrets. `stream`: the HTTP/2 stream, 0 for none.
void emit_finding_events(ProxyContext& context, Flow& flow, const InspectionResult& result,
                         const ExchangeVerdict& verdict, std::string_view method, std::string_view url,
                         std::int32_t stream = 0);
void emit_policy_event(ProxyContext& context, const Flow& flow, const ExchangeVerdict& verdict,
                       std::string_view method, std::string_view url, std::int32_t stream = 0);

// Inspects a name sent in clear (Inspector::inspect_name) and applies policy to its findings; the
// events are emitted. Returns the block verdict when policy blocks it, else nullopt. A name cannot
// be redacted: what is not blocked is logged.
std::optional<ExchangeVerdict> judge_name(ProxyContext& context, const RuntimeSnapshot& snapshot, Flow& flow,
                                          const ExchangeFacts& facts, const InspectionContext& inspection,
                                          std::string_view name, std::string_view where);

}  // namespace leakguard
