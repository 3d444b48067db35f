#include "detectors/decoders/form.hpp"

namespace leakguard::decoders {
namespace {
bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || c == '%' || c == '[' || c == ']' || c == '*' || c == '+' || c == '~';
}
}  // namespace

std::size_t parse_form(std::string_view text, std::size_t max_pairs, FunctionRef<void(const FormPair&)> on_pair) {
  std::size_t count = 0;
  std::size_t begin = 0;
  while (begin <= text.size() && count < max_pairs) {
    std::size_t end = text.find('&', begin);
    if (end == std::string_view::npos) end = text.size();
    if (end > begin) {
      const std::string_view item = text.substr(begin, end - begin);
      FormPair pair;
      const std::size_t equals = item.find('=');
      pair.name_offset = begin;
      if (equals == std::string_view::npos) {
        pair.name = item;
        pair.value_offset = end;
      } else {
        pair.name = item.substr(0, equals);
        pair.value = item.substr(equals + 1);
        pair.value_offset = begin + equals + 1;
        pair.has_value = true;
      }
      on_pair(pair);
      ++count;
    }
    if (end == text.size()) break;
    begin = end + 1;
  }
  return count;
}

bool looks_like_form(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (text.empty()) return false;
  std::size_t pairs = 0;
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('&', begin);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = text.substr(begin, end - begin);
    const std::size_t equals = item.find('=');
    if (equals == 0 || equals == std::string_view::npos) {
      if (!item.empty() || end != text.size()) return false;
    } else {
      for (std::size_t i = 0; i < equals; ++i)
        if (!is_name_char(item[i])) return false;
      for (std::size_t i = equals + 1; i < item.size(); ++i) {
        const auto c = static_cast<unsigned char>(item[i]);
        if (c < 0x20 || c == 0x7f || c == ' ') return false;  // form values are encoded: no raw spaces or controls
      }
      ++pairs;
    }
    begin = end + 1;
  }
  return pairs > 0;
}

}  // namespace leakguard::decoders
