// Percent-decoding for detection. Unlike a form parser, '+' stays '+': "%2B47..." and "+47..." both
// must reach the detectors as an E.164 number, and a space where a plus was helps nobody.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace leakguard::decoders {

// True when `text` holds at least one valid %XX escape.
bool has_percent_escape(std::string_view text);
// Appends `text` with every valid %XX escape decoded; invalid escapes stay as they are. Returns
// the number of escapes decoded.
std::size_t percent_decode(std::string_view text, std::string& out);
// The offset in `raw` of the byte that one layer of percent-decoding turns into decoded offset
// `decoded` (raw.size() past the end).
std::size_t raw_offset_of_decoded(std::string_view raw, std::size_t decoded);

// raw_offset_of_decoded for many offsets into one text: a pass indexes where its escapes decode
// to, then each offset is a binary search. A buffer of thousands of percent-encoded identifiers
// walked its text once per finding before (72 KB took seconds: quadratic).
class PercentOffsets {
 public:
  // Indexes `raw`, unless it is the text indexed last (the same bytes at the same address).
  void index(std::string_view raw);
  // raw_offset_of_decoded(raw, decoded) for the indexed `raw`.
  std::size_t raw_offset(std::size_t decoded) const;

 private:
  std::string_view raw_;
  bool indexed_ = false;
  std::vector<std::size_t> escapes_;  // the decoded offset of each escape, ascending
};

}  // namespace leakguard::decoders
