// Everything an InspectionResult says, as text, so that two inspections can be compared whole:
// the header memo's test and its differential fuzz target want the same findings with and without
// the memo, locations included (redaction edits those bytes). No test framework here.
#pragma once

#include <string>

#include "detectors/finding.hpp"

namespace leakguard::test {

inline std::string findings_text(const InspectionResult& result) {
  std::string out;
  for (const auto& f : result.findings) {
    out += std::string(to_string(f.kind)) + " " + std::string(to_string(f.method)) + " " + f.detector + " " +
           f.encoding + " " + f.form + " " + f.where + " " + f.device + (f.learned ? " learned" : "") + " value=" +
           f.value;
    for (const auto& m : f.matched) out += " matched=" + m;
    for (const auto& l : f.locations)
      out += " at=" + std::to_string(static_cast<int>(l.part)) + "/" + std::to_string(l.header_index) + "/" +
             std::to_string(l.offset) + "+" + std::to_string(l.length);
    out += "\n";
  }
  for (const auto& a : result.anomalies) out += "anomaly " + a.anomaly + " " + a.encoding + "\n";
  return out;
}

}  // namespace leakguard::test
