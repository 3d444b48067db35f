#include "detectors/matchers/separated_shapes.hpp"

#include <algorithm>
#include <array>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace leakguard::matchers {
namespace {

constexpr std::array<bool, 256> make_hex() {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'f'; ++c) table[c] = table[c - 'a' + 'A'] = true;
  return table;
}
constexpr auto hex_table = make_hex();

bool digit(char c) { return static_cast<unsigned char>(c - '0') < 10; }
bool hex(char c) { return hex_table[static_cast<unsigned char>(c)]; }
bool digits(const char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!digit(p[i])) return false;
  return true;
}
bool hexes(const char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!hex(p[i])) return false;
  return true;
}

// The shapes that can hold the separator at `p` at their one checked place: a decimal's dot, the
// first separator of a MAC, dashed IMEI or UUID. Every occurrence has exactly one such place, so
// visiting every separator finds each occurrence once. At most one shape fits a given place (they
// disagree about the byte three or seven after it), hence at most one match per separator.
void check(const char* s, std::size_t n, std::size_t p, std::vector<ShapeMatch>& out) {
  const char c = s[p];
  const auto at = [](Shape shape, std::size_t begin, std::size_t end) {
    return ShapeMatch{shape, static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(end)};
  };
  if (c == '.') {
    if (p >= 1 && p + 4 <= n && digit(s[p - 1]) && digits(s + p + 1, 3)) out.push_back(at(Shape::decimal, p - 1, p + 4));
    return;
  }
  if (p >= 2 && p + 15 <= n && hex(s[p - 2]) && hex(s[p - 1])) {
    bool mac = true;
    for (std::size_t q = p; q < p + 15 && mac; q += 3) mac = s[q] == c && hex(s[q + 1]) && hex(s[q + 2]);
    if (mac) return out.push_back(at(c == ':' ? Shape::mac_colon : Shape::mac_dash, p - 2, p + 15));
  }
  if (c != '-') return;
  if (p >= 2 && p + 16 <= n && digit(s[p - 2]) && digit(s[p - 1]) && digits(s + p + 1, 6) && s[p + 7] == '-' &&
      digits(s + p + 8, 6) && s[p + 14] == '-' && digit(s[p + 15]))
    return out.push_back(at(Shape::dashed_imei, p - 2, p + 16));
  if (p >= 8 && p + 28 <= n && hexes(s + p - 8, 8) && hexes(s + p + 1, 4) && s[p + 5] == '-' && hexes(s + p + 6, 4) &&
      s[p + 10] == '-' && hexes(s + p + 11, 4) && s[p + 15] == '-' && hexes(s + p + 16, 12))
    out.push_back(at(Shape::uuid, p - 8, p + 28));
}

// Every shape has a hex digit on both sides of its checked separator, which most separators in
// traffic ("en-US", "a.b", "Host: ") have not.
bool candidate(const char* s, std::size_t p) {
  return (s[p] == '-' || s[p] == ':' || s[p] == '.') && hex(s[p - 1]) && hex(s[p + 1]);
}

#if defined(__SSE2__)
__m128i hex_lanes(__m128i v) {
  const auto range = [](__m128i x, char low, char high) {
    return _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(static_cast<char>(low - 1))),
                         _mm_cmplt_epi8(x, _mm_set1_epi8(static_cast<char>(high + 1))));
  };
  return _mm_or_si128(range(v, '0', '9'), range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'f'));
}

// A bit per candidate() in p[0..16) (p[-1] and p[16] must be readable): sixteen bytes in ~40
// instructions and, as important on random bytes, without a data-dependent branch (one per
// separator, or even one per block with a separator, cost 10% on the raw-stream worst case).
unsigned candidate_bits(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i separator = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('-')), _mm_cmpeq_epi8(v, _mm_set1_epi8(':'))),
      _mm_cmpeq_epi8(v, _mm_set1_epi8('.')));
  const unsigned separators = static_cast<unsigned>(_mm_movemask_epi8(separator));
  // The neighbours' hex bits are this block's, shifted by one, plus the bytes just outside it.
  const unsigned hex = static_cast<unsigned>(_mm_movemask_epi8(hex_lanes(v)));
  const unsigned before = (hex << 1) | (hex_table[static_cast<unsigned char>(p[-1])] ? 1u : 0u);
  const unsigned after = (hex >> 1) | (hex_table[static_cast<unsigned char>(p[16])] ? 1u << 15 : 0u);
  return separators & before & after;
}
#endif

}  // namespace

bool find_separated_shapes(std::string_view bytes, std::vector<ShapeMatch>& out, std::size_t max_matches) {
  const std::size_t first = out.size();
  const char* s = bytes.data();
  const std::size_t n = bytes.size();
  bool complete = true;
  const auto visit = [&](std::size_t p) {
    if (out.size() - first >= max_matches) complete = false;
    else check(s, n, p, out);
  };
  // The checked separator is never the first or the last byte.
  std::size_t i = 1;
#if defined(__SSE2__)
  for (; i + 17 <= n && complete; i += 16)
    for (unsigned bits = candidate_bits(s + i); bits && complete; bits &= bits - 1)
      visit(i + static_cast<std::size_t>(__builtin_ctz(bits)));
#endif
  for (; i + 1 < n && complete; ++i)
    if (candidate(s, i)) visit(i);
  // Callers pair neighbouring candidates (a latitude and its longitude), so the list reads in the
  // order of the text, as a regex engine reports it: by end offset. No two shapes end at one offset.
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
            [](const ShapeMatch& a, const ShapeMatch& b) { return a.end < b.end; });
  return complete;
}

}  // namespace leakguard::matchers
