#include "common/identifier_kind.hpp"

namespace leakguard {
namespace {
struct KindName {
  IdentifierKind kind;
  std::string_view name;
};
constexpr std::array<KindName, identifier_kind_count> kind_names{{
    {IdentifierKind::imei, "imei"},
    {IdentifierKind::imsi, "imsi"},
    {IdentifierKind::iccid, "iccid"},
    {IdentifierKind::msisdn, "msisdn"},
    {IdentifierKind::serial, "serial"},
    {IdentifierKind::mac, "mac"},
    {IdentifierKind::android_id, "android_id"},
    {IdentifierKind::gaid, "gaid"},
    {IdentifierKind::email, "email"},
    {IdentifierKind::location, "location"},
    {IdentifierKind::cell, "cell"},
}};
}  // namespace

const std::array<IdentifierKind, identifier_kind_count>& all_identifier_kinds() {
  static const auto kinds = [] {
    std::array<IdentifierKind, identifier_kind_count> out{};
    for (std::size_t i = 0; i < kind_names.size(); ++i) out[i] = kind_names[i].kind;
    return out;
  }();
  return kinds;
}

std::string_view to_string(IdentifierKind kind) {
  for (const auto& entry : kind_names)
    if (entry.kind == kind) return entry.name;
  return "unknown";
}

std::optional<IdentifierKind> parse_identifier_kind(std::string_view name) {
  for (const auto& entry : kind_names)
    if (entry.name == name) return entry.kind;
  return std::nullopt;
}

bool is_permanent_hardware_id(IdentifierKind kind) {
  switch (kind) {
    case IdentifierKind::imei:
    case IdentifierKind::imsi:
    case IdentifierKind::iccid:
    case IdentifierKind::serial:
    case IdentifierKind::mac:
      return true;
    default:
      return false;
  }
}

}  // namespace leakguard
