#include "detectors/matchers/byte_classes.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace leakguard::matchers {
namespace {

// The classes of each byte value, one bit per class, in ByteBlock's member order.
enum : std::uint8_t { c_digit = 1, c_hex = 2, c_letter = 4, c_url = 8, c_standard = 16, c_separator = 32, c_at = 64 };
constexpr std::array<std::uint8_t, 256> make_class_table() {
  std::array<std::uint8_t, 256> table{};
  for (int c = 0; c < 256; ++c) {
    const int folded = c | 0x20;
    std::uint8_t classes = 0;
    if (c >= '0' && c <= '9') classes |= c_digit | c_hex;
    if (folded >= 'a' && folded <= 'z') classes |= c_letter;
    if (folded >= 'a' && folded <= 'f') classes |= c_hex;
    if (c == '-' || c == '_') classes |= c_url;
    if (c == '+' || c == '/') classes |= c_standard;
    if (c == '-' || c == ':' || c == '.') classes |= c_separator;
    if (c == '@') classes |= c_at;
    table[static_cast<std::size_t>(c)] = classes;
  }
  return table;
}
constexpr auto class_table = make_class_table();

// Without vector instructions: eight table lookups make a word of eight class bytes, and one
// multiplication per class gathers that class's bit of each byte into eight adjacent bits. The
// definition the vector paths are tested against, and the path where none is compiled or
// supported (ARM routers).
void classify_portable(const char* p, ByteBlock& block) {
  block = ByteBlock{};
  for (unsigned group = 0; group < 8; ++group) {
    std::uint64_t bytes = 0;
    for (unsigned i = 0; i < 8; ++i)
      bytes |= std::uint64_t{class_table[static_cast<unsigned char>(p[group * 8 + i])]} << (8 * i);
    // Bit k of byte i to bit i of the top byte: (x >> k) & 0x01.. keeps one bit a byte, and the
    // multiplier adds byte i's bit at position 56 + i (no carries: at most one bit per column).
    const auto gather = [bytes](unsigned k) {
      return (((bytes >> k) & 0x0101010101010101u) * 0x0102040810204080u) >> 56;
    };
    const unsigned shift = group * 8;
    block.digit |= gather(0) << shift;
    block.hex |= gather(1) << shift;
    block.letter |= gather(2) << shift;
    block.url |= gather(3) << shift;
    block.standard |= gather(4) << shift;
    block.separator |= gather(5) << shift;
    block.at |= gather(6) << shift;
  }
}

#if defined(__x86_64__)
// Signed lanes: SSE2 and AVX2 compare signed bytes in one instruction, and bytes >= 0x80
// (negative) fall in no range. Sixteen bytes a step; the baseline of every x86-64. The AVX2
// version below is this one at 32 bytes: the same classes, its own intrinsics, because AVX2 code
// must sit in a function compiled for that target (a template shared by both cannot be).
void classify_sse2(const char* p, ByteBlock& block) {
  const auto range = [](__m128i v, char low, char high) {
    return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(static_cast<char>(low - 1))),
                         _mm_cmplt_epi8(v, _mm_set1_epi8(static_cast<char>(high + 1))));
  };
  const auto is = [](__m128i v, char c) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(c)); };
  const auto bits = [](__m128i v) { return static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(v))); };
  block = ByteBlock{};
  for (unsigned part = 0; part < 4; ++part) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + part * 16));
    const __m128i folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
    const __m128i digit = range(v, '0', '9');
    const __m128i dash = is(v, '-');
    const unsigned shift = part * 16;
    block.digit |= bits(digit) << shift;
    block.hex |= bits(_mm_or_si128(digit, range(folded, 'a', 'f'))) << shift;
    block.letter |= bits(range(folded, 'a', 'z')) << shift;
    block.url |= bits(_mm_or_si128(dash, is(v, '_'))) << shift;
    block.standard |= bits(_mm_or_si128(is(v, '+'), is(v, '/'))) << shift;
    block.separator |= bits(_mm_or_si128(dash, _mm_or_si128(is(v, ':'), is(v, '.')))) << shift;
    block.at |= bits(is(v, '@')) << shift;
  }
}

#define LEAKGUARD_AVX2 __attribute__((target("avx2"), always_inline)) inline
LEAKGUARD_AVX2 __m256i range_avx2(__m256i v, char low, char high) {
  return _mm256_and_si256(_mm256_cmpgt_epi8(v, _mm256_set1_epi8(static_cast<char>(low - 1))),
                          _mm256_cmpgt_epi8(_mm256_set1_epi8(static_cast<char>(high + 1)), v));
}
LEAKGUARD_AVX2 __m256i is_avx2(__m256i v, char c) { return _mm256_cmpeq_epi8(v, _mm256_set1_epi8(c)); }
LEAKGUARD_AVX2 std::uint64_t bits_avx2(__m256i v) {
  return static_cast<std::uint64_t>(static_cast<unsigned>(_mm256_movemask_epi8(v)));
}
#undef LEAKGUARD_AVX2

