#include "detectors/decoders/base64.hpp"

#include <array>
#include <cstdint>

namespace leakguard::decoders {
namespace {

constexpr char standard_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// 0..63 value; 64 '+' or '/' (standard only); 65 '-' or '_' (url only); 66 '='; 67 line break; 255 other.
constexpr std::array<std::uint8_t, 256> make_table() {
  std::array<std::uint8_t, 256> table{};
  for (auto& entry : table) entry = 255;
  for (int i = 0; i < 62; ++i) table[static_cast<unsigned char>(standard_alphabet[i])] = static_cast<std::uint8_t>(i);
  table['+'] = 64;
  table['/'] = 64;
  table['-'] = 65;
  table['_'] = 65;
  table['='] = 66;
  table['\r'] = 67;
  table['\n'] = 67;
  return table;
}
constexpr auto table = make_table();

}  // namespace

bool looks_like_base64(std::string_view text, std::size_t min_chars) {
  std::size_t significant = 0;
  std::size_t padding = 0;
  bool standard = false;
  bool url = false;
  bool lower = false;
  bool upper_or_digit = false;
  for (const char ch : text) {
    const std::uint8_t v = table[static_cast<unsigned char>(ch)];
    if (v == 255) return false;
    if (v == 67) continue;
    if (v == 66) {
      ++padding;
      continue;
    }
    if (padding) return false;  // data after padding
    // The first character is the top six bits of the first byte: '+', '/', '-' or '_' (62, 63)
    // make it 0xF8 or above, which begins no ASCII or UTF-8 text and no gzip stream, the only
    // decoded bytes worth keeping. (A path, "/api/v2/feed", is the common case.)
    if (significant == 0 && v >= 64) return false;
    if (v == 64) standard = true;
    if (v == 65) url = true;
    if (ch >= 'a' && ch <= 'z') lower = true;
    if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) upper_or_digit = true;
    ++significant;
  }
  if (standard && url) return false;
  if (padding > 2 || significant < min_chars || significant % 4 == 1) return false;
  // Real base64 of text mixes cases; a run of digits or one-case letters is something else.
  return lower && upper_or_digit;
}

bool has_non_base64_byte(std::string_view text) {
  for (const char ch : text)
    if (table[static_cast<unsigned char>(ch)] == 255) return true;
  return false;
}

bool base64_decode(std::string_view text, std::string& out, std::size_t max_output) {
  std::uint32_t accumulator = 0;
  int bits = 0;
  std::size_t significant = 0;
  std::size_t padding = 0;
  bool standard = false;
  bool url = false;
  const std::size_t start = out.size();
  out.reserve(start + text.size() * 3 / 4 + 3);
  // Four characters at a time while they are all letters and digits (almost all of a blob):
  // three bytes out, no branch per character. The byte loop below takes over at the first other
  // character (an alphabet's own two, padding, a line break) with nothing carried over.
  std::size_t i = 0;
  for (; i + 4 <= text.size() && out.size() - start + 3 <= max_output; i += 4) {
    const std::uint8_t a = table[static_cast<unsigned char>(text[i])];
    const std::uint8_t b = table[static_cast<unsigned char>(text[i + 1])];
    const std::uint8_t c = table[static_cast<unsigned char>(text[i + 2])];
    const std::uint8_t d = table[static_cast<unsigned char>(text[i + 3])];
    if ((a | b | c | d) & 0x40) break;  // letters and digits are 0..61; every other entry is 64 or more
    const std::uint32_t group = (std::uint32_t{a} << 18) | (std::uint32_t{b} << 12) | (std::uint32_t{c} << 6) | d;
    const char bytes[3] = {static_cast<char>(group >> 16), static_cast<char>(group >> 8), static_cast<char>(group)};
    out.append(bytes, 3);
  }
  significant = i;
  for (const char ch : text.substr(i)) {
    const unsigned char c = static_cast<unsigned char>(ch);
    std::uint8_t v = table[c];
    if (v == 255) return false;
    if (v == 67) continue;
    if (v == 66) {
      ++padding;
      continue;
    }
    if (padding) return false;
    if (v == 64) {
      standard = true;
      v = c == '+' ? 62 : 63;
    } else if (v == 65) {
      url = true;
      v = c == '-' ? 62 : 63;
    }
    accumulator = (accumulator << 6) | v;
    bits += 6;
    ++significant;
    if (bits >= 8) {
      bits -= 8;
      if (out.size() - start >= max_output) return false;
      out.push_back(static_cast<char>((accumulator >> bits) & 0xff));
    }
  }
  if (standard && url) return false;
  if (padding > 2 || significant % 4 == 1) return false;
  return true;
}

std::string base64_encode(std::string_view bytes, bool url_safe, bool pad) {
  const char* alphabet = url_safe ? url_alphabet : standard_alphabet;
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    out.push_back(alphabet[(n >> 6) & 63]);
    out.push_back(alphabet[n & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    if (rest == 2) out.push_back(alphabet[(n >> 6) & 63]);
    if (pad) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

}  // namespace leakguard::decoders
