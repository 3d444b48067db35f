// What the proxy refuses in a request head, and what it changes in one it forwards. The checks
// read a parsed head only (no llhttp, no I/O), so `leakguard scan`, the proxy and the fuzzers share them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/http_message.hpp"

namespace leakguard {

// Strips RFC 9110 OWS (spaces and tabs) from both ends.
std::string_view trim_ows(std::string_view value);

// Checks a parsed request head for framing that two HTTP implementations could read differently
// (RFC 9112 section 6; the shapes of the HTTP Desync Guardian suite), whitespace before a colon
// (RFC 9112 section 5.1), and a Host or absolute-form authority that names no valid destination.
// Empty when the head is safe. The request parser runs it at every head.
std::optional<std::string> find_ambiguous_framing(const HttpRequestHead& head);

// RFC 9110 section 7.2's `uri-host [":" port]`, stricter where servers differ: a DNS-style name
// (letters, digits, "-._~", percent-encodings), an IPv4 address or a bracketed IPv6 address
// without zone; a port of 1 to 5 digits in 1..65535 when there is a colon. No userinfo, no
// whitespace, no sub-delims, never empty.
bool is_valid_host_authority(std::string_view authority);

// True when the request's transfer codings are well formed and end in exactly one "chunked":
// the only Transfer-Encoding that frames a request (RFC 9112 section 6.3).
bool transfer_coding_is_chunked(const HttpRequestHead& head);

// What goes upstream differs from what was received only in transfer-coding parameters, which
// RFC 9112 defines for none of them: "chunked;x" becomes "chunked", exactly the framing the proxy
// used. Everything else a server could read its own way is refused, not normalised.
void normalize_for_upstream(HttpRequestHead& head);

}  // namespace leakguard
