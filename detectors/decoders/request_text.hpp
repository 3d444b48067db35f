// Text tests and small helpers shared by the RequestDecoder's files (request_decoder.cpp, the head,
// the structured parsers, the protobuf and gRPC glue). Internal to detectors/decoders.
#pragma once

#include <string_view>

#include "common/http_message.hpp"
#include "detectors/decoded_view.hpp"

namespace leakguard::request_text {

bool icontains(std::string_view haystack, std::string_view needle);
std::string_view trim(std::string_view text);
// Decoded base64 is kept only if it is text (or a known container): random bytes are what a hash
// or a cipher gives, and scanning them would only waste time. Text is ASCII without control
// characters, or valid UTF-8 (random high bytes almost never are).
bool mostly_printable(std::string_view bytes);
bool printable_ascii(std::string_view bytes);
// "a>b" from chain "a" and layer "b", in the arena.
std::string_view join_layers(Arena& arena, std::string_view chain, std::string_view layer);
// Decodes a (parameter) name for `where`; percent escapes resolved, same bytes otherwise.
std::string_view decoded_name(Arena& arena, std::string_view name);
// UUIDs and dashed hex are valid URL-safe base64, but never base64 of anything.
bool hex_and_dashes(std::string_view text);
// True when a field value has no layer to decode (see the definition).
bool plain_value(std::string_view value);
// HttpRequestHead::header() lives with the codec (leakguard_http); detection needs no codec.
std::string_view first_header(const HttpRequestHead& head, std::string_view name);
// A header or trailer field named "*-bin" (gRPC binary metadata: base64 of bytes).
bool is_bin_header(const FieldSpan& field);

}  // namespace leakguard::request_text
