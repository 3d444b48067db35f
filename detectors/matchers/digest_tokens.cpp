#include "detectors/matchers/digest_tokens.hpp"

#include <array>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
// buffer costs one vector test per 16 bytes. Signed lanes: SSE2 compares signed bytes in one
// instruction (unsigned takes three), and bytes >= 0x80, negative, fall in no range.
using Bytes16 = std::int8_t __attribute__((vector_size(16)));

unsigned token_groups(const char* p) {
  Bytes16 v;
  std::memcpy(&v, p, 16);
  const Bytes16 folded = v | 0x20;
  // Strict comparisons: one instruction each (SSE2 has no >=).
  const auto in = ((v > '0' - 1) & (v < '9' + 1)) | ((folded > 'a' - 1) & (folded < 'z' + 1)) | (v == '+') | (v == '/') |
                  (v == '-') | (v == '_');
  std::uint64_t halves[2];
  std::memcpy(halves, &in, 16);
  return (halves[0] == ~std::uint64_t{0} ? 1u : 0u) | (halves[1] == ~std::uint64_t{0} ? 2u : 0u);
}

// The end of the run of token characters that starts at or before `end`, and the classes seen
// in it (ORed into `seen`). Runs in traffic are long (paths, tokens, cookies): SSE2 looks at 16
// bytes in ~30 instructions where the byte loop takes ~80.
std::size_t run_end(const char* data, std::size_t end, std::size_t size, std::uint8_t& seen) {
#if defined(__SSE2__)
  const auto range = [](__m128i v, char low, char high) {
    return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(static_cast<char>(low - 1))),
                         _mm_cmplt_epi8(v, _mm_set1_epi8(static_cast<char>(high + 1))));
  };
  for (; end + 16 <= size; end += 16) {
    // Bytes >= 0x80 compare as negative: in no range.
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + end));
    const __m128i folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
    const __m128i hex = _mm_or_si128(range(v, '0', '9'), range(folded, 'a', 'f'));
    const __m128i letter = range(folded, 'a', 'z');
    const __m128i url = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('-')), _mm_cmpeq_epi8(v, _mm_set1_epi8('_')));
    const __m128i standard = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('+')), _mm_cmpeq_epi8(v, _mm_set1_epi8('/')));
    const unsigned in =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(hex, letter), _mm_or_si128(url, standard))));
    const unsigned length = static_cast<unsigned>(__builtin_ctz(~in | 0x10000u));
    const unsigned mask = (1u << length) - 1;
    if (static_cast<unsigned>(_mm_movemask_epi8(hex)) & mask) seen |= 1;
    if (static_cast<unsigned>(_mm_movemask_epi8(_mm_andnot_si128(hex, letter))) & mask) seen |= 2;
    if (static_cast<unsigned>(_mm_movemask_epi8(url)) & mask) seen |= 4;
    if (static_cast<unsigned>(_mm_movemask_epi8(standard)) & mask) seen |= 8;
    if (length < 16) return end + length;
  }
#endif
  for (std::uint8_t c; end < size && (c = class_of(data[end])) != 0; ++end) seen |= c;
  return end;
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
  // i: the next 8-aligned group to test; a run of 22 or more holds one whole.
  for (std::size_t i = 0; i + 8 <= size;) {
    if (i + 16 <= size) {
      const unsigned groups = token_groups(data + i);
      if (!groups) {
        i += 16;
        continue;
      }
      if (!(groups & 1)) i += 8;  // only the second half
    } else if (!group_ok(i)) {
      i += 8;
      continue;
    }
    std::uint8_t seen = 0;
    std::size_t begin = i;
    while (begin > done && class_of(bytes[begin - 1])) --begin;
    const std::size_t end = run_end(data, begin, size, seen);
    done = end;
    i = (end + 7) / 8 * 8;
    if (end - begin < shortest) continue;
    if (!(seen & 12)) {
      // Letters and digits only: the run is a token of both alphabets, reported once.
      if (digest_shape(end - begin, seen)) out.push_back({begin, end});
    } else {
      // The runs of each alphabet: a hash before "-gzip" is a standard-alphabet run, the hex
      // between two slashes a URL-safe one.
      split(bytes, begin, end, 8, out);
      split(bytes, begin, end, 4, out);
    }
  }
}

}  // namespace leakguard::matchers
