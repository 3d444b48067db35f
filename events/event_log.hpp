// The JSON Lines event log (design.md, "Events"). Producers on I/O threads only enqueue; one writer
// thread formats nothing and blocks on disk alone, so a slow disk never stalls traffic.
#pragma once

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

namespace leakguard {

using Json = nlohmann::json;

// RFC 3339 UTC with milliseconds: 2026-11-28T09:00:00.123Z.
std::string rfc3339_now();
// The same, appended to `out` (no string of its own: once per event line on the proxy's hot path).
void append_rfc3339_now(std::string& out);

class EventLog {
 public:
  // path "-" is standard output; anything else is appended to (created 0600 if missing).
  explicit EventLog(std::string path);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Adds `ts` when missing and queues one line. Never blocks on I/O.
  void emit(Json event);
  // Queues a line that is already one serialized JSON object ending in a newline (EventLine).
  void emit_line(std::string line);
  // Re-opens the file (logrotate's SIGUSR1 convention); no-op for standard output.
  void reopen();
  // Blocks until every queued event is written and flushed.
  void flush();

 private:
  void run();
  void open_file();

  std::string path_;
  std::FILE* out_ = nullptr;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  std::deque<std::string> queue_;
  bool reopen_requested_ = false;
  bool flush_requested_ = false;
  bool stopping_ = false;
  bool lingering_ = false;  // the writer is gathering a batch: producers need not wake it
  bool writing_ = false;
  std::thread writer_;
};

}  // namespace leakguard
