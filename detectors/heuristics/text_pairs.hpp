// `key=value` and `key: value` pairs inside free text: a plain-text body, a log file uploaded as a
// multipart part, a string field holding "mcc=460 mnc=01 lac=41234 cid=98765432". The heuristics
// judge each pair's value under its key as they judge a field, so a bare MAC, an Android ID or a
// cell id written in a log line is read with its name.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace leakguard {

struct TextPair {
  std::uint32_t begin = 0;  // the value, as offsets in the scanned bytes
  std::uint32_t end = 0;
  std::string_view key;     // as written ("android_id", "Android ID")
  std::uint32_t record = 0; // pairs of one record (a line, or lines of pairs in a row) share it
};

// Text worth reading for pairs: longer than one value and holding a separator.
bool may_hold_text_pairs(std::string_view text);

// Appends the pairs of bytes [begin, end) whose value the heuristics can judge by its key (up to 20
// hex digits or digits) to `out`, at most `limit` of them. Records count from `first_record`; the
// next free record number is returned. A record ends at a blank line or a line without such a pair.
std::uint32_t find_text_pairs(std::string_view bytes, std::size_t begin, std::size_t end, std::uint32_t first_record,
                              std::size_t limit, std::vector<TextPair>& out);

}  // namespace leakguard
