// Facts about identifier formats shared by the known-value and heuristic detectors: Luhn, E.164
// country codes, ITU mobile country codes, IMEI reporting bodies, placeholders, and the canonical
// spelling under which values are compared, learned and deduplicated.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/identifier_kind.hpp"

namespace leakguard::ids {

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
inline bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool all_digits(std::string_view text);
bool luhn_valid(std::string_view digits);
// The Luhn check digit that completes `digits`.
char luhn_digit(std::string_view digits);
// Length (1-3) of the E.164 country code at the start of `digits`, 0 if none is assigned there.
std::size_t e164_country_code_length(std::string_view digits);
// Whether the first three digits are a mobile country code in the ITU E.212 list.
bool valid_mcc(std::string_view digits);
// Whether an IMEI's first two digits name a GSMA reporting body (35 BABT, 86 TAF, 01 PTCRB, ...).
bool plausible_imei_prefix(std::string_view digits);
// 000000000000000, 111111111111111, 123456789012345...: values that fill a field, not identify.
bool placeholder_digits(std::string_view digits);

// The spelling values are compared in: digits for IMEI/IMSI/ICCID, "+" and digits for an E.164
// MSISDN, lower-case ':'-separated MAC, lower-case hex and UUIDs, lower-case email. nullopt when
// the text is no value of the kind (and always for location and cell, which are not strings).
std::optional<std::string> canonical_value(IdentifierKind kind, std::string_view text);

}  // namespace leakguard::ids
