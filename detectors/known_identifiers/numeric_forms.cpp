#include "detectors/known_identifiers/numeric_forms.hpp"

#include <charconv>
#include <string>

namespace leakguard::known {
namespace {

// The integer `text` spells in `base`, without separators; nothing if it does not fit 64 bits.
bool parse(std::string_view text, int base, std::uint64_t& out) {
  std::string digits;
  for (const char c : text)
    if (c != ':' && c != '+') digits.push_back(c);
  if (digits.empty()) return false;
  const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), out, base);
  return result.ec == std::errc() && result.ptr == digits.data() + digits.size();
}

}  // namespace

std::vector<NumericValue> numeric_forms(IdentifierKind kind, std::string_view canonical, std::uint32_t value_index) {
  std::vector<NumericValue> out;
  std::uint64_t number = 0;
  switch (kind) {
    case IdentifierKind::imei:
    case IdentifierKind::imsi:
    case IdentifierKind::iccid:
    case IdentifierKind::msisdn:
      if (!parse(canonical, 10, number)) return out;
      out.push_back({number, value_index, false});
      if (number < (std::uint64_t{1} << 63)) out.push_back({number * 2, value_index, true});
      return out;
    case IdentifierKind::android_id:
    case IdentifierKind::mac:
      if (parse(canonical, 16, number)) out.push_back({number, value_index, false});
      return out;
    default:
      return out;
  }
}

}  // namespace leakguard::known
