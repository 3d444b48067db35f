// Masking of identifier values before they reach any log or event: design.md forbids a raw
// identifier anywhere in leakguard's output, including URLs and header excerpts.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace leakguard {

// Keeps a short prefix (at most a third of the value, never more than 6 characters) and replaces
// the rest with '*', one per character, so the length stays visible but the value does not.
std::string mask_value(std::string_view value);

// Returns `text` with every occurrence of each secret (case-insensitively) replaced by its mask.
// Used for fields that carry request text (url, where, sni). Secrets shorter than 4 are ignored.
std::string mask_occurrences(std::string_view text, const std::vector<std::string>& secrets);

}  // namespace leakguard
