// The byte classes every byte-level finder reads (detectors/matchers/byte_classes.hpp): each
// vector path this CPU has against the portable one, and the run, any and all queries against a
// byte walk, over texts that put every class at every offset of the 64-byte blocks.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "detectors/matchers/byte_classes.hpp"

using leakguard::matchers::ByteBlock;
using leakguard::matchers::ByteClasses;
using leakguard::matchers::ClassifyPath;

namespace {

std::string random_text(std::mt19937& rng) {
  // Runs of one class (so long runs occur), single bytes of any value, and the separators.
  static constexpr const char* pieces[] = {"0123456789", "abcdef", "ABCDEF", "ghijxyz", "GHXYZ", "-", "_", "+", "/", ":",
                                           ".", "@", " ", "=", "\x80", "\xff", "\x7f", "`", "{", "[", "9", "a"};
  std::string text;
  const std::size_t length = rng() % 400;
  while (text.size() < length) {
    if (rng() % 6 == 0) text.push_back(static_cast<char>(rng() % 256));
    else text += pieces[rng() % std::size(pieces)];
  }
  return text;
}

bool in_class(char c, std::uint64_t ByteBlock::*set) {
  const bool digit = c >= '0' && c <= '9';
  const bool lower = c >= 'a' && c <= 'z';
  const bool upper = c >= 'A' && c <= 'Z';
  if (set == &ByteBlock::digit) return digit;
  if (set == &ByteBlock::hex) return digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  if (set == &ByteBlock::letter) return lower || upper;
  if (set == &ByteBlock::url) return c == '-' || c == '_';
  if (set == &ByteBlock::standard) return c == '+' || c == '/';
  if (set == &ByteBlock::separator) return c == '-' || c == ':' || c == '.';
  return c == '@';
}

constexpr std::uint64_t ByteBlock::*all_sets[] = {&ByteBlock::digit,    &ByteBlock::hex,       &ByteBlock::letter, &ByteBlock::url,
                                                  &ByteBlock::standard, &ByteBlock::separator, &ByteBlock::at};

using Runs = std::vector<std::pair<std::size_t, std::size_t>>;

template <std::size_t min_length, typename In>
Runs runs(const ByteClasses& classes, In in) {
  Runs found;
  classes.for_each_run<min_length>(in, [&](std::size_t begin, std::size_t end) { found.emplace_back(begin, end); });
  return found;
}

}  // namespace

TEST_CASE("byte classes: every vector path classifies as the byte-by-byte definition does") {
  std::mt19937 rng(17);
  const auto paths = leakguard::matchers::supported_classify_paths();
  MESSAGE("classify paths on this CPU: ", paths.size());
  for (int round = 0; round < 2000; ++round) {
    const std::string text = random_text(rng);
    for (const ClassifyPath path : paths) {
      ByteClasses classes;
      classes.build(text, path);
      CAPTURE(static_cast<int>(path));
      REQUIRE(classes.size() == text.size());
      REQUIRE(classes.blocks().size() == (text.size() + 63) / 64);
      for (const auto set : all_sets)
        for (std::size_t i = 0; i < classes.blocks().size() * 64; ++i) {
          const bool expected = i < text.size() && in_class(text[i], set);
          if (((classes.word(set, i / 64) >> (i % 64)) & 1u) != expected) {
            CAPTURE(text);
            CAPTURE(i);
            FAIL("class bit differs from the definition");
          }
        }
    }
  }
}

TEST_CASE("byte classes: runs, any and all answer as a byte walk does") {
  std::mt19937 rng(23);
  const auto digits = [](const ByteBlock& block) { return block.digit; };
  const auto base64 = [](const ByteBlock& block) { return block.letter | block.digit | block.url | block.standard; };
  const auto walk = [](const std::string& text, std::size_t min_length, auto member) {
    Runs found;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
      if (i < text.size() && member(text[i])) continue;
      if (i - start >= min_length) found.emplace_back(start, i);
      start = i + 1;
    }
    return found;
  };
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  const auto is_base64 = [](char c) {
    return in_class(c, &ByteBlock::letter) || in_class(c, &ByteBlock::digit) || c == '-' || c == '_' || c == '+' || c == '/';
  };
  for (int round = 0; round < 3000; ++round) {
    const std::string text = random_text(rng);
    ByteClasses classes;
    classes.build(text);
    CAPTURE(text);
    CHECK(runs<1>(classes, digits) == walk(text, 1, is_digit));
    CHECK(runs<7>(classes, digits) == walk(text, 7, is_digit));
    CHECK(runs<22>(classes, base64) == walk(text, 22, is_base64));
    CHECK(runs<64>(classes, base64) == walk(text, 64, is_base64));
    for (int probe = 0; probe < 8 && !text.empty(); ++probe) {
      const std::size_t begin = rng() % text.size();
      const std::size_t end = begin + rng() % (text.size() - begin + 1);
      for (const auto set : all_sets) {
        bool any = false;
        bool all = true;
        for (std::size_t i = begin; i < end; ++i) {
          any = any || in_class(text[i], set);
          all = all && in_class(text[i], set);
        }
        CHECK(classes.any(set, begin, end) == any);
        CHECK(classes.all(set, begin, end) == all);
      }
    }
  }
}
