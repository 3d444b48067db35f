#include "reports/severity.hpp"

#include "common/identifier_kind.hpp"

namespace leakguard::reports {

IdentifierClass classify_identifier(std::string_view identifier) {
  const auto kind = parse_identifier_kind(identifier);
  // A kind added after this table was written is not known to be resettable: rate it personal.
  if (!kind) return IdentifierClass::personal;
  if (is_permanent_hardware_id(*kind)) return IdentifierClass::hardware;
  if (*kind == IdentifierKind::gaid || *kind == IdentifierKind::android_id) return IdentifierClass::resettable;
  return IdentifierClass::personal;
}

std::string_view to_string(IdentifierClass identifier_class) {
  switch (identifier_class) {
    case IdentifierClass::hardware:
      return "hardware";
    case IdentifierClass::personal:
      return "personal";
    case IdentifierClass::resettable:
      return "resettable";
  }
  return "personal";
}

bool is_plaintext_transport(std::string_view transport) {
  return transport != "https" && transport != "tls-passthrough";
}

bool is_abroad(std::string_view country, std::string_view home_country) {
  if (country.empty() || home_country.empty()) return true;
  if (country.size() != home_country.size()) return true;
  for (std::size_t i = 0; i < country.size(); ++i) {
    const auto upper = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; };
    if (upper(country[i]) != upper(home_country[i])) return true;
  }
  return false;
}

namespace {
int base_severity(IdentifierClass identifier_class) {
  switch (identifier_class) {
    case IdentifierClass::hardware:
      return 3;
    case IdentifierClass::personal:
      return 2;
    case IdentifierClass::resettable:
      return 1;
  }
  return 2;
}
}  // namespace

int severity(std::string_view identifier, std::string_view transport, std::string_view country,
             std::string_view home_country) {
  return base_severity(classify_identifier(identifier)) + (is_plaintext_transport(transport) ? 1 : 0) +
         (is_abroad(country, home_country) ? 1 : 0);
}

std::string_view severity_label(int severity) {
  switch (severity) {
    case 5:
      return "critical";
    case 4:
      return "high";
    case 3:
      return "medium";
    case 2:
      return "low";
    default:
      return "info";
  }
}

std::vector<SeverityScaleRow> severity_scale() {
  std::vector<SeverityScaleRow> rows;
  for (auto identifier_class : {IdentifierClass::hardware, IdentifierClass::personal, IdentifierClass::resettable})
    for (bool plaintext : {true, false})
      for (bool abroad : {true, false})
        rows.push_back({identifier_class, plaintext, abroad,
                        base_severity(identifier_class) + (plaintext ? 1 : 0) + (abroad ? 1 : 0)});
  return rows;
}

}  // namespace leakguard::reports
