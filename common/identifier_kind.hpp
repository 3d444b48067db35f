// The identifier kinds of design.md. Their spelling is a contract: it appears in the configuration,
// in device profiles and in every event, so it lives in exactly one table (identifier_kind.cpp).
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace leakguard {

enum class IdentifierKind {
  imei,
  imsi,
  iccid,
  msisdn,
  serial,
  mac,
  android_id,
  gaid,
  email,
  location,
  cell,
};

inline constexpr std::size_t identifier_kind_count = 11;

// Every kind, in contract order.
const std::array<IdentifierKind, identifier_kind_count>& all_identifier_kinds();

std::string_view to_string(IdentifierKind kind);
std::optional<IdentifierKind> parse_identifier_kind(std::string_view name);

// Permanent hardware or subscription ids: they cannot be reset by the user.
bool is_permanent_hardware_id(IdentifierKind kind);

}  // namespace leakguard
