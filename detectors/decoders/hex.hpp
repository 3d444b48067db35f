// Hex of ASCII ("333533323039..." for an IMEI): some SDKs hex-encode identifiers instead of
// hashing them. Also the hex encoding used to derive known forms.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace leakguard::decoders {

// Even length, at least `min_chars`, hex digits only.
bool looks_like_hex(std::string_view text, std::size_t min_chars = 16);
// Hex of printable ASCII: every byte's high digit is 2 to 7. Random hex (hashes, keys) fails on
// its first few pairs, which is why sniffing asks this rather than decoding.
bool looks_like_hex_text(std::string_view text, std::size_t min_chars = 16);
// Appends the decoded bytes; false on odd length or a non-hex byte.
bool hex_decode(std::string_view text, std::string& out);
std::string hex_encode(std::string_view bytes, bool upper = false);

}  // namespace leakguard::decoders
