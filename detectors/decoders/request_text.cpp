#include "detectors/decoders/request_text.hpp"

#include <algorithm>
#include <string>

#include "common/ascii.hpp"
#include "detectors/decoders/base64.hpp"
#include "detectors/decoders/hex.hpp"
#include "detectors/decoders/jwt.hpp"
#include "detectors/decoders/url.hpp"

namespace leakguard::request_text {
namespace {
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
}  // namespace


bool icontains(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i)
    if (iequals(haystack.substr(i, needle.size()), needle)) return true;
  return false;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// Decoded base64 is kept only if it is text (or a known container): random bytes are what a hash
// or a cipher gives, and scanning them would only waste time. Text is ASCII without control
// characters, or valid UTF-8 (random high bytes almost never are).
bool mostly_printable(std::string_view bytes) {
  if (bytes.empty()) return false;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) ++bad;
      continue;
    }
    std::size_t continuation = c >= 0xf0 && c < 0xf5 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : 0;
    if (continuation == 0 || c >= 0xf5) return false;
    for (; continuation > 0; --continuation) {
      if (++i >= bytes.size()) return true;  // cut in the middle of a character: still text
      if ((static_cast<unsigned char>(bytes[i]) & 0xc0) != 0x80) return false;
    }
  }
  return bad * 100 <= bytes.size();
}

bool printable_ascii(std::string_view bytes) {
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c >= 0x7f) return false;
  }
  return !bytes.empty();
}

std::string_view join_layers(Arena& arena, std::string_view chain, std::string_view layer) {
  if (chain.empty()) return layer;
  return arena.concat(chain, ">", layer);
}

// Decodes a (parameter) name for `where`; percent escapes resolved, same bytes otherwise.
std::string_view decoded_name(Arena& arena, std::string_view name) {
  if (!decoders::has_percent_escape(name)) return name;
  thread_local std::string scratch;
  scratch.clear();
  decoders::percent_decode(name, scratch);
  return arena.copy(scratch);
}

// UUIDs and dashed hex are valid URL-safe base64, but never base64 of anything.
bool hex_and_dashes(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

// The fast path for a field: most values (a language tag, "keep-alive", a user agent, a version)
// are plain text with nothing to decode in them. True only when sniff(value, false) must answer
// Shape::raw and there is no percent escape, answered by a pass that stops early on ordinary text
// instead of the sniffers' separate passes and the copies expand_field makes before them. The
// field itself is still scanned by every detector, with its place and key.
bool plain_value(std::string_view value) {
  if (value.find('%') != std::string_view::npos || value.find('&') != std::string_view::npos) return false;  // url, form
  if (static_cast<unsigned char>(value.front()) == 0x1f) return false;                                       // gzip
  const std::string_view text = trim(value);
  if (text.size() < 2) return true;
  const char first = text.front();
  if (first == '{' || first == '[' || first == '<' || first == '\xEF') return false;  // JSON, XML (BOM)
  if (decoders::jwt_start(text) != std::string_view::npos) return false;  // "Bearer eyJ...": spaces and dots, yet decodable
  // Hex and base64 need 16 bytes. Ids, UUIDs and hashes: hex (with dashes) is decoded only when
  // it is hex of text. Anything else needs all its bytes in the base64 alphabet. (Hex digits and
  // dashes are in it: one full pass at most, and ordinary text stops at its first letter.)
  if (text.size() < 16) return true;
  if (hex_and_dashes(text)) return !decoders::looks_like_hex_text(text, 16);
  return decoders::has_non_base64_byte(text);
}

// HttpRequestHead::header() lives with the codec (leakguard_http); detection needs no codec.
std::string_view first_header(const HttpRequestHead& head, std::string_view name) {
  for (const auto& header : head.headers)
    if (iequals(header.name, name)) return header.value;
  return {};
}

bool is_bin_header(const FieldSpan& field) {
  if (field.key.size() <= 4 || !iequals(field.key.substr(field.key.size() - 4), "-bin")) return false;
  return field.where.prefix == "header:" || field.where.prefix == "trailer:";
}

}  // namespace leakguard::request_text
