#include "detectors/registry.hpp"

#include <algorithm>

#include "detectors/heuristics/heuristic_detector.hpp"
#include "detectors/known_identifiers/known_identifier_detector.hpp"

namespace leakguard {
namespace {

// The built-in detectors, in the order they run. One line per detector.
constexpr DetectorFactory factories[] = {
    {KnownIdentifierDetector::detector_name, &KnownIdentifierDetector::create},
    {HeuristicDetector::detector_name, &HeuristicDetector::create},
};

}  // namespace

std::span<const DetectorFactory> builtin_detector_factories() { return factories; }

std::vector<std::shared_ptr<const Detector>> build_detectors(const Config& config) {
  for (const auto& entry : config.detectors) {
    const std::string& name = entry.first;  // a plain reference: clang 14 cannot capture bindings
    const DetectorSettings& settings = entry.second;
    const bool known = std::any_of(std::begin(factories), std::end(factories),
                                   [&](const DetectorFactory& factory) { return factory.name == name; });
    if (!known) {
      std::string names;
      for (const auto& factory : factories) names += (names.empty() ? "" : ", ") + std::string(factory.name);
      throw ConfigError(config.source, settings.options,
                        "unknown detector '" + name + "' (built-in detectors: " + names + ")");
    }
  }
  std::vector<std::shared_ptr<const Detector>> detectors;
  static const DetectorSettings defaults{};
  for (const auto& factory : factories) {
    const auto it = config.detectors.find(std::string(factory.name));
    const DetectorSettings& settings = it == config.detectors.end() ? defaults : it->second;
    if (!settings.enabled) continue;
    detectors.push_back(factory.make(DetectorBuildContext{config, settings}));
  }
  return detectors;
}

DetectorOptions::DetectorOptions(const Config& config, const DetectorSettings& settings, std::string_view detector)
    : config_(config), node_(settings.options), detector_(detector) {
  if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) fail(node_, "options must be a mapping");
}

void DetectorOptions::fail(const YAML::Node& node, const std::string& message) const {
  throw ConfigError(config_.source, node, "detectors: " + detector_ + ": " + message);
}

bool DetectorOptions::get_bool(std::string_view key, bool fallback) {
  known_keys_.emplace_back(key);
  if (!node_.IsMap()) return fallback;
  const YAML::Node value = node_[std::string(key)];
  if (!value.IsDefined() || value.IsNull()) return fallback;
  try {
    return value.as<bool>();
  } catch (const YAML::Exception&) {
    fail(value, std::string(key) + " must be true or false");
  }
}

double DetectorOptions::get_number(std::string_view key, double fallback, double min, double max) {
  known_keys_.emplace_back(key);
  if (!node_.IsMap()) return fallback;
  const YAML::Node value = node_[std::string(key)];
  if (!value.IsDefined() || value.IsNull()) return fallback;
  double number = 0;
  try {
    number = value.as<double>();
  } catch (const YAML::Exception&) {
    fail(value, std::string(key) + " must be a number");
  }
  if (number < min || number > max)
    fail(value, std::string(key) + " must be between " + std::to_string(min) + " and " + std::to_string(max));
  return number;
}

std::vector<std::string> DetectorOptions::get_strings(std::string_view key, const std::vector<std::string>& fallback) {
  known_keys_.emplace_back(key);
  if (!node_.IsMap()) return fallback;
  const YAML::Node value = node_[std::string(key)];
  if (!value.IsDefined() || value.IsNull()) return fallback;
  if (!value.IsSequence()) fail(value, std::string(key) + " must be a list");
  std::vector<std::string> out;
  for (const auto& item : value) {
    if (!item.IsScalar()) fail(item, std::string(key) + " must be a list of strings");
    out.push_back(item.Scalar());
  }
  return out;
}

std::vector<IdentifierKind> DetectorOptions::get_kinds(std::string_view key) {
  const auto names = get_strings(key, {});
  std::vector<IdentifierKind> kinds;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto kind = parse_identifier_kind(names[i]);
    if (!kind) fail(node_[std::string(key)][i], "unknown identifier kind '" + names[i] + "'");
    kinds.push_back(*kind);
  }
  return kinds;
}

void DetectorOptions::finish() {
  if (!node_.IsMap()) return;
  for (const auto& entry : node_) {
    const std::string key = entry.first.Scalar();
    if (key == "enabled") continue;  // read by the configuration loader
    if (std::find(known_keys_.begin(), known_keys_.end(), key) == known_keys_.end()) {
      std::string names;
      for (const auto& known : known_keys_) names += (names.empty() ? "" : ", ") + known;
      fail(entry.first, "unknown option '" + key + "' (options: " + names + ")");
    }
  }
}

}  // namespace leakguard
