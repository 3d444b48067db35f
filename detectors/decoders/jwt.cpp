#include "detectors/decoders/jwt.hpp"

#include <array>

namespace leakguard::decoders {
namespace {

bool letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

constexpr std::array<bool, 256> make_url_safe() {
  std::array<bool, 256> table{};
  for (int c = 'a'; c <= 'z'; ++c) table[c] = table[c - 'a' + 'A'] = true;
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  table['-'] = table['_'] = true;
  return table;
}
constexpr auto url_safe = make_url_safe();

}  // namespace

std::size_t jwt_start(std::string_view text) {
  // "eyJ" + '.' + a payload + '.': nothing shorter is a token, and most values fail here or at once.
  if (text.size() < 8) return std::string_view::npos;
  if (text.starts_with("eyJ")) return 0;
  // "Bearer ", "JWT ", "Token ": a scheme of up to 16 letters, one space, then the token. Most
  // values fail at their first byte that is not a letter ("5.12.3", "nb-NO", "keep-alive").
  const std::size_t limit = text.size() < 17 ? text.size() : 17;
  for (std::size_t i = 0; i < limit; ++i) {
    if (letter(text[i])) continue;
    if (text[i] != ' ' || i == 0 || !text.substr(i + 1).starts_with("eyJ")) return std::string_view::npos;
    return i + 1;
  }
  return std::string_view::npos;
}

std::optional<JwtParts> jwt_parts(std::string_view text) {
  const std::size_t start = jwt_start(text);
  if (start == std::string_view::npos) return std::nullopt;
  text.remove_prefix(start);
  // Exactly two dots, then every other byte in the URL-safe alphabet (a third dot: a JWE, whose
  // payload is ciphertext, or something else).
  const std::size_t first = text.find('.');
  const std::size_t second = first == std::string_view::npos ? first : text.find('.', first + 1);
  if (second == std::string_view::npos || second == first + 1) return std::nullopt;  // no payload
  if (text.find('.', second + 1) != std::string_view::npos) return std::nullopt;
  // One pass, an OR per byte instead of a branch (a token is ~150 bytes; it costs ~40 ns less).
  bool bad = false;
  for (const char c : text) bad |= !(url_safe[static_cast<unsigned char>(c)] || c == '.');
  if (bad) return std::nullopt;
  return JwtParts{text.substr(0, first), text.substr(first + 1, second - first - 1)};
}

}  // namespace leakguard::decoders
