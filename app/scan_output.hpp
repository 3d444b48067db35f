// The JSON Lines that `leakguard scan` writes: one finding or anomaly per line, with `source` (the
// file) in place of the proxy's connection fields, and, for a flow cut out of a packet capture,
// the flow's own addresses and capture time as well.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "detectors/finding.hpp"
#include "proxy/http_codec.hpp"

namespace leakguard {

// Where a scanned exchange came from inside a capture (pcap flow, HAR entry). Empty fields are
// left out of the event; `ts` empty means "now".
struct ScanOrigin {
  std::string client;     // "10.42.0.11:51234"
  std::string dst_ip;
  std::uint16_t dst_port = 0;
  std::string dst_host;   // from Host, SNI or the capture's DNS answers
  std::string dst_host_source;  // "http", "sni", "dns"
  std::string device;     // the device profile the client matched
  std::string ts;         // RFC 3339 UTC with milliseconds, from the capture
  std::string name_key;   // captures: the client's key in the DNS name map (DnsNameMap::client_key)
};

class ScanOutput {
 public:
  explicit ScanOutput(std::string source) : source_(std::move(source)) {}

  // One line per finding and anomaly of `result`. `head` (an HTTP request) adds method and url.
  void report(const InspectionResult& result, std::string_view transport, const HttpRequestHead* head,
              const ScanOrigin* origin = nullptr);
  bool found() const { return found_; }

 private:
  nlohmann::ordered_json start(const char* type, std::string_view transport, const HttpRequestHead* head,
                               const ScanOrigin* origin, const std::vector<std::string>& secrets) const;

  std::string source_;
  bool found_ = false;
};

// The request's URL for events; an origin-form target gets the scheme of the transport.
std::string request_url(const HttpRequestHead& head, bool https = false);

}  // namespace leakguard
