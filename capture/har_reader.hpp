// HTTP Archive (HAR 1.2) files, as browsers, mitmproxy, Charles and HTTP Toolkit export them: every
// request entry rebuilt into the HttpRequest the proxy would have built from the same exchange, so
// `leakguard scan` inspects it with the proxy's own Inspector. Responses are not read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/http_message.hpp"
#include "detectors/decoders/function_ref.hpp"

namespace leakguard {

// One request entry of log.entries.
struct HarRequest {
  std::size_t index = 0;   // position in log.entries (0-based), for messages
  HttpRequest request;     // origin-form target, Host first, one Cookie header, body as sent
  bool https = false;      // the URL's scheme was https or wss: the exchange was TLS
  std::string host;        // from the URL's authority
  std::uint16_t port = 0;  // from the URL, else the scheme's default
  std::string server_ip;   // serverIPAddress without IPv6 brackets; empty when the tool wrote none
  std::string started;     // startedDateTime as RFC 3339 UTC with milliseconds; empty when unreadable
};

struct HarReadResult {
  bool is_har = true;          // false: valid JSON, but no log.entries array (not a HAR at all)
  std::size_t entries = 0;     // entries seen, good or bad
  std::size_t bad_entries = 0;  // entries skipped (each told to on_bad_entry)
  std::optional<std::string> error;  // the file is not readable JSON past some point: what and where
};

// Reads the HAR in `buffer`, calling `on_request` for every readable request entry in file order
// and `on_bad_entry` (index, reason) for one that cannot be rebuilt (no URL, bad base64, ...).
// Entries before a syntax error or a cut are delivered first. Bodies longer than `max_body_bytes`
// are cut and marked truncated, as the proxy does. `buffer` gets simdjson's padding appended for
// the duration of the call (reserve it to avoid a copy); its content is unchanged on return.
HarReadResult read_har(std::string& buffer, std::size_t max_body_bytes,
                       decoders::FunctionRef<void(HarRequest&&)> on_request,
                       decoders::FunctionRef<void(std::size_t, std::string_view)> on_bad_entry);

// The extra capacity read_har needs behind the file's bytes.
std::size_t har_padding();

// "2026-12-06T10:00:00.123456+01:00" -> "2026-12-06T09:00:00.123Z"; nullopt when not RFC 3339.
std::optional<std::string> normalize_har_time(std::string_view text);

}  // namespace leakguard
