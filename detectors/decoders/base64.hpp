// Base64 as phones send it: standard or URL-safe alphabet, padded or not, wrapped at 76 columns.
// Decoding is strict about the alphabet (so ordinary words are not "decoded" into noise) and
// bounded in output.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>

namespace leakguard::decoders {

// True when `text` could be one base64 blob of text (or gzip) of at least `min_chars` significant
// characters: one alphabet only, padding only at the end, line breaks allowed, both letter cases.
bool looks_like_base64(std::string_view text, std::size_t min_chars = 16);
// True when `text` holds a byte that is in neither alphabet (nor padding or a line break): then
// it is no base64 and no hex either. Stops at the first such byte.
bool has_non_base64_byte(std::string_view text);
// Appends the decoded bytes; false (with `out` unspecified) on a byte outside the alphabet, a
// mixed alphabet, misplaced padding, an impossible length or more than `max_output` bytes.
bool base64_decode(std::string_view text, std::string& out,
                   std::size_t max_output = std::numeric_limits<std::size_t>::max());
std::string base64_encode(std::string_view bytes, bool url_safe = false, bool pad = true);

}  // namespace leakguard::decoders
