// multipart/form-data (and other multipart/*) bodies: each part's name, type and body bytes with
// their offset, so the request decoder can parse each part by its own Content-Type.
#pragma once

#include <cstddef>
#include "detectors/decoders/function_ref.hpp"
#include <string_view>

namespace leakguard::decoders {

struct MultipartPart {
  std::string_view name;              // form field name from Content-Disposition, may be empty
  std::string_view filename;
  std::string_view content_type;
  std::string_view content_encoding;  // Content-Transfer-Encoding (base64, quoted-printable, ...)
  std::string_view body;
  std::size_t body_offset = 0;        // in the multipart body
};

// The boundary parameter of a Content-Type, unquoted; empty if none.
std::string_view multipart_boundary(std::string_view content_type);
// Calls `on_part` for each part up to `max_parts`; returns the number of parts found. A missing
// closing delimiter still reports the parts seen (the body may have been cut at the limit).
std::size_t parse_multipart(std::string_view body, std::string_view boundary, std::size_t max_parts,
                            FunctionRef<void(const MultipartPart&)> on_part);

}  // namespace leakguard::decoders
