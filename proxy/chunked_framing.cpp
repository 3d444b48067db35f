#include "proxy/chunked_framing.hpp"

#include <algorithm>
#include <cctype>

namespace leakguard {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
}
}  // namespace

bool ChunkedFramingCheck::feed(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    switch (state_) {
      case State::size:
        if (std::isxdigit(static_cast<unsigned char>(c))) {
          if (++digits_ > 16) return false;
          size_ = size_ * 16 + static_cast<std::uint64_t>(hex_value(c));
        } else if (digits_ > 0 && (c == ';' || c == ' ' || c == '\t')) {
          state_ = State::extension;
        } else if (digits_ > 0 && c == '\r') {
          state_ = State::size_lf;
        } else {
          return false;
        }
        break;
      case State::extension:  // llhttp checks the extension's own grammar; here: no CR, LF, NUL
        if (c == '\r')
          state_ = State::size_lf;
        else if (c == '\n' || c == '\0')
          return false;
        break;
      case State::size_lf:
        if (c != '\n') return false;
        state_ = size_ == 0 ? State::trailer_start : State::data;
        break;
      case State::data: {
        const auto take = std::min<std::uint64_t>(size_, bytes.size() - i);
        size_ -= take;
        i += take - 1;
        if (size_ == 0) state_ = State::data_cr;
        break;
      }
      case State::data_cr:
        if (c != '\r') return false;
        state_ = State::data_lf;
        break;
      case State::data_lf:
        if (c != '\n') return false;
        state_ = State::size;
        digits_ = 0;
        break;
      case State::trailer_start:
        if (c == '\r')
          state_ = State::final_lf;
        else if (c == '\n' || c == '\0' || c == ' ' || c == '\t')
          return false;
        else
          state_ = State::trailer_line;
        break;
      case State::trailer_line:
        if (c == '\r')
          state_ = State::trailer_lf;
        else if (c == '\n' || c == '\0')
          return false;
        break;
      case State::trailer_lf:
        if (c != '\n') return false;
        state_ = State::trailer_start;
        break;
      case State::final_lf:
        if (c != '\n') return false;
        state_ = State::done;
        break;
      case State::done:
        return false;
    }
  }
  return true;
}

}  // namespace leakguard
