// Which kind of file `leakguard scan` was given, told from its first bytes and never from its
// name: a capture exported from a phone is often called capture.bin or has no extension at all.
#pragma once

#include <string_view>

namespace leakguard {

enum class CaptureFormat {
  pcap,    // libpcap savefile, either byte order, micro- or nanosecond timestamps
  pcapng,  // pcap next generation (Section Header Block first)
  har,     // HTTP Archive 1.2 (JSON with a top-level "log")
  http,    // client-to-server bytes of one connection that start with an HTTP/1.x request
  raw,     // anything else: scanned as one raw byte stream
};

// How many leading bytes sniff_capture_format needs to decide; fewer is fine for short files.
constexpr std::size_t capture_sniff_bytes = 4096;

CaptureFormat sniff_capture_format(std::string_view first_bytes);
std::string_view to_string(CaptureFormat format);

}  // namespace leakguard
