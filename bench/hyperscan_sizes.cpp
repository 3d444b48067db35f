// What a Hyperscan literal database costs by the number of literals it holds: its size, its
// compile time and the time to scan 4 KiB of text that matches none of them. The known-identifier
// index compiles one database per device (~120 literals: detectors/known_identifiers/known_index.hpp);
// this says what sharing one database among groups of devices would save and cost. The literals
// are random, shaped like the index's forms: decimal (IMEI, IMSI), hex (Android ID, MAC) and
// base64 texts of 10 to 39 characters, one in five caseless. Figures: bench/RESULTS.md.
//
//   build/bench/hyperscan_sizes
#include <hs/hs.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr const char* alphabets[] = {"0123456789", "0123456789abcdef",
                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"};

std::string random_text(std::mt19937_64& rng, const char* alphabet, std::size_t length) {
  const std::size_t size = std::char_traits<char>::length(alphabet);
  std::string out;
  for (std::size_t i = 0; i < length; ++i) out.push_back(alphabet[rng() % size]);
  return out;
}

int count_match(unsigned, unsigned long long, unsigned long long, unsigned, void* context) {
  ++*static_cast<int*>(context);
  return 0;
}

void measure(unsigned literal_count, std::mt19937_64& rng) {
  std::vector<std::string> literals;
  std::vector<const char*> texts;
  std::vector<std::size_t> lengths;
  std::vector<unsigned> flags, ids;
  for (unsigned i = 0; i < literal_count; ++i) literals.push_back(random_text(rng, alphabets[i % 3], 10 + rng() % 30));
  for (unsigned i = 0; i < literal_count; ++i) {
    texts.push_back(literals[i].data());
    lengths.push_back(literals[i].size());
    flags.push_back(i % 5 == 0 ? HS_FLAG_CASELESS : 0);
    ids.push_back(i);
  }
  hs_database_t* database = nullptr;
  hs_compile_error_t* error = nullptr;
  const auto compile_start = std::chrono::steady_clock::now();
  if (hs_compile_lit_multi(texts.data(), flags.data(), ids.data(), lengths.data(), literal_count, HS_MODE_BLOCK, nullptr,
                           &database, &error) != HS_SUCCESS) {
    std::fprintf(stderr, "hs_compile_lit_multi: %s\n", error->message);
    hs_free_compile_error(error);
    return;
  }
  const auto compiled = std::chrono::steady_clock::now();
  std::size_t database_bytes = 0;
  hs_database_size(database, &database_bytes);
  hs_scratch_t* scratch = nullptr;
  hs_alloc_scratch(database, &scratch);
  const std::string text = random_text(rng, alphabets[2], 4096);
  int matches = 0;
  constexpr int scans = 2000;
  const auto scan_start = std::chrono::steady_clock::now();
  for (int i = 0; i < scans; ++i)
    hs_scan(database, text.data(), static_cast<unsigned>(text.size()), 0, scratch, count_match, &matches);
  const auto scanned = std::chrono::steady_clock::now();
  std::printf("| %u | %zu | %.0f | %.1f | %.2f |\n", literal_count, database_bytes,
              static_cast<double>(database_bytes) / literal_count,
              std::chrono::duration<double, std::milli>(compiled - compile_start).count(),
              std::chrono::duration<double, std::micro>(scanned - scan_start).count() / scans);
  hs_free_scratch(scratch);
  hs_free_database(database);
}

}  // namespace

int main() {
  std::mt19937_64 rng(42);
  std::printf("| literals | database bytes | bytes a literal | compile ms | µs to scan 4 KiB |\n|---:|---:|---:|---:|---:|\n");
  // Around one device's database, then groups of 8, 64 and 1,000 devices of 120 literals.
  for (unsigned count : {16u, 32u, 64u, 96u, 120u, 160u, 240u, 960u, 7680u, 120000u}) measure(count, rng);
}
