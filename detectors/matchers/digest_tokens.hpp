// Digest-shaped tokens: a hash is sent whole, as one run of hex (32/40/64 characters for
// MD5/SHA-1/SHA-256) or base64 (22/27/43 without padding). The known-identifier detector looks
// these tokens up in its digest table, instead of matching thousands of random-looking literals
// against every byte of every request.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "detectors/matchers/byte_classes.hpp"

namespace leakguard::matchers {

struct Token {
  std::size_t begin = 0;
  std::size_t end = 0;
};

// Appends every maximal run of [A-Za-z0-9_-] (URL-safe base64) or of [A-Za-z0-9+/] (standard) whose
// length is a digest length (32, 40, 64 if all hex; 22, 27, 43); a run of both alphabets once.
void find_digest_tokens(const ByteClasses& classes, std::vector<Token>& out);
// The same for bytes not classified yet (tests, one-off callers).
void find_digest_tokens(std::string_view bytes, std::vector<Token>& out);

}  // namespace leakguard::matchers
