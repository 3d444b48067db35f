// The Detector interface. A detector is built once from its configuration (registry.cpp), is
// immutable, and is shared by every session and thread; it does no I/O. For each exchange it reads
// the decoded view and appends findings. What to do about a finding (log, block, redact) is
// decided elsewhere, from findings and rules.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "detectors/decoded_view.hpp"
#include "detectors/finding.hpp"

namespace leakguard {

namespace known {
class KnownIndex;
}

// What detectors tell the Inspector about an exchange besides findings.
struct DetectionNotes {
  // A candidate was seen whose verdict depends on other fields of its buffer: a coordinate that
  // pairs with one elsewhere, a cell id whose network may sit in another header. Set it for every
  // such candidate, reported or not: the HeaderMemo (header_memo.hpp) leaves clean header lines
  // out of an inspection only while no detector sets it.
  bool cross_field_candidate = false;
};

// What a detector may know about the exchange besides its bytes.
struct DetectionContext {
  const DeviceProfile* device = nullptr;           // the client's profile; null: heuristics only
  std::size_t device_index = static_cast<std::size_t>(-1);  // its index in Config::devices
  const known::KnownIndex* learned = nullptr;      // values learned for this device so far; may be null
  DetectionNotes* notes = nullptr;                 // never null when the Inspector calls
};

class Detector {
 public:
  virtual ~Detector() = default;
  // The registry name, used in findings and under `detectors:` in the configuration.
  virtual std::string_view name() const = 0;
  // Appends findings for every buffer of `view`. Must be callable from many threads at once.
  virtual void inspect(const DecodedView& view, const DetectionContext& context, std::vector<Finding>& out) const = 0;
  // Whether values this detector finds should join the device's known values (learning).
  virtual bool feeds_learning() const { return false; }
};

}  // namespace leakguard
