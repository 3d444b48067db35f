// `leakguard scan` over a HAR file: every request entry inspected as the proxy inspects a request,
// with the entry's host, address, port and time as the event's flow fields.
#pragma once

#include <string>

#include "app/scan_output.hpp"
#include "detectors/inspector.hpp"

namespace leakguard {

// `bytes` is the whole file (capacity for har_padding() more avoids a copy). Problems go to
// standard error, named by file and entry; false when part of the file could not be scanned (a
// JSON error or cut, a skipped entry): the findings before it are written all the same. Valid JSON
// that is no HAR (no log.entries) is scanned as raw bytes, like any other file.
bool scan_har(const Inspector& inspector, const std::string& path, std::string& bytes, InspectionContext context,
              ScanOutput& output);

}  // namespace leakguard
