#include "reports/event_reader.hpp"

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include <unistd.h>
#include <zlib.h>

namespace leakguard::reports {
namespace {

struct GzCloser {
  void operator()(gzFile file) const { gzclose(file); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

std::string_view strip_cr(std::string_view text) {
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

}  // namespace

ReadResult read_lines(const std::string& path, const std::function<void(const Line&)>& on_line,
                      const LineReaderLimits& limits) {
  ReadResult result;
  // zlib's gz* functions read uncompressed input transparently, so one code path serves both.
  GzFile file;
  if (path == "-") {
    const int fd = ::dup(STDIN_FILENO);
    if (fd >= 0) {
      file.reset(gzdopen(fd, "rb"));
      if (!file) ::close(fd);
    }
  } else {
    errno = 0;
    file.reset(gzopen(path.c_str(), "rb"));
  }
  if (!file) {
    result.error = errno ? std::strerror(errno) : "cannot open";
    return result;
  }
  result.opened = true;
  gzbuffer(file.get(), 256 * 1024);

  std::vector<char> buffer(limits.buffer_bytes);
  std::string pending;  // a line that spans two reads
  bool dropping = false;  // inside a line longer than max_line_bytes
  std::size_t number = 0;

  const auto emit = [&](std::string_view text, bool too_long) {
    ++number;
    on_line(Line{too_long ? std::string_view{} : strip_cr(text), number, too_long});
  };

  for (;;) {
    const int got = gzread(file.get(), buffer.data(), static_cast<unsigned>(buffer.size()));
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(file.get(), &code);
      result.error = code == Z_ERRNO ? std::strerror(errno) : (message ? message : "read error");
      break;
    }
    if (got == 0) {
      // zlib reports a truncated stream as end of file plus an error code.
      int code = 0;
      const char* message = gzerror(file.get(), &code);
      if (code != Z_OK && code != Z_STREAM_END) result.error = message ? message : "read error";
      break;
    }
    std::string_view chunk(buffer.data(), static_cast<std::size_t>(got));
    while (!chunk.empty()) {
      const auto newline = chunk.find('\n');
      const std::string_view piece = chunk.substr(0, newline);
      if (dropping) {
        // Skip to the end of the oversized line.
      } else if (pending.size() + piece.size() > limits.max_line_bytes) {
        dropping = true;
        pending.clear();
        pending.shrink_to_fit();
      } else if (newline != std::string_view::npos && pending.empty()) {
        emit(piece, false);  // the common case: the whole line is in the buffer, no copy
      } else {
        pending.append(piece);
      }
      if (newline == std::string_view::npos) break;
      if (dropping) {
        emit({}, true);
        dropping = false;
      } else if (!pending.empty()) {
        emit(pending, false);
        pending.clear();
      }
      chunk.remove_prefix(newline + 1);
    }
  }
  // The last line of a log that is still being written may have no newline.
  if (dropping)
    emit({}, true);
  else if (!pending.empty())
    emit(pending, false);
  result.lines = number;
  return result;
}

}  // namespace leakguard::reports
