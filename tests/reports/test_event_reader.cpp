// The line reader on what rotation and live logs produce: gzip files (single and concatenated
// members), a gzip file cut short, a last line without newline, CRLF, and lines over the cap.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>
#include <zlib.h>

#include "reports/event_reader.hpp"

using namespace leakguard::reports;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / ("leakguard-reports-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

void write_plain(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

void write_gzip(const std::filesystem::path& path, const std::string& text, const char* mode = "wb") {
  gzFile file = gzopen(path.c_str(), mode);
  REQUIRE(file != nullptr);
  REQUIRE(gzwrite(file, text.data(), static_cast<unsigned>(text.size())) == static_cast<int>(text.size()));
  REQUIRE(gzclose(file) == Z_OK);
}

std::vector<std::string> lines_of(const std::string& path, ReadResult* result = nullptr, LineReaderLimits limits = {}) {
  std::vector<std::string> lines;
  const auto got = read_lines(
      path, [&](const Line& line) { lines.push_back(line.too_long ? "<too long>" : std::string(line.text)); }, limits);
  if (result) *result = got;
  return lines;
}

}  // namespace

TEST_CASE("plain file: lines, CRLF, blank lines and a last line without newline") {
  TempDir dir;
  write_plain(dir.path / "a.jsonl", "one\r\ntwo\n\nthree");
  ReadResult result;
  const auto lines = lines_of(dir.path / "a.jsonl", &result);
  CHECK(result.opened);
  CHECK(result.error.empty());
  CHECK(lines == std::vector<std::string>{"one", "two", "", "three"});
}

TEST_CASE("gzip is read as it is, whatever the name; concatenated members too") {
  TempDir dir;
  write_gzip(dir.path / "events.jsonl.1.gz", "{\"a\":1}\n{\"b\":2}\n");
  CHECK(lines_of(dir.path / "events.jsonl.1.gz") == std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"});
  write_gzip(dir.path / "no-extension", "x\n");
  CHECK(lines_of(dir.path / "no-extension") == std::vector<std::string>{"x"});
  // `cat a.gz b.gz > c.gz` is a valid gzip file of two members.
  write_gzip(dir.path / "two.gz", "first\n");
  write_gzip(dir.path / "two.gz", "second\n", "ab");
  CHECK(lines_of(dir.path / "two.gz") == std::vector<std::string>{"first", "second"});
}

TEST_CASE("a truncated gzip file keeps the lines before the cut and reports an error") {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "{\"type\":\"conn\",\"n\":" + std::to_string(i) + "}\n";
  write_gzip(dir.path / "full.gz", text);
  const auto size = std::filesystem::file_size(dir.path / "full.gz");
  std::filesystem::copy_file(dir.path / "full.gz", dir.path / "cut.gz");
  std::filesystem::resize_file(dir.path / "cut.gz", size / 2);
  ReadResult result;
  const auto lines = lines_of(dir.path / "cut.gz", &result);
  CHECK(result.opened);
  CHECK_FALSE(result.error.empty());
  CHECK(lines.size() > 0);
  CHECK(lines.size() < 20000);
}

TEST_CASE("a missing file is reported, not thrown") {
  ReadResult result;
  CHECK(lines_of("/nonexistent/leakguard/events.jsonl", &result).empty());
  CHECK_FALSE(result.opened);
  CHECK_FALSE(result.error.empty());
}

TEST_CASE("lines longer than the cap are dropped whole, across buffer boundaries") {
  TempDir dir;
  const std::string huge(100, 'x');
  write_plain(dir.path / "long.jsonl", "short\n" + huge + "\nafter\n" + huge);
  LineReaderLimits limits;
  limits.buffer_bytes = 16;  // lines span many reads
  limits.max_line_bytes = 50;
  ReadResult result;
  const auto lines = lines_of(dir.path / "long.jsonl", &result, limits);
  CHECK(lines == std::vector<std::string>{"short", "<too long>", "after", "<too long>"});
  CHECK(result.lines == 4);
}

TEST_CASE("small buffers give the same lines as large ones") {
  TempDir dir;
  std::string text;
  std::vector<std::string> expected;
  for (int i = 0; i < 300; ++i) {
    expected.push_back(std::string(static_cast<std::size_t>(i % 37), 'a' + static_cast<char>(i % 26)));
    text += expected.back() + "\n";
  }
  write_gzip(dir.path / "mixed.gz", text);
  for (std::size_t buffer : {1u, 7u, 64u, 1u << 20}) {
    LineReaderLimits limits;
    limits.buffer_bytes = buffer;
    CAPTURE(buffer);
    CHECK(lines_of(dir.path / "mixed.gz", nullptr, limits) == expected);
  }
}
