#include "detectors/matchers/separated_shapes.hpp"

#include <algorithm>
#include <array>

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

}  // namespace

bool find_separated_shapes(std::string_view bytes, const ByteClasses& classes, std::vector<ShapeMatch>& out,
                           std::size_t max_matches) {
  const std::size_t first = out.size();
  const char* s = bytes.data();
  const std::size_t n = bytes.size();
  // Every shape has a hex digit on both sides of its checked separator, which most separators in
  // traffic ("en-US", "a.b", "Host: ") have not: the candidates are a few ANDs a block away.
  const std::size_t blocks = (n + 63) / 64;
  bool complete = true;
  for (std::size_t w = 0; w < blocks && complete; ++w) {
    const std::uint64_t separators = classes.word(&ByteBlock::separator, w);
    if (!separators) continue;
    const std::uint64_t hex = classes.word(&ByteBlock::hex, w);
    const std::uint64_t before = (hex << 1) | (w > 0 ? classes.word(&ByteBlock::hex, w - 1) >> 63 : 0);
    const std::uint64_t after = (hex >> 1) | (classes.word(&ByteBlock::hex, w + 1) << 63);
    for (std::uint64_t bits = separators & before & after; bits; bits &= bits - 1) {
      if (out.size() - first >= max_matches) {
        complete = false;
        break;
      }
      check(s, n, w * 64 + static_cast<std::size_t>(__builtin_ctzll(bits)), out);
    }
  }
  // Callers pair neighbouring candidates (a latitude and its longitude), so the list reads in the
  // order of the text, as a regex engine reports it: by end offset. No two shapes end at one offset.
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
            [](const ShapeMatch& a, const ShapeMatch& b) { return a.end < b.end; });
  return complete;
}

bool find_separated_shapes(std::string_view bytes, std::vector<ShapeMatch>& out, std::size_t max_matches) {
  thread_local ByteClasses classes;
  classes.build(bytes);
  return find_separated_shapes(bytes, classes, out, max_matches);
}

}  // namespace leakguard::matchers