__attribute__((target("avx2"))) void classify_avx2(const char* p, ByteBlock& block) {
  block = ByteBlock{};
  for (unsigned part = 0; part < 2; ++part) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + part * 32));
    const __m256i folded = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
    const __m256i digit = range_avx2(v, '0', '9');
    const __m256i dash = is_avx2(v, '-');
    const unsigned shift = part * 32;
    block.digit |= bits_avx2(digit) << shift;
    block.hex |= bits_avx2(_mm256_or_si256(digit, range_avx2(folded, 'a', 'f'))) << shift;
    block.letter |= bits_avx2(range_avx2(folded, 'a', 'z')) << shift;
    block.url |= bits_avx2(_mm256_or_si256(dash, is_avx2(v, '_'))) << shift;
    block.standard |= bits_avx2(_mm256_or_si256(is_avx2(v, '+'), is_avx2(v, '/'))) << shift;
    block.separator |= bits_avx2(_mm256_or_si256(dash, _mm256_or_si256(is_avx2(v, ':'), is_avx2(v, '.')))) << shift;
    block.at |= bits_avx2(is_avx2(v, '@')) << shift;
  }
}

// AVX-512BW compares 64 bytes into a 64-bit mask in one instruction: a block is ~20 of them.
// Unsigned "c - low < count" is one subtraction and one compare per range.
#define LEAKGUARD_AVX512 __attribute__((target("avx512bw"), always_inline)) inline
LEAKGUARD_AVX512 std::uint64_t range_avx512(__m512i v, char low, char count) {
  return _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8(low)), _mm512_set1_epi8(count));
}
LEAKGUARD_AVX512 std::uint64_t is_avx512(__m512i v, char c) { return _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(c)); }
#undef LEAKGUARD_AVX512

__attribute__((target("avx512bw"))) void classify_avx512(const char* p, ByteBlock& block) {
  const __m512i v = _mm512_loadu_si512(p);
  const __m512i folded = _mm512_or_si512(v, _mm512_set1_epi8(0x20));
  const std::uint64_t dash = is_avx512(v, '-');
  block.digit = range_avx512(v, '0', 10);
  block.hex = block.digit | range_avx512(folded, 'a', 6);
  block.letter = range_avx512(folded, 'a', 26);
  block.url = dash | is_avx512(v, '_');
  block.standard = is_avx512(v, '+') | is_avx512(v, '/');
  block.separator = dash | is_avx512(v, ':') | is_avx512(v, '.');
  block.at = is_avx512(v, '@');
}
#endif

ClassifyPath best_path() {
#if defined(__x86_64__)
  __builtin_cpu_init();  // harmless when constructors already ran it; needed if called before them
  if (__builtin_cpu_supports("avx512bw")) return ClassifyPath::avx512;
  if (__builtin_cpu_supports("avx2")) return ClassifyPath::avx2;
  return ClassifyPath::sse2;
#else
  return ClassifyPath::portable;
#endif
}

}  // namespace

std::vector<ClassifyPath> supported_classify_paths() {
  std::vector<ClassifyPath> paths{ClassifyPath::portable};
#if defined(__x86_64__)
  __builtin_cpu_init();
  paths.push_back(ClassifyPath::sse2);
  if (__builtin_cpu_supports("avx2")) paths.push_back(ClassifyPath::avx2);
  if (__builtin_cpu_supports("avx512bw")) paths.push_back(ClassifyPath::avx512);
#endif
  return paths;
}

void ByteClasses::build(std::string_view bytes) {
  static const ClassifyPath best = best_path();
  build(bytes, best);
}

void ByteClasses::build(std::string_view bytes, ClassifyPath path) {
  void (*classify)(const char*, ByteBlock&) = classify_portable;
#if defined(__x86_64__)
  if (path == ClassifyPath::sse2) classify = classify_sse2;
  if (path == ClassifyPath::avx2) classify = classify_avx2;
  if (path == ClassifyPath::avx512) classify = classify_avx512;
#else
  (void)path;  // only the portable path exists off x86-64 (arm64: see packaging/README.md)
#endif
  size_ = bytes.size();
  const std::size_t whole = bytes.size() / 64;
  const std::size_t tail = bytes.size() % 64;
  blocks_.resize(whole + (tail ? 1 : 0));
  block_count_ = blocks_.size();
  for (std::size_t b = 0; b < whole; ++b) classify(bytes.data() + b * 64, blocks_[b]);
  if (tail) {
    // The last bytes, padded with zeros: a zero byte is in no class.
    char padded[64] = {};
    std::memcpy(padded, bytes.data() + whole * 64, tail);
    classify(padded, blocks_[whole]);
  }
}

}  // namespace leakguard::matchers
