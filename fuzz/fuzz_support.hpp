// Shared by the detection fuzz targets: one Inspector with a device profile (so the known
// detector and learning run too), built once per process.
#pragma once

#include <string>

#include "config/config.hpp"
#include "detectors/inspector.hpp"
#include "tests/support/inputs.hpp"

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
  static const Inspector instance(load_config_text(test::lab_phone_yaml, "fuzz.yaml"), limits());
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
