#include "detectors/decoders/url.hpp"

#include <algorithm>
#include <cstring>

namespace leakguard::decoders {
namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
bool escape_at(std::string_view text, std::size_t i) {
  return i + 2 < text.size() && text[i] == '%' && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0;
}
}  // namespace

bool has_percent_escape(std::string_view text) {
  for (std::size_t i = text.find('%'); i != std::string_view::npos; i = text.find('%', i + 1))
    if (escape_at(text, i)) return true;
  return false;
}

std::size_t percent_decode(std::string_view text, std::string& out) {
  std::size_t escapes = 0;
  out.reserve(out.size() + text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t percent = text.find('%', i);
    if (percent == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, percent - i));
    if (escape_at(text, percent)) {
      out.push_back(static_cast<char>(hex_value(text[percent + 1]) * 16 + hex_value(text[percent + 2])));
      ++escapes;
      i = percent + 3;
    } else {
      out.push_back('%');
      i = percent + 1;
    }
  }
  return escapes;
}

std::size_t raw_offset_of_decoded(std::string_view raw, std::size_t decoded) {
  std::size_t i = 0;
  std::size_t produced = 0;
  while (i < raw.size() && produced < decoded) {
    i += escape_at(raw, i) ? 3 : 1;
    ++produced;
  }
  return i;
}

void PercentOffsets::index(std::string_view raw) {
  if (indexed_ && raw.data() == raw_.data() && raw.size() == raw_.size()) return;
  raw_ = raw;
  indexed_ = true;
  escapes_.clear();
  std::size_t produced = 0;
  std::size_t i = 0;
  while (i < raw.size()) {
    const std::size_t percent = raw.find('%', i);
    if (percent == std::string_view::npos) break;
    produced += percent - i;
    if (escape_at(raw, percent)) {
      escapes_.push_back(produced);
      i = percent + 3;
    } else {
      i = percent + 1;
    }
    ++produced;
  }
}

std::size_t PercentOffsets::raw_offset(std::size_t decoded) const {
  // Every decoded byte before `decoded` took one raw byte, and two more if it was an escape.
  const auto escapes_before = std::lower_bound(escapes_.begin(), escapes_.end(), decoded) - escapes_.begin();
  return std::min(raw_.size(), decoded + 2 * static_cast<std::size_t>(escapes_before));
}

}  // namespace leakguard::decoders
