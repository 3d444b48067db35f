#include "detectors/matchers/digest_tokens.hpp"

#include <array>
#include <cstdint>
#include <cstring>

namespace leakguard::matchers {
namespace {

// bit 0: hex digit; bit 1: other letter; bit 2: '_' or '-' (URL-safe base64); bit 3: '+' or '/'
// (standard base64).
constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = 1;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = c <= 'f' ? 1 : 2;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = c <= 'F' ? 1 : 2;
  table['_'] = table['-'] = 4;
  table['+'] = table['/'] = 8;
  return table;
}
constexpr auto classes = make_classes();
constexpr std::size_t shortest = 22;  // a base64 MD5, the shortest digest

std::uint8_t class_of(char c) { return classes[static_cast<unsigned char>(c)]; }

// Hex digests are 32, 40 or 64 hex digits; base64 digests 22, 27 or 43 characters.
bool digest_shape(std::size_t n, std::uint8_t seen) {
  if (n == 32 || n == 40 || n == 64) return seen == 1;
  return n == 22 || n == 27 || n == 43;
}

// The runs of one alphabet inside a run of any base64 character: `cut` names the characters that
// end a token of that alphabet.
void split(std::string_view bytes, std::size_t begin, std::size_t end, std::uint8_t cut, std::vector<Token>& out) {
  std::size_t start = begin;
  std::uint8_t seen = 0;
  for (std::size_t i = begin; i <= end; ++i) {
    const std::uint8_t c = i == end ? cut : class_of(bytes[i]);
    if (c & cut) {
      if (digest_shape(i - start, seen)) out.push_back({start, i});
      start = i + 1;
      seen = 0;
    } else {
      seen |= c;
    }
  }
}

}  // namespace

namespace {
// Sixteen bytes at once (GCC/Clang vector extensions: SSE2 on x86-64, NEON on ARM), answered for
// each aligned half: are all eight bytes base64/hex characters? A run of 22 or more always holds
// such an aligned group of eight, and in ordinary traffic those groups are rare, so most of a
// buffer costs one vector test per 16 bytes.
using Bytes16 = std::uint8_t __attribute__((vector_size(16)));

unsigned token_groups(const char* p) {
  Bytes16 v;
  std::memcpy(&v, p, 16);
  const Bytes16 folded = v | 0x20;
  const auto in = ((v >= '0') & (v <= '9')) | ((folded >= 'a') & (folded <= 'z')) | (v == '+') | (v == '/') |
                  (v == '-') | (v == '_');
  std::uint64_t halves[2];
  std::memcpy(halves, &in, 16);
  return (halves[0] == ~std::uint64_t{0} ? 1u : 0u) | (halves[1] == ~std::uint64_t{0} ? 2u : 0u);
}
}  // namespace

void find_digest_tokens(std::string_view bytes, std::vector<Token>& out) {
  const std::size_t size = bytes.size();
  const char* data = bytes.data();
  std::size_t done = 0;
  const auto group_ok = [&](std::size_t at) {
    for (std::size_t k = at; k < at + 8; ++k)
      if (!class_of(bytes[k])) return false;
    return true;
  };
  for (std::size_t i = 0; i + 8 <= size; i += 8) {
    if (i < done) continue;
    if (i % 16 == 0 && i + 16 <= size) {
      const unsigned groups = token_groups(data + i);
      if (!(groups & 1)) {
        if (!(groups & 2)) {
          i += 8;  // neither half: skip both
          continue;
        }
        i += 8;  // only the second half
      }
    } else if (!group_ok(i)) {
      continue;
    }
    std::uint8_t seen = 0;
    std::size_t begin = i;
    while (begin > done && class_of(bytes[begin - 1])) --begin;
    std::size_t end = begin;
    while (end < size && class_of(bytes[end])) seen |= class_of(bytes[end++]);
    done = end;
    if (end - begin < shortest) continue;
    if (!(seen & 8)) {
      // Hex or URL-safe base64 only: the run is the token.
      if (digest_shape(end - begin, seen & 3)) out.push_back({begin, end});
    } else if (!(seen & 4)) {
      // '+' or '/': one standard base64 token, or hex / URL-safe tokens between slashes.
      if (digest_shape(end - begin, seen & 3) && !(end - begin == 32 || end - begin == 40 || end - begin == 64))
        out.push_back({begin, end});
      split(bytes, begin, end, 8, out);
    } else {
      split(bytes, begin, end, 8, out);
      split(bytes, begin, end, 4, out);
    }
  }
}

}  // namespace leakguard::matchers
