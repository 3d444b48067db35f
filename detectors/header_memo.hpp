// A connection's memo of the header lines it has already sent clean. Apps resend the same
// User-Agent, Authorization token, cookies and Accept headers on every request of a keep-alive
// connection; decoding and scanning them again finds what it found before, nothing, and was most of
// the cost of inspecting a small request. A header line in the memo is left out of the next
// request's decoded view.
//
// Left out only when that cannot change a finding. The result of inspecting a line is a function
// of its bytes, the configuration, the device's profile and its learned values, except where a
// detector pairs evidence across fields (a latitude in one header and a longitude in another, a
// cell id with its network in another header). So:
//  - the memo is emptied when the Inspector (configuration), the device or the learned values
//    differ from those it was filled under (learned values: pinned, compared by identity);
//  - a line is remembered only from a request that produced no finding and no anomaly, and whose
//    detectors raised no cross-field candidate (DetectionNotes), and only if its name is no
//    context key ("X-Lat", "X-MCC": the heuristics pair such headers by name); and only the second
//    time it comes clean, so that lines sent once (request ids, signatures) take no slot;
//  - a request that leaves lines out and then raises a cross-field candidate is inspected again
//    with every line (Inspector::inspect_request).
// tests/detectors/header_memo_test.cpp checks findings with and without the memo are the same.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/http_message.hpp"

namespace leakguard {

namespace known {
class KnownIndex;
}

class HeaderMemo {
 public:
  // What a memo's contents were found clean under.
  struct Stamp {
    std::uint64_t inspector = 0;  // Inspector generation (one per configuration and limits)
    std::size_t device = static_cast<std::size_t>(-1);
    std::shared_ptr<const known::KnownIndex> learned;  // pinned, so that its address is not reused
  };

  // Lines kept at most, and their bytes (the memo lives as long as its connection).
  static constexpr std::size_t slot_count = 64;
  static constexpr std::size_t max_bytes = 8 * 1024;  // x limits.max_connections, at most
  static constexpr std::size_t max_line = 4 * 1024;
  static constexpr std::size_t probes = 4;  // slots a line may sit in, from its hash on

  // Empties the memo unless `stamp` is the one it was filled under.
  void use_stamp(Stamp stamp);
  // skip[i] = 1 for each header of `headers` the memo holds (same name, same value); returns how many.
  std::size_t match(const std::vector<HttpHeader>& headers, std::vector<std::uint8_t>& skip) const;
  // Remembers the headers not skipped whose names are no context key, within the bounds above,
  // from their second clean request on: a line sent once (a request id, a signature) would only
  // take a slot from one that comes back.
  void remember(const std::vector<HttpHeader>& headers, const std::vector<std::uint8_t>& skip);
  std::size_t size() const;
  void clear();

 private:
  struct Entry {
    std::uint64_t hash = 0;
    std::string name;
    std::string value;
  };
  static std::uint64_t hash_of(const HttpHeader& header);
  // Whether the memo holds this line (`hash`: hash_of(header)).
  bool holds(const HttpHeader& header, std::uint64_t hash) const;
  // Whether a line of this hash was noted clean before; notes it if not.
  bool seen_before(std::uint64_t hash);

  Stamp stamp_;
  std::vector<std::uint64_t> seen_once_;  // hashes of lines seen clean once; 0: free
  std::vector<Entry> slots_;  // slot_count; a line sits within `probes` slots of its hash; empty name: free
  std::size_t bytes_ = 0;
};

}  // namespace leakguard
