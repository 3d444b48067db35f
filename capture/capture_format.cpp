#include "capture/capture_format.hpp"

#include <cstdint>
#include <cstring>

#include "proxy/http_codec.hpp"

namespace leakguard {
namespace {

std::uint32_t first_word(std::string_view bytes) {
  std::uint32_t word = 0;
  std::memcpy(&word, bytes.data(), sizeof word);
  return word;
}

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// A HAR file is a JSON object whose members include "log". Browsers put "log" first, other tools
// (Charles, HTTP Toolkit) may not, so the whole sniffed prefix is searched for the key.
bool looks_like_har(std::string_view bytes) {
  if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);  // UTF-8 BOM (Fiddler writes one)
  while (!bytes.empty() && is_json_space(bytes.front())) bytes.remove_prefix(1);
  return bytes.starts_with('{') && bytes.find("\"log\"") != std::string_view::npos;
}

}  // namespace

CaptureFormat sniff_capture_format(std::string_view first_bytes) {
  if (first_bytes.size() >= 4) {
    switch (first_word(first_bytes)) {
      // The magic is written in the writer's byte order; both orders of both timestamp
      // resolutions are savefiles.
      case 0xa1b2c3d4: case 0xd4c3b2a1: case 0xa1b23c4d: case 0x4d3cb2a1: return CaptureFormat::pcap;
      case 0x0a0d0d0a: return CaptureFormat::pcapng;  // the Section Header Block type is a palindrome
      default: break;
    }
  }
  if (looks_like_http_request(first_bytes)) return CaptureFormat::http;
  if (looks_like_har(first_bytes)) return CaptureFormat::har;
  return CaptureFormat::raw;
}

std::string_view to_string(CaptureFormat format) {
  switch (format) {
    case CaptureFormat::pcap: return "pcap";
    case CaptureFormat::pcapng: return "pcapng";
    case CaptureFormat::har: return "har";
    case CaptureFormat::http: return "http";
    case CaptureFormat::raw: return "raw";
  }
  return "raw";
}

}  // namespace leakguard
