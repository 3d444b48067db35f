#include "detectors/heuristics/text_pairs.hpp"

#include "detectors/key_context.hpp"

namespace leakguard {
namespace {

// Where a value ends: whitespace, a list or markup delimiter, a quote. A MAC's ':' and a
// coordinate's '.' or '-' stay inside.
bool ends_value(char c) {
  switch (c) {
    case ' ': case '\t': case '\r': case '\n': case ',': case ';': case '&': case '"': case '\'': case '<': case '>':
    case '(': case ')': case '[': case ']': case '{': case '}': case '|':
      return true;
    default:
      return false;
  }
}

}  // namespace

bool may_hold_text_pairs(std::string_view text) {
  // Shorter than "k=v v": one value, already judged under its own name.
  return text.size() > 20 && (text.find('=') != std::string_view::npos || text.find(':') != std::string_view::npos);
}

std::uint32_t find_text_pairs(std::string_view bytes, std::size_t begin, std::size_t end, std::uint32_t first_record,
                              std::size_t limit, std::vector<TextPair>& out) {
  std::uint32_t record = first_record;
  bool record_open = false;
  std::size_t line = begin;
  while (line < end && out.size() < limit) {
    std::size_t line_end = line;
    while (line_end < end && bytes[line_end] != '\n') ++line_end;
    bool line_has_pair = false;
    for (std::size_t i = line; i < line_end && out.size() < limit; ++i) {
      if (bytes[i] != '=' && bytes[i] != ':') continue;
      const std::string_view key = pair_key_before(bytes, line, i + 1);
      if (key.empty()) continue;
      std::size_t value = i + 1;
      for (int n = 0; n < 3 && value < line_end && (bytes[value] == ' ' || bytes[value] == '\t' || bytes[value] == '"' ||
                                                    bytes[value] == '\''); ++n)
        ++value;
      std::size_t value_end = value;
      while (value_end < line_end && !ends_value(bytes[value_end])) ++value_end;
      if (value_end == value) continue;
      if (!line_has_pair && !record_open) ++record;
      line_has_pair = record_open = true;
      out.push_back({static_cast<std::uint32_t>(value), static_cast<std::uint32_t>(value_end), key, record});
      // The scan goes on inside the value: "device: android_id=f1e2..." holds a pair of its own. A
      // MAC's inner colons follow digits or make keys that name nothing ("aa:bb").
    }
    // A blank line or a line of prose ends the record.
    if (!line_has_pair) record_open = false;
    line = line_end + 1;
  }
  return record + 1;
}

}  // namespace leakguard
