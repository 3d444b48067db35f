#include "detectors/decoders/json.hpp"

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace leakguard::decoders {
namespace {

using Json = nlohmann::json;

// Follows nlohmann's SAX events through the text. Events come in document order, so each token is
// the next one after structural characters and white space; when the walk loses its place (it
// should not), values are still reported, only without a position.
class FieldCollector : public nlohmann::json_sax<Json> {
 public:
  FieldCollector(std::string_view text, std::size_t max_fields, FunctionRef<void(const JsonField&)> on_field)
      : text_(text), max_fields_(max_fields), on_field_(on_field) {}

  std::size_t fields() const { return fields_; }

  bool null() override { return scalar(); }
  bool boolean(bool) override { return scalar(); }
  bool number_integer(number_integer_t value) override { return number(std::to_string(value)); }
  bool number_unsigned(number_unsigned_t value) override { return number(std::to_string(value)); }
  bool number_float(number_float_t, const string_t& text) override { return number(text); }
  bool string(string_t& value) override { return emit_string(value); }
  bool binary(binary_t&) override { return scalar(); }

  bool start_object(std::size_t) override { return open(false); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(true); }
  bool end_array() override { return close(); }
  bool key(string_t& name) override {
    std::size_t begin = 0, length = 0;
    bool literal = false;
    locate_string(name, begin, length, literal);
    if (!frames_.empty()) {
      frames_.back().key = name;
      frames_.back().has_key = true;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  struct Frame {
    bool array = false;
    std::size_t index = 0;
    std::string key;
    bool has_key = false;
    std::size_t path_size = 0;  // path_ length before this frame's element name
    std::uint32_t group = 0;
  };

  void skip_structure() {
    while (cursor_ < text_.size()) {
      const char c = text_[cursor_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ':' || c == '[' || c == ']' ||
          c == '{' || c == '}')
        ++cursor_;
      else
        break;
    }
  }

  // Moves the cursor over the next string token; reports its inner bytes.
  void locate_string(const std::string& value, std::size_t& begin, std::size_t& length, bool& literal) {
    literal = false;
    if (lost_) return;
    skip_structure();
    if (cursor_ >= text_.size() || text_[cursor_] != '"') {
      lost_ = true;
      return;
    }
    std::size_t i = cursor_ + 1;
    bool escaped = false;
    while (i < text_.size() && text_[i] != '"') {
      if (text_[i] == '\\') {
        escaped = true;
        ++i;
      }
      ++i;
    }
    begin = cursor_ + 1;
    length = (i < text_.size() ? i : text_.size()) - begin;
    literal = !escaped && length == value.size();
    cursor_ = i + 1;
  }

  void locate_scalar(std::size_t& begin, std::size_t& length) {
    if (lost_) return;
    skip_structure();
    begin = cursor_;
    while (cursor_ < text_.size()) {
      const char c = text_[cursor_];
      if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' || (c >= 'a' && c <= 'z'))
        ++cursor_;
      else
        break;
    }
    length = cursor_ - begin;
  }

  bool scalar() {
    std::size_t begin = 0, length = 0;
    locate_scalar(begin, length);
    element_done();
    return true;
  }

  // Sets path_ to the current element's path; returns the key for context.
  std::string_view enter_element() {
    if (frames_.empty()) return {};
    Frame& frame = frames_.back();
    path_.resize(frame.path_size);
    if (frame.array) {
      path_ += '[';
      path_ += std::to_string(frame.index);
      path_ += ']';
    } else {
      if (!path_.empty()) path_ += '.';
      path_ += frame.key;
    }
    // An array element's context is the key that holds the array.
    for (auto it = frames_.rbegin(); it != frames_.rend(); ++it)
      if (!it->array) return it->key;
    return {};
  }

  void element_done() {
    if (!frames_.empty()) {
      Frame& frame = frames_.back();
      if (frame.array) ++frame.index;
      path_.resize(frame.path_size);
    }
  }

  bool report(const JsonField& field) {
    on_field_(field);
    ++fields_;
    return fields_ < max_fields_;
  }

  bool number(const std::string& written) {
    std::size_t begin = 0, length = 0;
    const bool was_lost = lost_;
    locate_scalar(begin, length);
    JsonField field;
    field.key = enter_element();
    field.path = path_;
    field.value = written;
    field.is_string = false;
    field.group = frames_.empty() ? 0 : frames_.back().group;
    if (!was_lost && !lost_ && text_.substr(begin, length) == written) {
      field.offset = begin;
      field.length = length;
      field.literal = true;
    }
    const bool more = report(field);
    element_done();
    return more;
  }

  bool emit_string(const std::string& value) {
    std::size_t begin = 0, length = 0;
    bool literal = false;
    locate_string(value, begin, length, literal);
    JsonField field;
    field.key = enter_element();
    field.path = path_;
    field.value = value;
    field.is_string = true;
    field.group = frames_.empty() ? 0 : frames_.back().group;
    if (!lost_) {
      field.offset = begin;
      field.length = length;
      field.literal = literal;
    }
    const bool more = report(field);
    element_done();
    return more;
  }

  bool open(bool array) {
    if (!lost_) {
      skip_ws();
      if (cursor_ < text_.size() && (text_[cursor_] == '{' || text_[cursor_] == '[')) ++cursor_;
    }
    enter_element();
    Frame frame;
    frame.array = array;
    frame.path_size = path_.size();
    frame.group = ++groups_;
    frames_.push_back(std::move(frame));
    return true;
  }

  bool close() {
    if (!frames_.empty()) frames_.pop_back();
    element_done();
    return true;
  }

  void skip_ws() {
    while (cursor_ < text_.size()) {
      const char c = text_[cursor_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ':')
        ++cursor_;
      else
        break;
    }
  }

  std::string_view text_;
  std::size_t max_fields_;
  FunctionRef<void(const JsonField&)> on_field_;
  std::vector<Frame> frames_;
  std::string path_;
  std::size_t cursor_ = 0;
  bool lost_ = false;
  std::size_t fields_ = 0;
  std::uint32_t groups_ = 0;
};

}  // namespace

bool looks_like_json(std::string_view text) {
  for (const char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{' || c == '[';
  }
  return false;
}

JsonParseResult parse_json_fields(std::string_view text, std::size_t max_fields,
                                  FunctionRef<void(const JsonField&)> on_field) {
  JsonParseResult result;
  if (max_fields == 0) return result;
  FieldCollector collector(text, max_fields, on_field);
  try {
    result.valid = Json::sax_parse(text.begin(), text.end(), &collector, nlohmann::detail::input_format_t::json, true);
  } catch (const std::exception&) {
    // sax_parse reports errors through parse_error(); anything else (allocation) ends the walk too.
    result.valid = false;
  }
  result.fields = collector.fields();
  if (result.fields >= max_fields) result.valid = false;
  return result;
}

}  // namespace leakguard::decoders
