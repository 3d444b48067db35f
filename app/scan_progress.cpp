#include "app/scan_progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace leakguard {

ScanProgress::ScanProgress(std::string label, std::uint64_t total_bytes, std::uint64_t min_bytes)
    : label_(std::move(label)), total_(total_bytes), active_(total_bytes >= min_bytes && isatty(STDERR_FILENO)) {}

ScanProgress::~ScanProgress() {
  if (drawn_) std::fputs("\r\033[K", stderr);  // the findings on stdout may share the terminal
}

void ScanProgress::redraw(std::uint64_t done_bytes) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(250)) return;
  last_ = now;
  constexpr double mb = 1024.0 * 1024.0;
  std::fprintf(stderr, "\r\033[Kleakguard scan: %s: %.1f of %.1f MB (%.0f%%)", label_.c_str(), done_bytes / mb,
               total_ / mb, total_ ? 100.0 * static_cast<double>(done_bytes) / static_cast<double>(total_) : 100.0);
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace leakguard
