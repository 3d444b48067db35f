#include "detectors/decoders/json.hpp"

#include <string>
#include <utility>

#include <simdjson.h>

namespace leakguard::decoders {
namespace {

namespace od = simdjson::ondemand;

// Deeper values are not walked: no phone nests its identifiers 64 objects down, and the walk is
// recursive.
constexpr int max_depth = 64;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// simdjson's On-Demand parser over a padded copy of the text, walked in document order. Token
// positions come from the parser itself (raw_json_token: the token's bytes in the input), so a
// plain value is reported where it lies; a string with escapes is unescaped by the parser.
class Walker {
 public:
  Walker(std::string_view text, const char* base, std::size_t usable, std::size_t max_fields,
         FunctionRef<void(const JsonField&)> on_field)
      : text_(text), base_(base), usable_(usable), max_fields_(max_fields), on_field_(on_field) {}

  std::size_t fields() const { return fields_; }
  bool stopped() const { return stopped_; }
  bool scalar_alone() const { return scalar_alone_; }

  // False when the walk must stop: a parse error or the field bound.
  bool walk(od::value value, std::string_view key, std::uint32_t group, int depth) {
    od::json_type type;
    if (value.type().get(type)) return false;
    switch (type) {
      case od::json_type::object: {
        if (depth >= max_depth) return true;
        od::object object;
        if (value.get_object().get(object)) return false;
        const std::uint32_t inner = ++groups_;
        for (auto member : object) {
          od::field field;
          std::string_view name;
          if (std::move(member).get(field) || field.unescaped_key().get(name)) return false;
          const std::size_t size = path_.size();
          if (!path_.empty()) path_ += '.';
          path_ += name;
          const bool more = walk(field.value(), name, inner, depth + 1);
          path_.resize(size);
          if (!more) return false;
        }
        return true;
      }
      case od::json_type::array: {
        if (depth >= max_depth) return true;
        od::array array;
        if (value.get_array().get(array)) return false;
        const std::uint32_t inner = ++groups_;
        std::size_t index = 0;
        for (auto element : array) {
          od::value item;
          if (std::move(element).get(item)) return false;
          const std::size_t size = path_.size();
          path_ += '[';
          path_ += std::to_string(index++);
          path_ += ']';
          // An array element's context is the key that holds the array.
          const bool more = walk(item, key, inner, depth + 1);
          path_.resize(size);
          if (!more) return false;
        }
        return true;
      }
      case od::json_type::string: return string(value.raw_json_token(), [&](std::string_view& out) {
          return !value.get_string().get(out);
        }, key, group);
      case od::json_type::number: return number(value.raw_json_token(), key, group);
      case od::json_type::boolean:
      case od::json_type::null: return true;
    }
    return true;
  }

  // A scalar document ("353209091234567" as the whole body).
  bool walk_scalar(od::document& document) {
    od::json_type type;
    if (document.type().get(type)) return false;
    std::string_view token;
    if (document.raw_json_token().get(token)) return false;
    // The token runs to the next one: nothing else follows when it ends with the text.
    scalar_alone_ = token.data() + token.size() == base_ + usable_;
    if (type == od::json_type::number) return number(token, {}, 0);
    if (type == od::json_type::string)
      return string(token, [&](std::string_view& out) { return !document.get_string().get(out); }, {}, 0);
    return true;
  }

 private:
  // `token` starts at the opening quote and runs to the next token (trailing spaces included).
  template <typename Unescape>
  bool string(std::string_view token, Unescape unescape, std::string_view key, std::uint32_t group) {
    while (!token.empty() && token.back() != '"') token.remove_suffix(1);
    if (token.size() < 2) return false;
    const std::string_view inner = token.substr(1, token.size() - 2);
    JsonField field;
    field.is_string = true;
    field.literal = inner.find('\\') == std::string_view::npos;
    if (field.literal) {
      field.value = inner;
    } else if (!unescape(field.value)) {
      return false;
    }
    return report(field, inner, key, group);
  }

  bool number(std::string_view token, std::string_view key, std::uint32_t group) {
    while (!token.empty() && is_space(token.back())) token.remove_suffix(1);
    JsonField field;
    field.value = token;  // exactly as written
    field.literal = true;
    return report(field, token, key, group);
  }

  bool report(JsonField& field, std::string_view bytes, std::string_view key, std::uint32_t group) {
    field.offset = static_cast<std::size_t>(bytes.data() - base_);
    field.length = bytes.size();
    if (field.offset + field.length > text_.size()) return false;  // not in the text: cannot happen
    field.path = path_;
    field.key = key;
    field.group = group;
    on_field_(field);
    if (++fields_ < max_fields_) return true;
    stopped_ = true;
    return false;
  }

  std::string_view text_;
  const char* base_;
  std::size_t usable_;  // bytes of the text given to the parser
  std::size_t max_fields_;
  FunctionRef<void(const JsonField&)> on_field_;
  std::string path_;
  std::size_t fields_ = 0;
  std::uint32_t groups_ = 0;
  bool stopped_ = false;
  bool scalar_alone_ = false;
};

}  // namespace

bool looks_like_json(std::string_view text) {
  for (const char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{' || c == '[';
  }
  return false;
}

// Counts unescaped quotes from the start; only called once simdjson reported an unclosed string.
std::size_t unclosed_string(std::string_view text) {
  std::size_t open = text.size();
  bool inside = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (inside && text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      inside = !inside;
      if (inside) open = i;
    }
  }
  return inside ? open : text.size();
}

JsonParseResult parse_json_fields(std::string_view text, std::size_t max_fields,
                                  FunctionRef<void(const JsonField&)> on_field) {
  JsonParseResult result;
  if (max_fields == 0 || text.size() > 0xFFFFFFFFu - simdjson::SIMDJSON_PADDING) return result;
  thread_local od::parser parser;
  thread_local std::string padded;
  padded.assign(text.data(), text.size());
  padded.append(simdjson::SIMDJSON_PADDING, '\0');
  std::size_t usable = text.size();
  od::document document;
  auto error = parser.iterate(simdjson::padded_string_view(padded.data(), usable, padded.size())).get(document);
  if (error == simdjson::UNCLOSED_STRING) {
    // A body cut at the inspection bound usually ends inside a string, which simdjson's first
    // pass refuses as a whole: walk the text before that string, so the fields before the cut count.
    usable = unclosed_string(text);
    error = parser.iterate(simdjson::padded_string_view(padded.data(), usable, padded.size())).get(document);
  }
  if (!error) {
    Walker walker(text, padded.data(), usable, max_fields, on_field);
    od::value root;
    bool complete = false;
    bool alone = false;  // one document and nothing after it
    const auto root_error = document.get_value().get(root);
    if (root_error == simdjson::SCALAR_DOCUMENT_AS_VALUE) {
      complete = walker.walk_scalar(document);
      alone = walker.scalar_alone();
    } else if (!root_error) {
      complete = walker.walk(root, {}, 0, 0);
      alone = document.current_location().error() == simdjson::OUT_OF_BOUNDS;  // past the end: no location
    }
    result.valid = complete && alone && !walker.stopped() && usable == text.size();
    result.fields = walker.fields();
  }
  // The parser keeps buffers sized for the largest document it has seen (several bytes per byte
  // of JSON), per thread: after an unusually large one, give them back.
  if (text.size() > (1u << 20)) {
    parser = od::parser{};
    padded = std::string();
  }
  return result;
}

}  // namespace leakguard::decoders
