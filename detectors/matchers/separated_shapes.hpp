// Candidate shapes for the heuristics that are held together by separators: dashed IMEIs, MACs
// (':' or '-'), UUIDs and decimals. Each shape has a '-', ':' or '.' at a fixed place, so the
// finder visits only the separators (read from the buffer's ByteClasses) and checks the shape
// around each one: on a request head that is a few instructions a byte, where a Hyperscan NFA for the same
// expressions cost 14 (they have no literal factor to anchor on).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "detectors/matchers/byte_classes.hpp"

namespace leakguard::matchers {

enum class Shape : std::uint8_t {
  dashed_imei,  // [0-9]{2}-[0-9]{6}-[0-9]{6}-[0-9]
  mac_colon,    // [0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}
  mac_dash,     // [0-9a-fA-F]{2}(-[0-9a-fA-F]{2}){5}
  uuid,         // [0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}
  decimal,      // [0-9]\.[0-9]{3}
};

struct ShapeMatch {
  Shape shape;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;  // one past the last byte
};

// Appends every occurrence of every shape in `bytes` (overlapping ones included, as a regex
// engine reporting all matches would), ordered by end offset; at most `max_matches` of them, so a
// hostile body cannot grow the list without bound. Returns false if that bound cut the list short.
bool find_separated_shapes(std::string_view bytes, const ByteClasses& classes, std::vector<ShapeMatch>& out,
                           std::size_t max_matches = 1 << 16);
// The same for bytes not classified yet (tests, one-off callers).
bool find_separated_shapes(std::string_view bytes, std::vector<ShapeMatch>& out, std::size_t max_matches = 1 << 16);

}  // namespace leakguard::matchers
