#include "detectors/learned_values.hpp"

#include <algorithm>

#include "detectors/known_identifiers/known_index.hpp"

namespace leakguard {

bool LearnedValues::learn(IdentifierKind kind, std::string_view canonical) {
  if (kind == IdentifierKind::location || kind == IdentifierKind::cell || canonical.size() < 6) return false;
  std::lock_guard lock(mutex_);
  const auto same = [&](const auto& entry) { return entry.first == kind && entry.second == canonical; };
  if (values_.size() >= max_values_ || std::any_of(values_.begin(), values_.end(), same)) return false;
  auto values = values_;
  values.emplace_back(kind, std::string(canonical));
  // Compile before publishing: readers keep scanning with the previous index meanwhile.
  std::shared_ptr<const known::KnownIndex> index;
  try {
    index = known::KnownIndex::from_values(values, known::IndexOptions{});
  } catch (const std::exception&) {
    return false;  // a value Hyperscan refuses is simply not learned
  }
  values_ = std::move(values);
  index_ = std::move(index);
  return true;
}

bool LearnedValues::knows(IdentifierKind kind, std::string_view canonical) const {
  std::lock_guard lock(mutex_);
  return std::any_of(values_.begin(), values_.end(),
                     [&](const auto& entry) { return entry.first == kind && entry.second == canonical; });
}

std::shared_ptr<const known::KnownIndex> LearnedValues::index() const {
  std::lock_guard lock(mutex_);
  return index_;
}

std::vector<std::pair<IdentifierKind, std::string>> LearnedValues::values() const {
  std::lock_guard lock(mutex_);
  return values_;
}

std::size_t LearnedValues::size() const {
  std::lock_guard lock(mutex_);
  return values_.size();
}

}  // namespace leakguard
