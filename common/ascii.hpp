// ASCII case-insensitive comparison for protocol tokens (header names, methods, codings). HTTP
// tokens are ASCII, and std::tolower would consult the C locale for every byte.
#pragma once

#include <string_view>

namespace leakguard {

constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

}  // namespace leakguard
