// "bytes done of total" on standard error while `leakguard scan` reads a large file, so a lab
// knows a 2 GB capture is being read and not stuck. Only on a terminal: redirected stderr (a
// script, CI) gets nothing. Shared by the readers of every format.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace leakguard {

class ScanProgress {
 public:
  // Silent unless stderr is a terminal and `total_bytes` is at least `min_bytes`.
  ScanProgress(std::string label, std::uint64_t total_bytes, std::uint64_t min_bytes = 8ull << 20);
  ~ScanProgress();  // clears the line
  ScanProgress(const ScanProgress&) = delete;
  ScanProgress& operator=(const ScanProgress&) = delete;

  // Cheap to call per record: it redraws at most a few times a second.
  void update(std::uint64_t done_bytes) {
    if (active_ && ++calls_ % 256 == 0) redraw(done_bytes);
  }
  bool active() const { return active_; }

 private:
  void redraw(std::uint64_t done_bytes);

  std::string label_;
  std::uint64_t total_ = 0;
  bool active_ = false;
  bool drawn_ = false;
  std::uint64_t calls_ = 0;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace leakguard
