// JSON Web Tokens (RFC 7519) in the compact JWS form apps send them in: BASE64URL(header) '.'
// BASE64URL(payload) '.' BASE64URL(signature), often after an HTTP auth scheme ("Authorization:
// Bearer eyJ..."). Header and payload are JSON that an app fills with claims of its choosing (a
// device id among them); the three parts together are no base64 blob, so they need their own
// decoder.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace leakguard::decoders {

struct JwtParts {
  std::string_view header;   // still base64url
  std::string_view payload;  // still base64url
};

// The header and payload of `text` if it is one JWT, optionally after a scheme word and a space:
// three dot-separated runs of the URL-safe base64 alphabet, the header starting "eyJ" (a JSON
// object), the signature possibly empty (an unsecured token). Cheap to reject: most values fail
// on their first bytes.
std::optional<JwtParts> jwt_parts(std::string_view text);
// Where a JWT would start in `text` ("eyJ" at 0 or after the scheme), or npos: the first bytes
// only, for a caller that must not skip a value that may be one.
std::size_t jwt_start(std::string_view text);

}  // namespace leakguard::decoders
