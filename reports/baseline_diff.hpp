// Batch against batch: what the new firmware leaks that the old one did not. Devices differ
// between batches (other phones, other names), so leaks are compared per destination and
// identifier kind, over all devices of a batch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "reports/report.hpp"

namespace leakguard::reports {

struct DiffEntry {
  std::string destination;  // host, or the IP when the host is unknown
  std::string identifier;
  std::vector<std::string> countries;
  std::vector<std::string> devices;  // of the batch the entry is about (new, or baseline for gone)
  std::uint64_t count = 0;
  int severity = 0;           // in that batch
  int baseline_severity = 0;  // escalated entries: what it was in the baseline
};

struct BaselineDiff {
  std::vector<std::string> new_destinations;  // received identifiers now, none in the baseline
  std::vector<std::string> new_identifiers;   // kinds leaked now and to nowhere in the baseline
  std::vector<DiffEntry> new_leaks;           // destination x kind pairs the baseline never had
  std::vector<DiffEntry> escalated;           // the same pair, now rated worse (plaintext, abroad)
  std::vector<DiffEntry> gone;                // baseline pairs the new batch no longer shows

  // A release gate fails on anything the new batch leaks that the baseline did not.
  bool regression() const { return !new_leaks.empty() || !escalated.empty(); }
};

BaselineDiff diff_reports(const Report& baseline, const Report& current);

}  // namespace leakguard::reports
