#include "events/event_line.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "events/event_log.hpp"

namespace leakguard {

namespace {

void append_json_string(std::string& out, std::string_view value) {
  // Printable ASCII without quote or backslash (nearly every method, URL and host) needs no
  // escaping. Anything else goes through nlohmann's own serializer, so that escaping and the
  // replacement of invalid UTF-8 are the same in every event line, whichever way it was built.
  const bool plain = std::all_of(value.begin(), value.end(), [](char c) {
    return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
  });
  if (!plain) {
    out += Json(value).dump(-1, ' ', false, Json::error_handler_t::replace);
    return;
  }
  out += '"';
  out += value;
  out += '"';
}

}  // namespace

EventLine::EventLine(std::string_view type) {
  text_.reserve(512);
  text_ += "{\"type\":";
  append_json_string(text_, type);
  text_ += ",\"ts\":\"";
  append_rfc3339_now(text_);
  text_ += '"';
}

void EventLine::key(std::string_view name) {
  text_ += ",\"";
  text_ += name;  // keys are this program's own identifiers: nothing to escape
  text_ += "\":";
}

EventLine& EventLine::add_serialized(std::string_view fields) {
  if (!fields.empty()) {
    text_ += ',';
    text_ += fields;
  }
  return *this;
}

EventLine& EventLine::add(std::string_view name, std::string_view value) {
  key(name);
  append_json_string(text_, value);
  return *this;
}

namespace {

template <typename Integer>
void append_integer(std::string& out, Integer value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, end);
}

}  // namespace

EventLine& EventLine::add(std::string_view name, std::uint64_t value) {
  key(name);
  append_integer(text_, value);
  return *this;
}

EventLine& EventLine::add(std::string_view name, int value) {
  key(name);
  append_integer(text_, value);
  return *this;
}

EventLine& EventLine::add(std::string_view name, double value) {
  key(name);
  if (!std::isfinite(value)) {
    text_ += "null";  // as nlohmann writes NaN and infinity
    return *this;
  }
  char digits[32];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;  // shortest round trip
  text_.append(digits, end);
  return *this;
}

std::string EventLine::take() {
  text_ += "}\n";
  return std::move(text_);
}

}  // namespace leakguard
