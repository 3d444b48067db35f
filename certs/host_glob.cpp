#include "certs/host_glob.hpp"

namespace leakguard {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view strip_trailing_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

bool any_matches(const std::vector<std::string>& patterns, std::string_view host) {
  for (const auto& pattern : patterns)
    if (host_glob_match(pattern, host)) return true;
  return false;
}

}  // namespace

bool host_glob_match(std::string_view pattern, std::string_view host) {
  pattern = strip_trailing_dot(pattern);
  host = strip_trailing_dot(host);
  // Greedy matching with one backtrack point (the last '*'): enough for '*'-only globs, and it
  // never recurses, so a hostile SNI cannot blow the stack.
  std::size_t p = 0, h = 0;
  std::size_t star = std::string_view::npos, star_h = 0;
  while (h < host.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_h = h;
    } else if (p < pattern.size() && lower(pattern[p]) == lower(host[h])) {
      ++p;
      ++h;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      h = ++star_h;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string normalize_host(std::string_view host) {
  host = strip_trailing_dot(host);
  std::string out(host);
  for (char& c : out) c = lower(c);
  return out;
}

bool should_intercept(const TlsSettings& settings, std::string_view host) {
  if (any_matches(settings.passthrough, host)) return false;
  switch (settings.intercept) {
    case TlsSettings::Intercept::none:
      return false;
    case TlsSettings::Intercept::all:
      return true;
    case TlsSettings::Intercept::hosts:
      return any_matches(settings.intercept_hosts, host);
  }
  return false;
}

}  // namespace leakguard
