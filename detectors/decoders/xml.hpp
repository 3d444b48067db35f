// XML bodies (SOAP, plist, old activation protocols): element text and attribute values with the
// element or attribute name as their key. A tolerant scanner, not a validating parser: detection
// needs the values and their names, and malformed XML must still be looked at.
#pragma once

#include <cstddef>
#include "detectors/decoders/function_ref.hpp"
#include <string>
#include <string_view>

namespace leakguard::decoders {

struct XmlValue {
  std::string_view name;   // element name, or "element@attribute"
  std::string_view key;    // local name of the element or attribute (prefix removed)
  std::string_view raw;    // bytes as written (entities not resolved)
  std::size_t offset = 0;  // of raw in the text
  bool has_entities = false;
};

bool looks_like_xml(std::string_view text);
// Calls `on_value` for each non-blank text node and attribute value, up to `max_values`.
std::size_t parse_xml_values(std::string_view text, std::size_t max_values,
                             FunctionRef<void(const XmlValue&)> on_value);
// Appends `raw` with the five predefined entities and numeric character references resolved.
void xml_unescape(std::string_view raw, std::string& out);

}  // namespace leakguard::decoders
