#include "common/mask.hpp"

#include <algorithm>
#include <cctype>

namespace leakguard {

std::string mask_value(std::string_view value) {
  const std::size_t visible = std::min<std::size_t>(6, value.size() / 3);
  std::string out(value.substr(0, visible));
  out.append(value.size() - visible, '*');
  return out;
}

namespace {
bool equal_ci(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}
}  // namespace

std::string mask_occurrences(std::string_view text, const std::vector<std::string>& secrets) {
  std::string out(text);
  for (const auto& secret : secrets) {
    if (secret.size() < 4) continue;
    const std::string masked = mask_value(secret);
    for (std::size_t pos = 0; pos + secret.size() <= out.size();) {
      if (equal_ci(std::string_view(out).substr(pos, secret.size()), secret)) {
        out.replace(pos, secret.size(), masked);
        pos += masked.size();
      } else {
        ++pos;
      }
    }
  }
  return out;
}

}  // namespace leakguard
