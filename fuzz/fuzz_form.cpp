// Form pairs: names and values are views of the input at the offsets they claim.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "detectors/decoders/form.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leakguard::decoders;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  looks_like_form(text);
  parse_form(text, 10000, [&](const FormPair& pair) {
    if (text.substr(pair.name_offset, pair.name.size()) != pair.name) __builtin_trap();
    if (pair.has_value && text.substr(pair.value_offset, pair.value.size()) != pair.value) __builtin_trap();
  });
  return 0;
}
