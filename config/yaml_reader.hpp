// Typed, position-aware reading of YAML nodes: every accessor returns a validated value or throws
// ConfigError at the offending node's line and column, with the key's dotted path in the message.
// The loader reads the whole file with it; detector factories may use it for `detectors.NAME`.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace leakguard {

// A value and where it came from. The key is kept because yaml-cpp marks an empty value (`name:`)
// at the start of the next token, often on another line: errors about it point at the key.
struct YamlField {
  YAML::Node key;  // null for sequence items and the document root
  YAML::Node value;
  std::string path;  // "limits.connect_timeout_ms", "devices[0].match"; empty for the root

  std::string child_path(std::string_view key_name) const;
  std::string item_path(std::size_t index) const;
};

class YamlReader;

// The entries of one mapping, checked: keys are plain scalars, none repeats, all are allowed.
class YamlMap {
 public:
  const YamlField& self() const { return self_; }
  const YamlField* find(std::string_view key) const;
  // Throws at the mapping ("missing key 'name'") when the key is absent.
  const YamlField& require(std::string_view key) const;
  // Keys that are alternatives (`host` / `hosts`): throws if more than one is present.
  const YamlField* either(std::initializer_list<std::string_view> keys) const;
  const std::vector<YamlField>& entries() const { return entries_; }

 private:
  friend class YamlReader;
  const YamlReader* reader_ = nullptr;
  YamlField self_;
  std::vector<YamlField> entries_;
};

class YamlReader {
 public:
  explicit YamlReader(std::string source) : source_(std::move(source)) {}
  const std::string& source() const { return source_; }

  // "PATH: message" at the value, or at the key when the value is empty.
  [[noreturn]] void fail(const YamlField& field, std::string_view message) const;

  // A mapping (null counts as empty). An unknown key is an error that lists the allowed ones;
  // an empty `allowed` list accepts any key (maps keyed by user names, like `detectors`).
  YamlMap map(const YamlField& field, std::initializer_list<std::string_view> allowed) const;
  // A sequence (null counts as empty).
  std::vector<YamlField> sequence(const YamlField& field) const;
  // A single scalar or a sequence of them, as items: "a string or a list of strings".
  std::vector<YamlField> one_or_many(const YamlField& field) const;

  // A non-empty scalar, taken as written (for values checked further by the caller).
  std::string text(const YamlField& field) const;
  // A non-empty scalar. A plain (unquoted) true/false/yes/no/on/off is refused: YAML readers
  // disagree on whether that is text, so the user must quote it.
  std::string string(const YamlField& field) const;
  std::vector<std::string> strings(const YamlField& field) const;  // one string or a list
  // Decimal digits with an optional '-', nothing else (no 0x, no 1e3, no '_').
  std::int64_t integer(const YamlField& field, std::int64_t min, std::int64_t max) const;
  double number(const YamlField& field, double min, double max) const;  // finite, in range
  bool boolean(const YamlField& field) const;                           // true | false
  // The index of the scalar among `options`; the error lists them.
  std::size_t choice(const YamlField& field, std::initializer_list<std::string_view> options) const;

 private:
  const std::string& scalar(const YamlField& field, std::string_view expected) const;

  std::string source_;
};

}  // namespace leakguard
