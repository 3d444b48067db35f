// JSON fields on arbitrary text: a field marked literal is exactly its bytes in the text, and
// offsets stay inside the text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "detectors/decoders/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leakguard::decoders;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  parse_json_fields(text, 10000, [&](const JsonField& field) {
    if (field.offset + field.length > text.size()) __builtin_trap();
    if (field.literal && text.substr(field.offset, field.length) != field.value) __builtin_trap();
  });
  return 0;
}
