#include "events/event_log.hpp"

#include <chrono>
#include <ctime>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
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
  append_rfc3339(out, std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
}

void append_rfc3339(std::string& out, std::int64_t ms) {
  if (ms < 0) ms = 0;  // before 1970: a capture with a broken clock, shown as the epoch
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
  fd_ = open_file();
  writer_ = std::thread([this] { run(); });
}

EventLog::~EventLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  writer_.join();
  if (fd_ >= 0 && fd_ != STDOUT_FILENO) ::close(fd_);
}

int EventLog::open_file() {
  if (path_ == "-") return STDOUT_FILENO;
  // Events name devices and destinations: keep them private to the owner, like the CA key.
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot open event log " + path_);
  return fd;
}

bool EventLog::write_batch(const std::string& bytes, int& error) {
  // Where the file ended: a batch written in part (the disk filled in the middle) is cut back to
  // it, so the file keeps whole lines and `leakguard report` reads it to the end.
  const off_t before = fd_ == STDOUT_FILENO ? -1 : ::lseek(fd_, 0, SEEK_END);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n < 0 ? errno : EIO;
      // Should the cut fail as well, the torn line stays: nothing else can be done about it here.
      if (before >= 0 && done > 0) [[maybe_unused]] const int cut = ::ftruncate(fd_, before);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool EventLog::ensure_linked(int& error) {
  if (fd_ == STDOUT_FILENO) return true;
  struct stat status {};
  if (::fstat(fd_, &status) == 0 && status.st_nlink > 0) return true;
  // Removed (rm, or its directory with it): writing on would fill an invisible file. Open the path
  // again; while that fails (the directory is gone), events are dropped and counted.
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = errno;
    return false;
  }
  ::close(fd_);
  fd_ = fd;
  return true;
}

void EventLog::note_loss(std::size_t events, int error) {
  lost_in_outage_ += events;
  lost_total_.fetch_add(events, std::memory_order_relaxed);
  if (failing_) return;
  failing_ = true;
  // Once per outage: the event file is what cannot be written, so stderr says it.
  std::fprintf(stderr, "leakguard: cannot write the event log %s (%s): events are dropped until it can be written again\n",
               path_.c_str(), std::strerror(error));
}

void EventLog::note_recovery(std::string& batch) {
  if (!failing_) return;
  Json event{{"type", "error"},
             {"error", "event_log_write_failed"},
             {"detail", "the event log could not be written (disk full, or the file or its directory removed); the "
                        "events of that time are lost"},
             {"events_lost", lost_in_outage_},
             {"ts", rfc3339_now()}};
  batch.insert(0, event.dump() + "\n");
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
      try {
        const int fd = open_file();
        ::close(fd_);
        fd_ = fd;
      } catch (const std::exception&) {
        // Keep writing to the old file rather than lose events.
      }
    }
    reopen_requested_ = false;
    std::deque<std::string> batch;
    batch.swap(queue_);
    writing_ = true;
    lock.unlock();
    batch_bytes_.clear();
    for (const auto& line : batch) batch_bytes_ += line;
    int error = 0;
    bool written = ensure_linked(error);
    if (written) {
      const bool recovering = failing_;
      if (recovering) note_recovery(batch_bytes_);
      written = write_batch(batch_bytes_, error);
      if (written && recovering) {
        // Said only once the loss is on record in the file itself.
        std::fprintf(stderr, "leakguard: the event log %s is written again; %llu events were lost\n", path_.c_str(),
                     static_cast<unsigned long long>(lost_in_outage_));
        failing_ = false;
        lost_in_outage_ = 0;
      }
    }
    if (!written) note_loss(batch.size(), error);
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
