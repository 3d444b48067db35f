// application/x-www-form-urlencoded bodies and URL query strings: name=value pairs separated by
// '&'. Values are reported as they lie in the text (still percent-encoded) with their offsets, so
// detectors can scan them in place and the request decoder percent-decodes only where needed.
#pragma once

#include <cstddef>
#include "detectors/decoders/function_ref.hpp"
#include <string_view>

namespace leakguard::decoders {

struct FormPair {
  std::string_view name;   // raw (percent-encoded)
  std::string_view value;  // raw; empty for "name" without '='
  std::size_t name_offset = 0;
  std::size_t value_offset = 0;
  bool has_value = false;
};

// Calls `on_pair` for every non-empty '&'-separated item, up to `max_pairs`; returns the count.
std::size_t parse_form(std::string_view text, std::size_t max_pairs, FunctionRef<void(const FormPair&)> on_pair);

// Sniffing for bodies whose type says nothing useful (text/plain): one line of name=value pairs
// whose names look like parameter names.
bool looks_like_form(std::string_view text);

}  // namespace leakguard::decoders
