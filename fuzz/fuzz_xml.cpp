// XML values: every reported value is its bytes at its offset; entity decoding never crashes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "detectors/decoders/xml.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leakguard::decoders;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  looks_like_xml(text);
  parse_xml_values(text, 10000, [&](const XmlValue& value) {
    if (value.offset + value.raw.size() > text.size() || text.substr(value.offset, value.raw.size()) != value.raw)
      __builtin_trap();
  });
  std::string out;
  xml_unescape(text, out);
  return 0;
}
