// JSON bodies and values as fields: every string and number with its path ("cell.cid",
// "items[0].imei") and, where the bytes allow, its position in the text, so that a plain value is
// scanned where it lies and can be redacted in place. Parsing is simdjson's On-Demand parser
// (Debian libsimdjson-dev), which gives each token's bytes in the text.
#pragma once

#include <cstddef>
#include <cstdint>
#include "detectors/decoders/function_ref.hpp"
#include <string_view>

namespace leakguard::decoders {

struct JsonField {
  std::string_view path;   // valid during the callback only
  std::string_view key;    // the innermost object key on the path ("" at top level)
  std::string_view value;  // escapes resolved; a number exactly as written
  std::size_t offset = 0;  // of the value's bytes in the text (inside the quotes for a string)
  std::size_t length = 0;
  bool literal = false;    // text[offset, offset+length) == value byte for byte
  bool is_string = false;
  std::uint32_t group = 0;  // the enclosing object or array, numbered from 1 in document order
};

struct JsonParseResult {
  bool valid = false;       // the whole text is one JSON document
  std::size_t fields = 0;   // fields reported (also when the text was cut short)
};

// Calls `on_field` for every string and number, in document order, stopping after `max_fields`.
// Never throws: malformed JSON ends the walk and says so in `valid`.
JsonParseResult parse_json_fields(std::string_view text, std::size_t max_fields,
                                  FunctionRef<void(const JsonField&)> on_field);

// Quick check before parsing: first non-space byte is '{' or '['.
bool looks_like_json(std::string_view text);

// Where the string that is still open at the end of `text` starts (the text was cut inside it), or
// text.size(): simdjson refuses such a text as a whole, so callers parse the part before it.
std::size_t unclosed_string(std::string_view text);

}  // namespace leakguard::decoders
