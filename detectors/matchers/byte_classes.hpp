// The classes of a buffer's bytes as bit sets (bit i % 64 of block i / 64 stands for byte i),
// built in one vector pass. The byte-level finders (digest tokens, separated shapes, the
// heuristics' digit runs and '@') read these bits instead of each walking the bytes: on a request
// head, where most bytes belong to some run of letters and digits, the separate walks cost more
// than all the rest of the inspection of the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace leakguard::matchers {

struct ByteBlock {
  std::uint64_t digit = 0;      // 0-9
  std::uint64_t hex = 0;        // 0-9 a-f A-F
  std::uint64_t letter = 0;     // a-z A-Z
  std::uint64_t url = 0;        // '-' '_': the URL-safe base64 alphabet's two
  std::uint64_t standard = 0;   // '+' '/': the standard alphabet's two
  std::uint64_t separator = 0;  // '-' ':' '.': what holds MACs, UUIDs, dashed IMEIs and decimals together
  std::uint64_t at = 0;         // '@'
};

using ByteSet = std::uint64_t ByteBlock::*;

// How blocks are classified: one byte at a time, or 16, 32 or 64 at once (x86-64).
enum class ClassifyPath : std::uint8_t { portable, sse2, avx2, avx512 };
// The paths this CPU can run, the portable one first.
std::vector<ClassifyPath> supported_classify_paths();

// The doubling steps for_each_run takes to AND a window of `length` bits together.
constexpr std::size_t window_steps(std::size_t length) {
  std::size_t steps = 0;
  for (std::size_t covered = 1; covered < length; covered += covered * 2 <= length ? covered : length - covered) ++steps;
  return steps;
}
constexpr std::size_t window_step(std::size_t index, std::size_t length) {
  std::size_t covered = 1;
  for (std::size_t i = 0; i < index; ++i) covered += covered * 2 <= length ? covered : length - covered;
  return covered * 2 <= length ? covered : length - covered;
}

class ByteClasses {
 public:
  // Keeps its storage between calls: a steady stream of buffers allocates nothing. Uses the
  // widest vector path the CPU has (checked once).
  void build(std::string_view bytes);
  // With a given path (tests compare every supported path with the portable one).
  void build(std::string_view bytes, ClassifyPath path);
  const std::vector<ByteBlock>& blocks() const { return blocks_; }
  std::size_t size() const { return size_; }

  // Word `w` of a set; zero past the end (bytes past the end belong to no class).
  std::uint64_t word(ByteSet set, std::size_t w) const { return w < block_count_ ? blocks_[w].*set : 0; }
  // Is any byte of [begin, end) in the set (any_of), or in every set's complement (!all_of)?
  bool any(ByteSet set, std::size_t begin, std::size_t end) const { return count_in(set, begin, end, false) != 0; }
  bool all(ByteSet set, std::size_t begin, std::size_t end) const { return count_in(set, begin, end, true) == 0; }
  // Calls on_bit(position) for each byte of [begin, end) in the set, in order.
  template <typename OnBit>
  void for_each_bit(ByteSet set, std::size_t begin, std::size_t end, OnBit&& on_bit) const {
    for (std::size_t w = begin / 64; w * 64 < end; ++w) {
      std::uint64_t bits = word(set, w);
      if (w == begin / 64) bits &= ~std::uint64_t{0} << (begin % 64);
      if (end - w * 64 < 64) bits &= (std::uint64_t{1} << (end - w * 64)) - 1;
      for (; bits; bits &= bits - 1) on_bit(w * 64 + static_cast<std::size_t>(__builtin_ctzll(bits)));
    }
  }
  // Calls on_run(begin, end) for each maximal run of at least `min_length` (1..64) bytes that are
  // in the set `in(block)` names (one member, or several ORed), in order.
  template <std::size_t min_length, typename In, typename OnRun>
  void for_each_run(In in, OnRun&& on_run) const;

 private:
  // Nonzero if a byte of [begin, end) is in the set (or, `inverted`, outside it).
  std::uint64_t count_in(ByteSet set, std::size_t begin, std::size_t end, bool inverted) const {
    if (begin >= end) return 0;
    const std::size_t first = begin / 64;
    const std::size_t last = (end - 1) / 64;
    for (std::size_t w = first; w <= last; ++w) {
      std::uint64_t bits = inverted ? ~word(set, w) : word(set, w);
      if (w == first) bits &= ~std::uint64_t{0} << (begin % 64);
      if (w == last && end - last * 64 < 64) bits &= (std::uint64_t{1} << (end - last * 64)) - 1;
      if (bits) return bits;
    }
    return 0;
  }

  std::vector<ByteBlock> blocks_;
  std::size_t size_ = 0;
  std::size_t block_count_ = 0;  // blocks_.size(), kept: a ByteBlock is 56 bytes, and size() divides
};

template <std::size_t min_length, typename In, typename OnRun>
void ByteClasses::for_each_run(In in, OnRun&& on_run) const {
  static_assert(min_length >= 1 && min_length <= 64);
  const auto word_of = [&](std::size_t w) -> std::uint64_t {
    if (w >= block_count_) return 0;
    return in(blocks_[w]);
  };
  // Bit i of `starts` is set when bytes i .. i + min_length - 1 are all in the set: the runs long
  // enough hold such a window, the others none. Two words at once, so windows that cross into the
  // next block are seen; a handful of shifts and ANDs a block, where walking bytes costs dozens.
  std::size_t done = 0;  // bytes before this are inside runs already reported
  std::uint64_t next = word_of(0);
  for (std::size_t w = 0; w < block_count_; ++w) {
    const std::uint64_t current = next;
    next = word_of(w + 1);
    if (current == 0) continue;
    unsigned __int128 window = (static_cast<unsigned __int128>(next) << 64) | current;
    [&]<std::size_t... steps>(std::index_sequence<steps...>) {
      // Doubling the window each time (1, 2, 4, ... then the rest): log2(min_length) steps.
      ((window &= window >> std::integral_constant<std::size_t, window_step(steps, min_length)>::value), ...);
    }(std::make_index_sequence<window_steps(min_length)>{});
    std::uint64_t starts = static_cast<std::uint64_t>(window);
    if (done > w * 64) starts &= done - w * 64 >= 64 ? 0 : ~std::uint64_t{0} << (done - w * 64);
    while (starts) {
      const std::size_t at = w * 64 + static_cast<std::size_t>(__builtin_ctzll(starts));
      // A run long enough has its first window at its first byte, in this block: `at` is where it begins.
      const std::size_t begin = at;
      std::size_t end = at;
      for (std::size_t ew = at / 64;; ++ew) {
        const unsigned bit = ew == at / 64 ? static_cast<unsigned>(at % 64) : 0u;
        const std::uint64_t outside = ~word_of(ew) & (~std::uint64_t{0} << bit);
        if (outside) {
          end = ew * 64 + static_cast<std::size_t>(__builtin_ctzll(outside));
          break;
        }
      }
      if (end > size_) end = size_;
      on_run(begin, end);
      done = end;
      // The windows inside the run start no other run.
      starts &= end - w * 64 >= 64 ? 0 : ~std::uint64_t{0} << (end - w * 64);
    }
  }
}

}  // namespace leakguard::matchers
