// The chunked framing of a request body, checked byte by byte to RFC 9112 section 7.1 beside
// llhttp. The proxy forwards body bytes as received, so a body that llhttp's loose mode reads one
// way and a strict server another is a smuggling channel: loose mode skips junk after chunk data
// ("5\r\nhelloXX0\r\n\r\n") and ends the body at a CR followed by any byte ("0\r\n\r" + 'G').
// Whatever this check and llhttp do not both accept, and end at the same byte, is refused.
#pragma once

#include <cstdint>
#include <string_view>

namespace leakguard {

class ChunkedFramingCheck {
 public:
  // Feeds body bytes; false at the first byte that breaks the grammar or follows the end.
  bool feed(std::string_view bytes);
  bool done() const { return state_ == State::done; }

 private:
  enum class State { size, extension, size_lf, data, data_cr, data_lf, trailer_start, trailer_line, trailer_lf, final_lf, done };
  State state_ = State::size;
  int digits_ = 0;
  std::uint64_t size_ = 0;
};

}  // namespace leakguard
