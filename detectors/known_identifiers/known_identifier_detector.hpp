// KnownIdentifierDetector: finds the values of the client's device profile (and values learned
// for it during the run) in every form known_identifiers/forms.cpp derives, with one Hyperscan
// scan per buffer over all devices' forms; location by distance, cell by id plus context.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "detectors/detector.hpp"
#include "detectors/known_identifiers/known_index.hpp"
#include "detectors/matchers/hyperscan.hpp"
#include "detectors/registry.hpp"

namespace leakguard {

class KnownIdentifierDetector final : public Detector {
 public:
  static constexpr std::string_view detector_name = "known_identifiers";

  // Options under `detectors: known_identifiers:` —
  //   hashes: [md5, sha1, sha256]    digests whose hex and base64 are matched
  //   encodings: [hex, base64]       encodings of the value that are matched
  //   kinds: [imei, ...]             kinds looked for (default: all)
  //   location_radius_m: 150         how close a coordinate must be to the profile's point
  static std::unique_ptr<const Detector> create(const DetectorBuildContext& context);

  explicit KnownIdentifierDetector(std::shared_ptr<const known::KnownIndex> index);

  std::string_view name() const override { return detector_name; }
  void inspect(const DecodedView& view, const DetectionContext& context, std::vector<Finding>& out) const override;

  const known::KnownIndex& index() const { return *index_; }

  // Matches of one index in one buffer, turned into findings (also used for learned indexes).
  static void report(const known::KnownIndex& index, bool learned, const DecodedView& view, const ScanBuffer& buffer,
                     const std::vector<matchers::Match>& matches, const DetectionContext& context,
                     std::vector<Finding>& out);
  // The protobuf numbers of `view` that are values of `device` in `index` (numeric_matches.cpp):
  // an identifier by equality (a near miss is no finding), a location as a latitude and a
  // longitude of one message within the radius, a cell as its id beside its network.
  static void report_numbers(const known::KnownIndex& index, std::size_t device, bool learned, const DecodedView& view,
                             const DetectionContext& context, std::vector<Finding>& out);

 private:
  std::shared_ptr<const known::KnownIndex> index_;
};

// A finding of `value` with the buffer's encoding chain, `transform` and `variant` appended, at the
// field's place (or the buffer's); no location and no matched text yet.
Finding known_finding(IdentifierKind kind, const known::IndexedValue& value, bool learned, const ScanBuffer& buffer,
                      const FieldSpan* field, std::string_view transform, std::string_view variant,
                      const DetectionContext& context);

}  // namespace leakguard
