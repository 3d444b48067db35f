#include "reports/baseline_diff.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace leakguard::reports {
namespace {

constexpr std::size_t max_devices_listed = 10;

struct PairKey {
  std::string destination;
  std::string identifier;
  auto operator<=>(const PairKey&) const = default;
};

struct PairState {
  std::set<std::string> countries;
  std::set<std::string> devices;
  std::uint64_t count = 0;
  int severity = 0;
};

std::map<PairKey, PairState> pairs_of(const Report& report) {
  std::map<PairKey, PairState> pairs;
  for (const auto& row : report.leaks) {
    auto& state = pairs[{row.destination(), row.identifier}];
    if (!row.country.empty()) state.countries.insert(row.country);
    if (state.devices.size() < max_devices_listed) state.devices.insert(row.device);
    state.count += row.count;
    state.severity = std::max(state.severity, row.severity);
  }
  return pairs;
}

DiffEntry entry(const PairKey& key, const PairState& state) {
  DiffEntry out;
  out.destination = key.destination;
  out.identifier = key.identifier;
  out.countries.assign(state.countries.begin(), state.countries.end());
  out.devices.assign(state.devices.begin(), state.devices.end());
  out.count = state.count;
  out.severity = state.severity;
  return out;
}

void worst_first(std::vector<DiffEntry>& entries) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const DiffEntry& a, const DiffEntry& b) { return a.severity > b.severity; });
}

}  // namespace

BaselineDiff diff_reports(const Report& baseline, const Report& current) {
  const auto old_pairs = pairs_of(baseline);
  const auto new_pairs = pairs_of(current);
  std::set<std::string> old_destinations, old_identifiers, new_destinations, new_identifiers;
  for (const auto& [key, state] : old_pairs) {
    old_destinations.insert(key.destination);
    old_identifiers.insert(key.identifier);
  }

  BaselineDiff diff;
  for (const auto& [key, state] : new_pairs) {
    const auto before = old_pairs.find(key);
    if (before == old_pairs.end()) {
      diff.new_leaks.push_back(entry(key, state));
    } else if (state.severity > before->second.severity) {
      auto escalated = entry(key, state);
      escalated.baseline_severity = before->second.severity;
      diff.escalated.push_back(std::move(escalated));
    }
    if (!old_destinations.contains(key.destination)) new_destinations.insert(key.destination);
    if (!old_identifiers.contains(key.identifier)) new_identifiers.insert(key.identifier);
  }
  for (const auto& [key, state] : old_pairs)
    if (!new_pairs.contains(key)) diff.gone.push_back(entry(key, state));

  diff.new_destinations.assign(new_destinations.begin(), new_destinations.end());
  diff.new_identifiers.assign(new_identifiers.begin(), new_identifiers.end());
  worst_first(diff.new_leaks);
  worst_first(diff.escalated);
  worst_first(diff.gone);
  return diff;
}

}  // namespace leakguard::reports
