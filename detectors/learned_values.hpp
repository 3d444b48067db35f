// Values that heuristics found for one device during the run. Once learned, a value is matched
// like a profile value, in every hashed and encoded form (findings say `learned: true`). The store
// is owned by the caller (one per device name or per client address), shared between threads;
// learning recompiles a small Hyperscan index, which happens once per new value.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/identifier_kind.hpp"

namespace leakguard {

namespace known {
class KnownIndex;
}

class LearnedValues {
 public:
  explicit LearnedValues(std::size_t max_values = 64) : max_values_(max_values) {}

  // Adds a canonical value; true if it was new (and the store not full). Location and cell values
  // are not learned: they are matched by distance and context, not as text.
  bool learn(IdentifierKind kind, std::string_view canonical);
  bool knows(IdentifierKind kind, std::string_view canonical) const;
  // The compiled index of all learned values (null while there are none): a snapshot, valid after
  // later learning.
  std::shared_ptr<const known::KnownIndex> index() const;
  std::vector<std::pair<IdentifierKind, std::string>> values() const;
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<IdentifierKind, std::string>> values_;
  std::shared_ptr<const known::KnownIndex> index_;
  std::size_t max_values_;
};

}  // namespace leakguard
