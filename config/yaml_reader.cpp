#include "config/yaml_reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "config/config.hpp"

namespace leakguard {
namespace {

std::string_view describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return "a single value";
    default:
      return "nothing";
  }
}

// yaml-cpp gives a plain (unquoted) scalar the tag "?"; quoted ones get "!".
bool is_plain(const YAML::Node& node) { return node.Tag() == "?"; }

bool is_yaml_boolean_word(std::string_view text) {
  static constexpr std::string_view words[] = {"true", "false", "yes", "no", "on", "off"};
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::find(std::begin(words), std::end(words), lower) != std::end(words);
}

std::string join(std::initializer_list<std::string_view> words, std::string_view separator) {
  std::string out;
  for (const auto word : words) {
    if (!out.empty()) out += separator;
    out += word;
  }
  return out;
}

// Edit distance, for "did you mean" on misspelt keys; keys are short, so O(n*m) is nothing.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string YamlField::child_path(std::string_view key_name) const {
  return path.empty() ? std::string(key_name) : path + "." + std::string(key_name);
}

std::string YamlField::item_path(std::size_t index) const { return path + "[" + std::to_string(index) + "]"; }

const YamlField* YamlMap::find(std::string_view key) const {
  for (const auto& entry : entries_)
    if (entry.key.Scalar() == key) return &entry;
  return nullptr;
}

const YamlField& YamlMap::require(std::string_view key) const {
  if (const auto* entry = find(key)) return *entry;
  reader_->fail(self_, "missing key '" + std::string(key) + "'");
}

const YamlField* YamlMap::either(std::initializer_list<std::string_view> keys) const {
  const YamlField* found = nullptr;
  for (const auto key : keys) {
    const auto* entry = find(key);
    if (!entry) continue;
    if (found) {
      YamlField at_key{entry->key, entry->key, entry->path};
      reader_->fail(at_key, "use only one of " + join(keys, ", ") + " (found '" + found->key.Scalar() + "' and '" +
                                std::string(key) + "')");
    }
    found = entry;
  }
  return found;
}

void YamlReader::fail(const YamlField& field, std::string_view message) const {
  const bool empty_value = !field.value.IsDefined() || field.value.IsNull();
  const YAML::Node& at = empty_value && field.key.IsDefined() && !field.key.IsNull() ? field.key : field.value;
  std::string text = field.path.empty() ? std::string(message) : field.path + ": " + std::string(message);
  throw ConfigError(source_, at, std::move(text));
}

YamlMap YamlReader::map(const YamlField& field, std::initializer_list<std::string_view> allowed) const {
  YamlMap out;
  out.reader_ = this;
  out.self_ = field;
  if (field.value.IsNull()) return out;
  if (!field.value.IsMap()) fail(field, "expected a mapping (key: value), got " + std::string(describe(field.value)));
  for (const auto& pair : field.value) {
    const YAML::Node key = pair.first;
    if (!key.IsScalar()) fail({key, key, field.path}, "expected a plain key, got " + std::string(describe(key)));
    const std::string& name = key.Scalar();
    YamlField at_key{key, key, field.path};
    if (allowed.size() != 0 && std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string message = "unknown key '" + name + "'";
      if (name == "<<") message += " (YAML merge keys are not supported)";
      const auto* closest = std::min_element(allowed.begin(), allowed.end(), [&](auto a, auto b) {
        return edit_distance(name, a) < edit_distance(name, b);
      });
      if (name != "<<" && edit_distance(name, *closest) <= 2)
        message += " (did you mean '" + std::string(*closest) + "'?)";
      fail(at_key, message + "; allowed keys: " + join(allowed, ", "));
    }
    if (const auto* first = out.find(name))
      fail(at_key, "duplicate key '" + name + "' (first at line " + std::to_string(first->key.Mark().line + 1) + ")");
    out.entries_.push_back({key, pair.second, field.child_path(name)});
  }
  return out;
}

std::vector<YamlField> YamlReader::sequence(const YamlField& field) const {
  std::vector<YamlField> items;
  if (field.value.IsNull()) return items;
  if (!field.value.IsSequence()) fail(field, "expected a list, got " + std::string(describe(field.value)));
  for (std::size_t i = 0; i < field.value.size(); ++i)
    items.push_back({YAML::Node(), field.value[i], field.item_path(i)});
  return items;
}

std::vector<YamlField> YamlReader::one_or_many(const YamlField& field) const {
  if (field.value.IsScalar()) return {field};
  if (field.value.IsMap()) fail(field, "expected a value or a list of values, got a mapping");
  return sequence(field);
}

const std::string& YamlReader::scalar(const YamlField& field, std::string_view expected) const {
  if (!field.value.IsScalar())
    fail(field, "expected " + std::string(expected) + ", got " + std::string(describe(field.value)));
  return field.value.Scalar();
}

std::string YamlReader::text(const YamlField& field) const {
  const std::string& text = scalar(field, "a string");
  if (text.empty()) fail(field, "must not be empty");
  return text;
}

std::string YamlReader::string(const YamlField& field) const {
  std::string value = text(field);
  if (is_plain(field.value) && is_yaml_boolean_word(value))
    fail(field, "'" + value + "' reads as a YAML boolean here; quote it if you mean the text");
  return value;
}

std::vector<std::string> YamlReader::strings(const YamlField& field) const {
  if (field.value.IsMap()) fail(field, "expected a string or a list of strings, got a mapping");
  std::vector<std::string> out;
  for (const auto& item : one_or_many(field)) {
    if (!item.value.IsScalar()) fail(item, "expected a string, got " + std::string(describe(item.value)));
    out.push_back(string(item));
  }
  return out;
}

std::int64_t YamlReader::integer(const YamlField& field, std::int64_t min, std::int64_t max) const {
  const std::string& text = scalar(field, "an integer");
  const auto range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  std::int64_t value = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  // from_chars takes a leading '-' but no '+', spaces, prefixes or exponents: exactly what we want.
  const auto [end, error] = std::from_chars(first, last, value);
  if (text.empty() || end != last || (error != std::errc{} && error != std::errc::result_out_of_range))
    fail(field, "expected " + range + ", got '" + text + "'");
  if (error == std::errc::result_out_of_range || value < min || value > max)
    fail(field, "out of range: expected " + range + ", got " + text);
  return value;
}

double YamlReader::number(const YamlField& field, double min, double max) const {
  const std::string& text = scalar(field, "a number");
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || end != text.data() + text.size() || error != std::errc{} || !std::isfinite(value))
    fail(field, "expected a number, got '" + text + "'");
  if (value < min || value > max) {
    std::string low = std::to_string(min), high = std::to_string(max);
    // std::to_string(double) prints six decimals; trim them for a readable range.
    for (auto* bound : {&low, &high}) {
      bound->erase(bound->find_last_not_of('0') + 1);
      if (bound->back() == '.') bound->pop_back();
    }
    fail(field, "out of range: expected " + low + " to " + high + ", got " + text);
  }
  return value;
}

bool YamlReader::boolean(const YamlField& field) const {
  const std::string& text = scalar(field, "true or false");
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  fail(field, "expected true or false, got '" + text + "'");
}

std::size_t YamlReader::choice(const YamlField& field, std::initializer_list<std::string_view> options) const {
  const auto expected = "one of " + join(options, ", ");
  const std::string& text = scalar(field, expected);
  for (std::size_t i = 0; i < options.size(); ++i)
    if (options.begin()[i] == text) return i;
  fail(field, "expected " + expected + ", got '" + text + "'");
}

}  // namespace leakguard
