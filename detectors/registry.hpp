// The built-in detectors, as an explicit list (registry.cpp): no static self-registration, so the
// set and order of detectors is visible in one place. Adding a detector is one folder, one line in
// that list, and its tests.
#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "detectors/detector.hpp"

namespace leakguard {

struct DetectorBuildContext {
  const Config& config;
  const DetectorSettings& settings;  // options of this detector (a null node when not configured)
};

struct DetectorFactory {
  std::string_view name;
  // Throws ConfigError (with the option's line and column) for bad options.
  std::unique_ptr<const Detector> (*make)(const DetectorBuildContext& context);
};

std::span<const DetectorFactory> builtin_detector_factories();

// Builds every enabled detector from `config.detectors`, in registry order. Throws ConfigError for
// an unknown detector name or bad options.
std::vector<std::shared_ptr<const Detector>> build_detectors(const Config& config);

// Reads a detector's options node, refusing unknown keys: one helper so that every detector
// reports option errors the same way, with line and column.
class DetectorOptions {
 public:
  DetectorOptions(const Config& config, const DetectorSettings& settings, std::string_view detector);
  bool get_bool(std::string_view key, bool fallback);
  double get_number(std::string_view key, double fallback, double min, double max);
  std::vector<std::string> get_strings(std::string_view key, const std::vector<std::string>& fallback);
  std::vector<IdentifierKind> get_kinds(std::string_view key);  // empty: all kinds
  // Throws for any key no get_* asked about.
  void finish();
  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const;

 private:
  const Config& config_;
  YAML::Node node_;
  std::string detector_;
  std::vector<std::string> known_keys_;
};

}  // namespace leakguard
