// The JSON Lines event log (design.md, "Events"). Producers on I/O threads only enqueue; one writer
// thread formats nothing and blocks on disk alone, so a slow disk never stalls traffic.
// A disk that is full, or a file or directory that was removed, never stops traffic: the batches
// that cannot be written are dropped whole (no torn line), the outage is said once on stderr, and
// when the file can be written again (space freed, the directory back) its first line is an
// `error` event (`event_log_write_failed`) with the number of events lost.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
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
// The same for a given time in milliseconds since the epoch (a packet capture's timestamps).
void append_rfc3339(std::string& out, std::int64_t unix_ms);

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
  // Events lost so far to failed writes (a full disk, a removed file or directory).
  std::uint64_t lost() const { return lost_total_.load(std::memory_order_relaxed); }

 private:
  void run();
  int open_file();  // the new descriptor; throws when the path cannot be opened
  // Writes one batch whole, or nothing of it; false (errno in `error`) when it could not be written.
  bool write_batch(const std::string& bytes, int& error);
  // A file that was removed (its directory too, perhaps) is opened again at its path.
  bool ensure_linked(int& error);
  void note_loss(std::size_t events, int error);
  void note_recovery(std::string& batch);  // puts the loss's `error` event first in the batch

  std::string path_;
  int fd_ = -1;
  std::string batch_bytes_;        // the batch as one write (capacity kept)
  bool failing_ = false;           // writes fail: the outage was reported once on stderr
  std::uint64_t lost_in_outage_ = 0;
  std::atomic<std::uint64_t> lost_total_{0};
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
