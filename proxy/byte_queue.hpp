// Bytes waiting to be sent on an HTTP/2 stream: appended at the back, taken from the front in
// frame-sized pieces. Taking moves a read offset instead of the rest of the bytes (with
// std::string::erase(0, n) a 256 KiB window taken 16 KiB at a time moved about 2 MiB).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace leakguard {

class ByteQueue {
 public:
  void append(std::string_view bytes) {
    // The sent front is dropped when it is most of the storage: each byte moves at most once more.
    if (read_ > 0 && read_ >= data_.size() / 2) {
      data_.erase(0, read_);
      read_ = 0;
    }
    data_.append(bytes);
  }
  // Copies up to `length` bytes from the front into `out`; returns how many.
  std::size_t take(std::uint8_t* out, std::size_t length) {
    const std::size_t n = std::min(length, size());
    std::memcpy(out, data_.data() + read_, n);
    read_ += n;
    if (read_ == data_.size()) clear();
    return n;
  }
  void assign(std::string bytes) {
    data_ = std::move(bytes);
    read_ = 0;
  }
  void clear() {
    data_.clear();
    read_ = 0;
  }
  std::size_t size() const { return data_.size() - read_; }
  bool empty() const { return size() == 0; }
  std::string_view view() const { return std::string_view(data_).substr(read_); }

 private:
  std::string data_;
  std::size_t read_ = 0;
};

}  // namespace leakguard
