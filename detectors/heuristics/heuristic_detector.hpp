// HeuristicDetector: identifiers of phones nobody has profiled, found by format, checksum and the
// name they were sent under: IMEI (Luhn + reporting body or an IMEI key), IMSI (ITU MCC + key),
// ICCID (89 + Luhn), MSISDN (E.164, or national under a phone key), MAC, GAID and Android ID under
// their keys, lat/lon pairs, cell ids with their network keys, email. Candidates come from one
// pass per buffer over its separators, digit runs and '@'s; placeholders (000000000000000, 02:00:00:00:00:00, the zero UUID,
// "unknown") are no leak.
#pragma once

#include <array>
#include <memory>
#include <string_view>
#include <vector>

#include "detectors/detector.hpp"
#include "detectors/registry.hpp"

namespace leakguard {

class HeuristicDetector final : public Detector {
 public:
  static constexpr std::string_view detector_name = "heuristics";

  // Options under `detectors: heuristics:` —
  //   kinds: [imei, imsi, ...]   kinds looked for (default: all this detector knows)
  //   learn: true                values found join the device's known values for the run
  static std::unique_ptr<const Detector> create(const DetectorBuildContext& context);

  HeuristicDetector(std::vector<IdentifierKind> kinds, bool learn);

  std::string_view name() const override { return detector_name; }
  void inspect(const DecodedView& view, const DetectionContext& context, std::vector<Finding>& out) const override;
  bool feeds_learning() const override { return learn_; }

 private:
  class BufferScan;
  bool wants(IdentifierKind kind) const { return enabled_[static_cast<std::size_t>(kind)]; }

  std::array<bool, identifier_kind_count> enabled_{};
  bool learn_ = true;
};

}  // namespace leakguard
