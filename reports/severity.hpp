// The severity scale of `leakguard report` (reports/README.md has the table). One function decides
// it, so the report, the baseline diff and the tests cannot disagree about what "worst" means.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace leakguard::reports {

// What kind of identifier left: a permanent hardware or subscription id follows the phone for
// life; a personal one (number, e-mail, location, cell) names or places its owner; a resettable
// one (advertising id, Android id) can be rotated by the user.
enum class IdentifierClass { hardware, personal, resettable };

IdentifierClass classify_identifier(std::string_view identifier);
std::string_view to_string(IdentifierClass identifier_class);

// Plaintext on the wire: plain HTTP, raw TCP and DNS query names. https (decrypted by leakguard) and
// tls-passthrough were encrypted between the phone and the network. Unknown transports count as
// plaintext: a report errs towards alarm.
bool is_plaintext_transport(std::string_view transport);

// Abroad: the destination country differs from the home country. An unknown country, or no home
// country configured, counts as abroad for the same reason.
bool is_abroad(std::string_view country, std::string_view home_country);

// 1 (least: a resettable id, encrypted, to the home country) to 5 (worst: a hardware id in
// plaintext abroad). Base by class (hardware 3, personal 2, resettable 1), +1 plaintext, +1 abroad.
int severity(std::string_view identifier, std::string_view transport, std::string_view country,
             std::string_view home_country);

inline constexpr int min_severity = 1;
inline constexpr int max_severity = 5;
std::string_view severity_label(int severity);  // "critical", "high", "medium", "low", "info"

// The scale as rows for the renderers: one line per class x transport x destination.
struct SeverityScaleRow {
  IdentifierClass identifier_class;
  bool plaintext;
  bool abroad;
  int severity;
};
std::vector<SeverityScaleRow> severity_scale();

}  // namespace leakguard::reports
