// `leakguard scan` over a pcap or pcapng file: packets read by libpcap (capture/pcap_reader.hpp),
// TCP flows reassembled (capture/tcp_flows.hpp), each flow's client-to-server bytes inspected as
// one stream (app/scan_stream.hpp) with the flow's addresses, capture times and the device
// profile its client matches; DNS messages handed to one function (scan_capture.cpp).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "app/scan_output.hpp"
#include "detectors/inspector.hpp"

namespace leakguard {

// `sniffed` are the bytes already read from `file` to tell its format. `fallback_device` (may be
// null) is used for clients that match no profile. False on an unreadable or broken file, with
// `error` saying what and where; every finding before that point has been written.
bool scan_capture(const Inspector& inspector, std::FILE* file, std::string_view sniffed, const std::string& path,
                  const DeviceProfile* fallback_device, ScanOutput& output, std::string& error);

}  // namespace leakguard
