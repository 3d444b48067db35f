#include "detectors/header_memo.hpp"

#include <cstring>

#include "detectors/key_context.hpp"

namespace leakguard {

namespace {

// The last bytes of `text` (up to eight) as a word, from fixed-size loads: a variable-size
// memcpy was a library call and a stalled reload, most of the hash's time.
std::uint64_t tail_word(std::string_view text) {
  const char* p = text.data();
  const std::size_t n = text.size();
  if (n >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p + n - 8, 8);  // overlaps the last full word: the same bytes, the same hash
    return word;
  }
  if (n >= 4) {
    std::uint32_t first, last;
    std::memcpy(&first, p, 4);
    std::memcpy(&last, p + n - 4, 4);
    return (std::uint64_t{first} << 32) | last;
  }
  if (n == 0) return 0;
  return (std::uint64_t{static_cast<unsigned char>(p[0])} << 16) |
         (std::uint64_t{static_cast<unsigned char>(p[n / 2])} << 8) | static_cast<unsigned char>(p[n - 1]);
}

// Eight bytes at a time, multiply and xor-shift: a memo lookup hashes every header of a request, so
// this must cost little; equality is then checked byte for byte, so quality only affects hits.
std::uint64_t mix(std::uint64_t hash, std::string_view text) {
  constexpr std::uint64_t k = 0x9E3779B97F4A7C15ull;
  for (std::size_t i = 0; i + 8 <= text.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    hash = (hash ^ word) * k;
    hash ^= hash >> 29;
  }
  hash = (hash ^ tail_word(text) ^ (std::uint64_t{text.size()} << 56)) * k;
  return hash ^ (hash >> 32);
}

}  // namespace

std::uint64_t HeaderMemo::hash_of(const HttpHeader& header) {
  // The name, the value's length and its first and last 16 bytes: the same work for any line (a
  // hash of every byte was a fifth of a memo-assisted inspection). holds() compares every byte;
  // lines alike at both ends only share slots.
  const std::string_view value = header.value;
  const std::uint64_t named = mix(0, header.name) ^ (value.size() * 0xC2B2AE3D27D4EB4Full);
  if (value.size() <= 32) return mix(named, value);
  return mix(mix(named, value.substr(0, 16)), value.substr(value.size() - 16));
}

void HeaderMemo::use_stamp(Stamp stamp) {
  if (stamp.inspector == stamp_.inspector && stamp.device == stamp_.device && stamp.learned == stamp_.learned) return;
  clear();
  stamp_ = std::move(stamp);
}

bool HeaderMemo::holds(const HttpHeader& header, std::uint64_t hash) const {
  if (slots_.empty()) return false;
  for (std::size_t probe = 0; probe < probes; ++probe) {
    const Entry& entry = slots_[(hash + probe) % slot_count];
    if (entry.hash == hash && entry.name == header.name && entry.value == header.value) return true;
  }
  return false;
}

std::size_t HeaderMemo::match(const std::vector<HttpHeader>& headers, std::vector<std::uint8_t>& skip) const {
  skip.assign(headers.size(), 0);
  if (bytes_ == 0) return 0;
  std::size_t count = 0;
  for (std::size_t i = 0; i < headers.size(); ++i)
    if (holds(headers[i], hash_of(headers[i]))) {
      skip[i] = 1;
      ++count;
    }
  return count;
}

bool HeaderMemo::seen_before(std::uint64_t hash) {
  std::uint64_t* free_slot = nullptr;
  for (std::size_t probe = 0; probe < probes; ++probe) {
    std::uint64_t& seen = seen_once_[(hash + probe) % seen_once_.size()];
    if (seen == hash) return true;
    if (seen == 0 && !free_slot) free_slot = &seen;
  }
  *(free_slot ? free_slot : &seen_once_[hash % seen_once_.size()]) = hash;
  return false;
}

void HeaderMemo::remember(const std::vector<HttpHeader>& headers, const std::vector<std::uint8_t>& skip) {
  if (slots_.empty()) {
    slots_.resize(slot_count);
    seen_once_.assign(2 * slot_count, 0);
  }
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const HttpHeader& header = headers[i];
    if ((i < skip.size() && skip[i]) || header.name.empty()) continue;
    const std::size_t line = header.name.size() + header.value.size();
    if (line > max_line) continue;
    const std::uint64_t hash = hash_of(header);
    if (holds(header, hash)) continue;  // twice in one request
    if (!seen_before(hash)) continue;  // the first time: only noted
    // "X-Lat": paired with other lines by name. A name that only vetoes ("X-Order-Id") pairs with none.
    if ((classify_key(header.name) & ~KeyClass{key_other_number}) != key_none) continue;
    // A free slot among the probed ones, else the first: the line it held is inspected again.
    Entry* slot = &slots_[hash % slot_count];
    for (std::size_t probe = 0; probe < probes; ++probe) {
      Entry& candidate = slots_[(hash + probe) % slot_count];
      if (candidate.name.empty()) {
        slot = &candidate;
        break;
      }
    }
    Entry& entry = *slot;
    if (bytes_ - (entry.name.size() + entry.value.size()) + line > max_bytes) continue;
    bytes_ -= entry.name.size() + entry.value.size();
    entry.hash = hash;
    entry.name = header.name;
    entry.value = header.value;
    bytes_ += line;
  }
}

std::size_t HeaderMemo::size() const {
  std::size_t count = 0;
  for (const Entry& entry : slots_) count += entry.name.empty() ? 0 : 1;
  return count;
}

void HeaderMemo::clear() {
  slots_.clear();
  seen_once_.clear();
  bytes_ = 0;
}

}  // namespace leakguard
