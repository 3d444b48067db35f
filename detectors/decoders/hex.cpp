#include "detectors/decoders/hex.hpp"

namespace leakguard::decoders {
namespace {
int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool looks_like_hex(std::string_view text, std::size_t min_chars) {
  if (text.size() < min_chars || text.size() % 2) return false;
  for (const char c : text)
    if (nibble(c) < 0) return false;
  return true;
}

bool looks_like_hex_text(std::string_view text, std::size_t min_chars) {
  if (text.size() < min_chars || text.size() % 2) return false;
  for (std::size_t i = 0; i < text.size(); i += 2)
    if (text[i] < '2' || text[i] > '7' || nibble(text[i + 1]) < 0) return false;
  return true;
}

bool hex_decode(std::string_view text, std::string& out) {
  if (text.size() % 2) return false;
  out.reserve(out.size() + text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int high = nibble(text[i]);
    const int low = nibble(text[i + 1]);
    if (high < 0 || low < 0) return false;
    out.push_back(static_cast<char>(high * 16 + low));
  }
  return true;
}

std::string hex_encode(std::string_view bytes, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

}  // namespace leakguard::decoders
