// The event log: every emitted event reaches the file as one JSON line, promptly, in order, and
// nothing is lost on flush or shutdown, whatever the batching does.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "events/event_log.hpp"

namespace {

using leakguard::EventLog;
using leakguard::Json;

struct TempFile {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("leakguard-events-" + std::to_string(::getpid()) + "-" +
                                std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ".jsonl");
  ~TempFile() { std::filesystem::remove(path); }
};

std::vector<Json> read_lines(const std::filesystem::path& path) {
  std::vector<Json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(Json::parse(line));
  return out;
}

}  // namespace

TEST_CASE("timestamps are RFC 3339 UTC with milliseconds, and current") {
  const std::regex shape(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");
  const std::string first = leakguard::rfc3339_now();
  CHECK(std::regex_match(first, shape));
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char year_month_day[16];
  std::strftime(year_month_day, sizeof year_month_day, "%Y-%m-%d", &utc);
  CHECK(first.substr(0, 10) == year_month_day);
  // Across a second boundary the cached part moves on.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const std::string later = leakguard::rfc3339_now();
  CHECK(std::regex_match(later, shape));
  CHECK(later.substr(0, 19) != first.substr(0, 19));
}

TEST_CASE("flush writes every queued event, in order, one JSON line each") {
  TempFile file;
  EventLog log(file.path.string());
  for (int i = 0; i < 10000; ++i) log.emit(Json{{"type", "test"}, {"n", i}});  // more than one batch
  log.flush();
  const auto lines = read_lines(file.path);
  REQUIRE(lines.size() == 10000);
  for (int i = 0; i < 10000; ++i) {
    CHECK(lines[i]["n"] == i);
    CHECK(lines[i].contains("ts"));
  }
  CHECK((std::filesystem::status(file.path).permissions() & std::filesystem::perms::group_read) ==
        std::filesystem::perms::none);
}

TEST_CASE("an event reaches the file without a flush") {
  TempFile file;
  EventLog log(file.path.string());
  log.emit(Json{{"type", "test"}});
  // The writer gathers a batch for a moment, not forever: wait up to 5 s for the line.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (read_lines(file.path).empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(read_lines(file.path).size() == 1);
}

TEST_CASE("events from many threads all arrive; destruction writes what is queued") {
  TempFile file;
  {
    EventLog log(file.path.string());
    std::vector<std::thread> producers;
    for (int t = 0; t < 4; ++t)
      producers.emplace_back([&log, t] {
        for (int i = 0; i < 2000; ++i) log.emit(Json{{"type", "test"}, {"thread", t}, {"n", i}});
      });
    for (auto& producer : producers) producer.join();
  }
  const auto lines = read_lines(file.path);
  REQUIRE(lines.size() == 8000);
  std::vector<int> next(4, 0);
  for (const auto& line : lines) {
    const int t = line["thread"];
    CHECK(line["n"] == next[t]);  // each producer's events keep their order
    ++next[t];
  }
}

TEST_CASE("a log that cannot be written drops whole batches, counts them, and says so when it recovers") {
  // /dev/full fails every write with ENOSPC, as a full disk does.
  {
    EventLog log("/dev/full");
    for (int i = 0; i < 10; ++i) log.emit(Json{{"type", "test"}, {"i", i}});
    log.flush();
    CHECK(log.lost() == 10);
  }
  // A directory that vanishes and comes back: the file is made again, its first line the loss.
  const auto dir = std::filesystem::temp_directory_path() /
                   ("leakguard-events-dir-" + std::to_string(::getpid()) + "-" +
                    std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::filesystem::create_directory(dir);
  {
    EventLog log((dir / "events.jsonl").string());
    log.emit(Json{{"type", "test"}, {"i", 0}});
    log.flush();
    std::filesystem::remove_all(dir);
    for (int i = 1; i <= 3; ++i) log.emit(Json{{"type", "test"}, {"i", i}});
    log.flush();
    CHECK(log.lost() == 3);
    std::filesystem::create_directory(dir);
    log.emit(Json{{"type", "test"}, {"i", 4}});
    log.flush();
    const auto lines = read_lines(dir / "events.jsonl");
    REQUIRE(lines.size() == 2);
    CHECK(lines[0]["type"] == "error");
    CHECK(lines[0]["error"] == "event_log_write_failed");
    CHECK(lines[0]["events_lost"] == 3);
    CHECK(lines[1]["i"] == 4);
    CHECK((std::filesystem::status(dir / "events.jsonl").permissions() & std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  }
  std::filesystem::remove_all(dir);
}
