// One event as JSON text, written field by field without a nlohmann DOM. For the events emitted
// once per HTTP exchange: building and dumping a DOM (a std::map node and a heap string per field)
// was ~15% of the proxy's CPU in bench/http_proxy_bench.sh. Everything rarer uses EventLog::emit(Json).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace leakguard {

class EventLine {
 public:
  // Starts {"type":type,"ts":now}.
  explicit EventLine(std::string_view type);

  // `fields` is already serialized: "key":value pairs joined by commas, without braces.
  EventLine& add_serialized(std::string_view fields);
  // Strings are escaped as nlohmann::json does, invalid UTF-8 replaced by U+FFFD.
  EventLine& add(std::string_view key, std::string_view value);
  EventLine& add(std::string_view key, std::uint64_t value);
  EventLine& add(std::string_view key, int value);
  EventLine& add(std::string_view key, double value);

  // The finished line, newline included, for EventLog::emit_line.
  std::string take();

 private:
  void key(std::string_view name);
  std::string text_;
};

}  // namespace leakguard
