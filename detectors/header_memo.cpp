#include "detectors/header_memo.hpp"

#include <cstring>

#include "detectors/key_context.hpp"

namespace leakguard {

namespace {

// Eight bytes at a time, multiply and rotate: a memo lookup hashes every header of a request, so
// this must cost little; equality is then checked byte for byte, so quality only affects hits.
std::uint64_t mix(std::uint64_t hash, std::string_view text) {
  constexpr std::uint64_t k = 0x9E3779B97F4A7C15ull;
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    hash = (hash ^ word) * k;
    hash ^= hash >> 29;
  }
  std::uint64_t tail = 0;
  std::memcpy(&tail, text.data() + i, text.size() - i);
  hash = (hash ^ tail ^ (text.size() << 56)) * k;
  return hash ^ (hash >> 32);
}

}  // namespace

std::uint64_t HeaderMemo::hash_of(const HttpHeader& header) { return mix(mix(0, header.name), header.value); }

void HeaderMemo::use_stamp(Stamp stamp) {
  if (stamp.inspector == stamp_.inspector && stamp.device == stamp_.device && stamp.learned == stamp_.learned) return;
  clear();
  stamp_ = std::move(stamp);
}

const HeaderMemo::Entry* HeaderMemo::find(const HttpHeader& header, std::uint64_t hash) const {
  if (slots_.empty()) return nullptr;
  for (std::size_t probe = 0; probe < probes; ++probe) {
    const Entry& entry = slots_[(hash + probe) % slot_count];
    if (entry.hash == hash && entry.name == header.name && entry.value == header.value) return &entry;
  }
  return nullptr;
}

std::size_t HeaderMemo::match(const std::vector<HttpHeader>& headers, std::vector<std::uint8_t>& skip) const {
  skip.assign(headers.size(), 0);
  if (bytes_ == 0) return 0;
  std::size_t count = 0;
  for (std::size_t i = 0; i < headers.size(); ++i)
    if (find(headers[i], hash_of(headers[i]))) {
      skip[i] = 1;
      ++count;
    }
  return count;
}

void HeaderMemo::remember(const std::vector<HttpHeader>& headers, const std::vector<std::uint8_t>& skip) {
  if (slots_.empty()) slots_.resize(slot_count);
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const HttpHeader& header = headers[i];
    if ((i < skip.size() && skip[i]) || header.name.empty()) continue;
    const std::size_t line = header.name.size() + header.value.size();
    if (line > max_line || classify_key(header.name) != key_none) continue;
    const std::uint64_t hash = hash_of(header);
    if (find(header, hash)) continue;  // twice in one request
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
  bytes_ = 0;
}

}  // namespace leakguard
