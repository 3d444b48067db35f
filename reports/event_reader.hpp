// Reads event logs line by line, plain or gzip-compressed (a rotated `events.jsonl.1.gz` is read
// as it is), with a fixed buffer: memory does not grow with the size of the log, only with the
// longest line, and that is capped.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace leakguard::reports {

struct LineReaderLimits {
  std::size_t buffer_bytes = 1 << 20;
  // A longer line is not an event leakguard wrote; it is reported as malformed, never buffered.
  std::size_t max_line_bytes = 4 << 20;
};

// One line without its '\n' (and without a trailing '\r'). `too_long` lines come with an empty
// view: their content was dropped while reading.
struct Line {
  std::string_view text;
  std::size_t number = 0;  // 1-based
  bool too_long = false;
};

struct ReadResult {
  bool opened = false;       // false: the file could not be opened (error says why)
  std::string error;         // set when opening or reading failed (a truncated .gz, an I/O error)
  std::size_t lines = 0;
};

// Calls `on_line` for every line of `path` ("-" is standard input). gzip is recognised by its
// magic bytes, not by the name; concatenated gzip members are read one after the other. Never
// throws for bad content; a read error ends that file with `error` set after the lines before it.
ReadResult read_lines(const std::string& path, const std::function<void(const Line&)>& on_line,
                      const LineReaderLimits& limits = {});

}  // namespace leakguard::reports
