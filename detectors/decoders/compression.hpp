// Content-Encoding gzip, deflate and br, with a hard bound on output: a compressed body is
// attacker-controlled, and a few kilobytes can claim gigabytes. Reaching the bound is reported,
// never an allocation failure; the caller turns it into an anomaly finding.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace leakguard::decoders {

enum class Compression { gzip, deflate, brotli };

// "gzip", "x-gzip", "deflate", "br" (case-insensitive); nullopt for identity or unknown codings.
std::optional<Compression> compression_from_token(std::string_view token);
std::string_view to_string(Compression compression);
// gzip magic bytes (1f 8b): compressed data inside base64 is recognised by its header.
bool looks_like_gzip(std::string_view bytes);

enum class DecompressStatus {
  ok,            // the whole input decoded
  truncated,     // the input ended before the compressed stream did (output is what was decoded)
  error,         // corrupt input (output is what was decoded before the error)
  output_limit,  // output reached max_output: decoding stopped there
};

// Appends at most `max_output` bytes of decompressed `input` to `out`.
DecompressStatus decompress(Compression compression, std::string_view input, std::string& out, std::size_t max_output);

}  // namespace leakguard::decoders
