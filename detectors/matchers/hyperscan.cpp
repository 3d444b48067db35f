#include "detectors/matchers/hyperscan.hpp"

#include <algorithm>
#include <atomic>
#include <limits>
#include <stdexcept>

#include <hs/hs.h>

namespace leakguard::matchers {
namespace {

std::atomic<std::uint64_t> next_serial{1};

struct ScratchDeleter {
  void operator()(hs_scratch_t* scratch) const { hs_free_scratch(scratch); }
};

// One scratch per thread, sized for every database this thread has scanned with. Serial numbers,
// not pointers, name databases: a freed database's address can be reused by a bigger one.
class ThreadScratch {
 public:
  hs_scratch_t* for_database(const hs_database_t* db, std::uint64_t serial) {
    const auto at = std::lower_bound(sized_for_.begin(), sized_for_.end(), serial);
    if (at != sized_for_.end() && *at == serial) return scratch_.get();
    hs_scratch_t* raw = scratch_.release();
    if (hs_alloc_scratch(db, &raw) != HS_SUCCESS) {
      scratch_.reset(raw);
      return nullptr;
    }
    scratch_.reset(raw);
    // A configuration has a pair of databases per device, and learned-value databases come and
    // go: keep many serials (sorted, for a binary search per scan); forgetting them only costs a
    // re-check.
    if (sized_for_.size() >= 4096) sized_for_.clear();
    sized_for_.insert(std::lower_bound(sized_for_.begin(), sized_for_.end(), serial), serial);
    return scratch_.get();
  }

 private:
  std::unique_ptr<hs_scratch_t, ScratchDeleter> scratch_;
  std::vector<std::uint64_t> sized_for_;
};

thread_local ThreadScratch thread_scratch;

struct ScanState {
  std::vector<Match>* out;
  std::size_t start_size;
  const ScanLimits* limits;
  bool truncated = false;
};

int on_match(unsigned int id, unsigned long long, unsigned long long to, unsigned int, void* context) {
  auto& state = *static_cast<ScanState*>(context);
  auto& out = *state.out;
  const auto end = static_cast<std::uint32_t>(to);
  if (out.size() - state.start_size >= state.limits->max_matches) {
    state.truncated = true;
    return 1;  // stop the scan
  }
  out.push_back(Match{id, end});
  return 0;
}

std::string compile_error_text(hs_compile_error_t* error) {
  std::string text = error && error->message ? error->message : "unknown error";
  if (error && error->expression >= 0) text += " (pattern " + std::to_string(error->expression) + ")";
  hs_free_compile_error(error);
  return text;
}

}  // namespace

void Database::Deleter::operator()(hs_database* db) const { hs_free_database(db); }

Database Database::compile_literals(std::span<const Literal> literals) {
  Database out;
  if (literals.empty()) return out;
  std::vector<const char*> texts;
  std::vector<std::size_t> lengths;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
  texts.reserve(literals.size());
  for (const auto& literal : literals) {
    if (literal.text.empty()) throw std::runtime_error("empty literal pattern");
    texts.push_back(literal.text.data());
    lengths.push_back(literal.text.size());
    flags.push_back(literal.caseless ? HS_FLAG_CASELESS : 0);
    ids.push_back(literal.id);
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile_lit_multi(texts.data(), flags.data(), ids.data(), lengths.data(),
                           static_cast<unsigned>(texts.size()), HS_MODE_BLOCK, nullptr, &db,
                           &error) != HS_SUCCESS)
    throw std::runtime_error("hyperscan: " + compile_error_text(error));
  out.db_.reset(db, Deleter{});
  out.serial_ = next_serial++;
  out.pattern_count_ = literals.size();
  return out;
}

Database Database::compile_expressions(std::span<const Expression> expressions) {
  Database out;
  if (expressions.empty()) return out;
  std::vector<std::string> storage;  // hs wants NUL-terminated expressions
  storage.reserve(expressions.size());
  std::vector<const char*> texts;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
  for (const auto& expression : expressions) {
    storage.emplace_back(expression.regex);
    flags.push_back(expression.caseless ? HS_FLAG_CASELESS : 0);
    ids.push_back(expression.id);
  }
  for (const auto& text : storage) texts.push_back(text.c_str());
  hs_database_t* db = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile_multi(texts.data(), flags.data(), ids.data(), static_cast<unsigned>(texts.size()), HS_MODE_BLOCK,
                       nullptr, &db, &error) != HS_SUCCESS)
    throw std::runtime_error("hyperscan: " + compile_error_text(error));
  out.db_.reset(db, Deleter{});
  out.serial_ = next_serial++;
  out.pattern_count_ = expressions.size();
  return out;
}

bool Database::scan(std::string_view data, std::vector<Match>& out, const ScanLimits& limits) const {
  if (!db_ || data.empty()) return true;
  if (data.size() > std::numeric_limits<std::uint32_t>::max()) data = data.substr(0, std::numeric_limits<std::uint32_t>::max());
  hs_scratch_t* scratch = thread_scratch.for_database(db_.get(), serial_);
  if (!scratch) return false;
  ScanState state{&out, out.size(), &limits};
  const hs_error_t status = hs_scan(db_.get(), data.data(), static_cast<unsigned>(data.size()), 0, scratch, on_match, &state);
  return (status == HS_SUCCESS || status == HS_SCAN_TERMINATED) && !state.truncated;
}

}  // namespace leakguard::matchers
