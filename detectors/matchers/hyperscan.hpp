// Hyperscan, owned: a compiled database is immutable and shared by every thread; each thread scans
// with its own scratch region (Hyperscan needs one per concurrent caller), kept thread_local and
// grown once for every database the thread meets. Matches are collected first and judged after the
// scan, so no detector logic ever runs inside Hyperscan's callback.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct hs_database;

namespace leakguard::matchers {

struct Match {
  std::uint32_t id = 0;
  std::uint32_t end = 0;  // offset one past the last byte of the match
};

struct Literal {
  std::string_view text;
  bool caseless = false;
  std::uint32_t id = 0;
};

struct Expression {
  std::string_view regex;  // Hyperscan syntax
  std::uint32_t id = 0;
  bool caseless = false;
};

struct ScanLimits {
  // A hostile body must not turn into an unbounded match list.
  std::size_t max_matches = 1 << 16;
};

class Database {
 public:
  Database() = default;
  // Throws std::runtime_error naming the bad pattern; empty input gives an empty database.
  static Database compile_literals(std::span<const Literal> literals);
  static Database compile_expressions(std::span<const Expression> expressions);

  bool empty() const { return !db_; }
  std::size_t pattern_count() const { return pattern_count_; }
  // Appends the matches in `data` to `out`; returns false only if Hyperscan reported an error or
  // the match limit cut the scan short.
  bool scan(std::string_view data, std::vector<Match>& out, const ScanLimits& limits = {}) const;

 private:
  struct Deleter {
    void operator()(hs_database* db) const;
  };
  std::shared_ptr<hs_database> db_;
  std::uint64_t serial_ = 0;  // identifies the database to the per-thread scratch cache
  std::size_t pattern_count_ = 0;
};

}  // namespace leakguard::matchers
