#include "detectors/decoders/jwt.hpp"

namespace leakguard::decoders {
namespace {

bool letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool url_safe(char c) { return letter(c) || (c >= '0' && c <= '9') || c == '-' || c == '_'; }

}  // namespace

std::optional<JwtParts> jwt_parts(std::string_view text) {
  if (!text.starts_with("eyJ")) {
    // "Bearer ", "JWT ", "Token ": a scheme of letters, one space, then the token.
    std::size_t scheme = 0;
    while (scheme < text.size() && scheme < 16 && letter(text[scheme])) ++scheme;
    if (scheme == 0 || scheme >= text.size() || text[scheme] != ' ') return std::nullopt;
    text.remove_prefix(scheme + 1);
    if (!text.starts_with("eyJ")) return std::nullopt;
  }
  std::string_view parts[3];
  std::size_t part = 0;
  std::size_t begin = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && url_safe(text[i])) continue;
    if (i < text.size() && text[i] != '.') return std::nullopt;  // a byte outside the token alphabet
    if (part == 3) return std::nullopt;                           // a fourth part: JWE or something else
    parts[part++] = text.substr(begin, i - begin);
    begin = i + 1;
  }
  if (part != 3 || parts[1].empty()) return std::nullopt;
  return JwtParts{parts[0], parts[1]};
}

}  // namespace leakguard::decoders
