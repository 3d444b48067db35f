// Recognizes a TLS ClientHello in the first bytes of a connection and extracts what the intercept
// decision needs (SNI, ALPN, versions). A pure function over a byte buffer that the session fills by
// peeking, so a connection that is passed through afterwards reaches the server byte for byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace leakguard {

// Upper bound on the bytes a ClientHello may span, record headers included. Real ones are 200 to
// 2,000 bytes (post-quantum key shares push toward 2 KB); 32 KiB leaves room for big PSK tickets and
// padding, while a peer streaming endless fragments is called malformed instead of being buffered.
// The caller's peek buffer needs to be this large to see any ClientHello through.
inline constexpr std::size_t max_client_hello_bytes = 32 * 1024;

inline constexpr std::uint16_t tls_version_1_3 = 0x0304;

struct ClientHello {
  std::uint16_t record_version = 0;  // from the first record header (often 0x0301 for compatibility)
  std::uint16_t legacy_version = 0;  // ClientHello.legacy_version (0x0303 for TLS 1.2 and 1.3)
  std::string server_name;           // SNI host_name as sent (not lower-cased); empty when absent
  std::vector<std::string> alpn;     // protocol names in the client's order; empty when absent
  // supported_versions as sent, GREASE values included; empty when the extension is absent (then
  // legacy_version is the highest version the client speaks).
  std::vector<std::uint16_t> supported_versions;
  std::size_t record_bytes = 0;  // bytes of the records that carried the ClientHello

  bool has_server_name() const { return !server_name.empty(); }
  bool tls13_capable() const;  // supported_versions lists TLS 1.3
};

enum class ClientHelloStatus {
  ok,         // `hello` is filled in
  need_more,  // a prefix of a plausible ClientHello: peek again when more bytes have arrived
  not_tls,    // not a TLS handshake record: raw TCP or plain HTTP, say
  malformed,  // looks like TLS but breaks the format or the size bound
};

struct ClientHelloParse {
  ClientHelloStatus status = ClientHelloStatus::need_more;
  // For need_more: the buffer size (counted from its start) needed before another try can get
  // further. It grows as record headers become visible; it is never above max_client_hello_bytes.
  std::size_t bytes_needed = 0;
  ClientHello hello;
};

// Looks at the start of `bytes` only, never past max_client_hello_bytes, and tolerates any input
// (it is fuzzed). Handshake messages fragmented over several records are reassembled. An SSLv2
// compatible hello (first byte 0x80) is reported as not_tls: no current client sends one.
ClientHelloParse parse_client_hello(std::span<const std::uint8_t> bytes);

}  // namespace leakguard
