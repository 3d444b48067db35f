#include "detectors/heuristics/text_pairs.hpp"

#include <algorithm>
#include <cstring>

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

bool is_value_padding(char c) { return c == ' ' || c == '\t' || c == '"' || c == '\''; }

bool is_hex_digit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// What the heuristics judge by its key: at most 20 hex digits or digits, maybe after a '-' (a bare
// MAC, an Android ID, a cell id, an E7 coordinate). Any other value needs no key read for it.
bool judgeable(std::string_view value) {
  if (!value.empty() && value.front() == '-') value.remove_prefix(1);
  if (value.empty() || value.size() > 20) return false;
  return std::all_of(value.begin(), value.end(), is_hex_digit);
}

}  // namespace

bool may_hold_text_pairs(std::string_view text) {
  // Shorter than "k=v v": one value, already judged under its own name.
  return text.size() > 20 && (text.find('=') != std::string_view::npos || text.find(':') != std::string_view::npos);
}

std::uint32_t find_text_pairs(std::string_view bytes, std::size_t begin, std::size_t end, std::uint32_t first_record,
                              std::size_t limit, std::vector<TextPair>& out) {
  // Separators by memchr, and lines and keys only for a value the heuristics could judge: walking a
  // log byte by byte and reading a key at every ':' doubled its inspection time.
  const auto find = [&](char c, std::size_t from) {
    const void* hit = from < end ? std::memchr(bytes.data() + from, c, end - from) : nullptr;
    return hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - bytes.data()) : end;
  };
  std::uint32_t record = first_record;
  bool any_pair = false;
  std::size_t last_pair_line = begin;  // start of the line of the last pair
  std::size_t last_pair_end = begin;
  std::size_t next_colon = find(':', begin);
  std::size_t next_equals = find('=', begin);
  while (out.size() < limit) {
    const std::size_t i = std::min(next_colon, next_equals);
    if (i >= end) break;
    if (i == next_colon) next_colon = find(':', i + 1);
    else next_equals = find('=', i + 1);
    std::size_t value = i + 1;
    for (int n = 0; n < 3 && value < end && is_value_padding(bytes[value]); ++n) ++value;
    // Hex digits up to a delimiter: anything else ("12.345Z", "sync") is left at its first byte.
    std::size_t value_end = value < end && bytes[value] == '-' ? value + 1 : value;
    while (value_end < end && value_end - value <= 21 && is_hex_digit(bytes[value_end])) ++value_end;
    if (value_end < end && !ends_value(bytes[value_end])) continue;
    if (!judgeable(bytes.substr(value, value_end - value))) continue;
    const std::size_t floor = any_pair ? last_pair_end : begin;
    const void* newline = i > floor ? ::memrchr(bytes.data() + floor, '\n', i - floor) : nullptr;
    const std::size_t line =
        newline ? static_cast<std::size_t>(static_cast<const char*>(newline) - bytes.data()) + 1 : (any_pair ? last_pair_line : begin);
    const std::string_view key = pair_key_before(bytes, line, i + 1);
    if (key.empty()) continue;
    // A record: pairs on one line, and lines of pairs that follow one another. A blank line or a
    // line without a pair between two pairs starts a new one.
    const bool next_line = line != last_pair_line && line - 1 >= last_pair_end &&
                           std::memchr(bytes.data() + last_pair_end, '\n', line - 1 - last_pair_end) == nullptr;
    if (!any_pair || (line != last_pair_line && !next_line)) ++record;
    any_pair = true;
    last_pair_line = line;
    last_pair_end = value_end;
    out.push_back({static_cast<std::uint32_t>(value), static_cast<std::uint32_t>(value_end), key, record});
    // The scan goes on inside the value: "device: android_id=f1e2..." holds a pair of its own.
  }
  return record + 1;
}

}  // namespace leakguard
