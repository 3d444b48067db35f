// Shared by the detection fuzz targets: one Inspector with a device profile (so the known
// detector and learning run too), built once per process.
#pragma once

#include <string>

#include "config/config.hpp"
#include "detectors/inspector.hpp"

namespace leakguard::fuzz {

// Smaller decoding bounds than the proxy's: the same code paths, ten times more inputs per second.
inline DecodeLimits limits() {
  DecodeLimits out;
  out.max_decoded_bytes = 1 << 20;
  out.ratio_min_output = 64 << 10;
  out.max_fields = 5000;
  out.max_buffers = 512;
  return out;
}

inline const Inspector& inspector() {
  static const Inspector instance(load_config_text(R"(devices:
  - name: lab-phone-01
    match: { ip: 10.42.0.11 }
    identifiers:
      imei: "353209091234567"
      imsi: "242016601234567"
      iccid: "8947016601234567890"
      msisdn: "+4791234567"
      serial: "B2NGAA8831702345"
      mac: "a4:50:46:12:34:56"
      android_id: "9774d56d682e549c"
      gaid: "38400000-8cf0-11bd-b23e-10b96e40000d"
      email: "kari.nordmann@example.no"
      location: { lat: 59.913868, lon: 10.752245 }
      cell: { mcc: 242, mnc: 1, lac: 1234, cid: 56789 }
)", "fuzz.yaml"), limits());
  return instance;
}

// Learning compiles a Hyperscan index per new value: with a fresh store per input that would be
// most of the time spent. One store for the process fills up (64 values) and then only matches.
inline InspectionContext context(LearnedValues&) {
  static LearnedValues shared;
  InspectionContext out;
  out.device = &inspector().config().devices.front();
  out.learned = &shared;
  return out;
}

// Every finding must be well formed: masked value, location inside the request.
inline void check(const InspectionResult& result) {
  for (const auto& finding : result.findings) {
    if (finding.value.empty() || finding.where.empty() || finding.encoding.empty()) __builtin_trap();
    if (finding.masked_value.size() != finding.value.size()) __builtin_trap();
  }
}

}  // namespace leakguard::fuzz
