#include "detectors/matchers/digest_tokens.hpp"

#include <cstdint>

namespace leakguard::matchers {
namespace {

constexpr std::size_t shortest = 22;  // a base64 MD5, the shortest digest

// Hex digests are 32, 40 or 64 hex digits; base64 digests 22, 27 or 43 characters.
void add_if_digest(const ByteClasses& classes, std::size_t begin, std::size_t end, std::vector<Token>& out) {
  const std::size_t n = end - begin;
  if (((n == 32 || n == 40 || n == 64) && classes.all(&ByteBlock::hex, begin, end)) || n == 22 || n == 27 || n == 43)
    out.push_back({begin, end});
}

// The runs of one alphabet inside a run of any base64 character: `cut` holds the two characters
// the other alphabet has and this one has not.
void split(const ByteClasses& classes, std::size_t begin, std::size_t end, ByteSet cut, std::vector<Token>& out) {
  std::size_t start = begin;
  classes.for_each_bit(cut, begin, end, [&](std::size_t at) {
    add_if_digest(classes, start, at, out);
    start = at + 1;
  });
  add_if_digest(classes, start, end, out);
}

}  // namespace

void find_digest_tokens(const ByteClasses& classes, std::vector<Token>& out) {
  const auto base64 = [](const ByteBlock& block) { return block.letter | block.digit | block.url | block.standard; };
  classes.for_each_run<shortest>(base64, [&](std::size_t begin, std::size_t end) {
    const bool url = classes.any(&ByteBlock::url, begin, end);
    const bool standard = classes.any(&ByteBlock::standard, begin, end);
    if (!url && !standard) {
      // Letters and digits only: the run is a token of both alphabets, reported once.
      add_if_digest(classes, begin, end, out);
      return;
    }
    // The runs of each alphabet: a hash before "-gzip" is a standard-alphabet run, the hex
    // between two slashes a URL-safe one.
    split(classes, begin, end, &ByteBlock::standard, out);
    split(classes, begin, end, &ByteBlock::url, out);
  });
}

void find_digest_tokens(std::string_view bytes, std::vector<Token>& out) {
  thread_local ByteClasses classes;
  classes.build(bytes);
  find_digest_tokens(classes, out);
}

}  // namespace leakguard::matchers
