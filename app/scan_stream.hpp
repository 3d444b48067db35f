// One client-to-server byte stream, as `leakguard scan` inspects it: HTTP/1.x requests split off
// and inspected as the proxy inspects them, the rest fed to the raw-stream scanner in reads.
// A bare capture file is one such stream; a pcap flow is another.
#pragma once

#include <string_view>

#include "app/scan_output.hpp"
#include "detectors/inspector.hpp"

namespace leakguard {

// `problem` is told why HTTP parsing stopped early, when it did (the rest is then scanned raw).
void scan_client_stream(const Inspector& inspector, std::string_view bytes, InspectionContext context,
                        ScanOutput& output, const ScanOrigin* origin, std::string* problem);

}  // namespace leakguard
