#include "events/event_log.hpp"

#include <chrono>
#include <ctime>
#include <fcntl.h>
#include <stdexcept>
#include <system_error>
#include <unistd.h>

namespace leakguard {

namespace {

// A busy proxy emits tens of thousands of events a second. Once a first event is queued, the
// writer waits this long for more before it writes: it then wakes (and producers signal it) about
// a hundred times a second instead of once per exchange, which took a futex wake and a context
// switch per event (~10% of the proxy's CPU in bench/http_proxy_bench.sh). An event still reaches
// the file within about this delay; flush() and shutdown do not wait for it.
constexpr auto linger = std::chrono::milliseconds(10);
// A batch this large is written at once, linger or not: memory stays bounded under a burst.
constexpr std::size_t max_batch = 4096;

}  // namespace

std::string rfc3339_now() {
  std::string out;
  append_rfc3339_now(out);
  return out;
}

void append_rfc3339_now(std::string& out) {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  // The date and time down to the second change once a second: format them then, per thread.
  thread_local std::time_t cached_second = -1;
  thread_local char cached_prefix[64];
  if (seconds != cached_second) {
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    std::snprintf(cached_prefix, sizeof cached_prefix, "%04d-%02d-%02dT%02d:%02d:%02d", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
    cached_second = seconds;
  }
  const int millis = static_cast<int>(ms % 1000);
  out += cached_prefix;
  out += '.';
  out += static_cast<char>('0' + millis / 100);
  out += static_cast<char>('0' + millis / 10 % 10);
  out += static_cast<char>('0' + millis % 10);
  out += 'Z';
}

EventLog::EventLog(std::string path) : path_(std::move(path)) {
  open_file();
  writer_ = std::thread([this] { run(); });
}

EventLog::~EventLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  writer_.join();
  if (out_ && out_ != stdout) std::fclose(out_);
}

void EventLog::open_file() {
  if (path_ == "-") {
    out_ = stdout;
    return;
  }
  // Events name devices and destinations: keep them private to the owner, like the CA key.
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot open event log " + path_);
  out_ = ::fdopen(fd, "a");
  if (!out_) {
    ::close(fd);
    throw std::system_error(errno, std::generic_category(), "cannot open event log " + path_);
  }
  // A batch is flushed as a whole after it is written: with stdio's 4 KiB buffer a busy proxy's
  // batch took a write(2) every ten lines.
  std::setvbuf(out_, nullptr, _IOFBF, 256 * 1024);
}

void EventLog::emit(Json event) {
  if (!event.contains("ts")) event["ts"] = rfc3339_now();
  // Invalid UTF-8 from the wire (a header, a URL) is replaced, never a reason to lose the event.
  std::string line = event.dump(-1, ' ', false, Json::error_handler_t::replace);
  line.push_back('\n');
  emit_line(std::move(line));
}

void EventLog::emit_line(std::string line) {
  bool wake_writer = false;
  {
    std::lock_guard lock(mutex_);
    // One wake-up per batch, not per event: a writer that is writing, gathering a batch or
    // already woken for a non-empty queue takes this line with the rest.
    queue_.push_back(std::move(line));
    wake_writer = (queue_.size() == 1 && !writing_ && !lingering_) || queue_.size() == max_batch;
  }
  if (wake_writer) wake_.notify_one();
}

void EventLog::reopen() {
  {
    std::lock_guard lock(mutex_);
    reopen_requested_ = true;
  }
  wake_.notify_one();
}

void EventLog::flush() {
  std::unique_lock lock(mutex_);
  if (queue_.empty() && !writing_) return;
  flush_requested_ = true;  // cut the writer's linger short
  wake_.notify_one();
  drained_.wait(lock, [this] { return queue_.empty() && !writing_; });
}

void EventLog::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || reopen_requested_ || !queue_.empty(); });
    lingering_ = true;
    wake_.wait_for(lock, linger, [this] { return stopping_ || flush_requested_ || queue_.size() >= max_batch; });
    lingering_ = false;
    if (reopen_requested_ && path_ != "-") {
      reopen_requested_ = false;
      std::FILE* old = out_;
      try {
        open_file();
        std::fclose(old);
      } catch (const std::exception&) {
        out_ = old;  // keep writing to the old file rather than lose events
      }
    }
    reopen_requested_ = false;
    std::deque<std::string> batch;
    batch.swap(queue_);
    writing_ = true;
    lock.unlock();
    for (const auto& line : batch) std::fwrite(line.data(), 1, line.size(), out_);
    std::fflush(out_);
    lock.lock();
    writing_ = false;
    if (queue_.empty()) {
      flush_requested_ = false;
      drained_.notify_all();
    }
    if (stopping_ && queue_.empty()) return;
  }
}

}  // namespace leakguard
