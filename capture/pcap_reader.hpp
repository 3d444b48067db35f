// Packets out of a pcap or pcapng file, read by libpcap one at a time (memory does not grow with
// the file). A file that was not seekable (standard input) and whose first bytes were already read
// to tell its format is given those bytes back. Errors say what and where: packet number and the
// byte offset of the record that could not be read.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "capture/packet_decode.hpp"

struct pcap;  // libpcap's pcap_t, kept out of this header

namespace leakguard {

struct CapturedFrame {
  std::span<const std::uint8_t> bytes;  // valid until the next call to next()
  std::int64_t time_ms = 0;             // capture time, milliseconds since the epoch
};

class PcapReader {
 public:
  enum class Status { frame, end, error };

  // `file` stays the caller's (it is not closed). `already_read` holds the bytes read from it so
  // far; a regular file is mapped and read from its start instead. Null and `error` set on failure.
  static std::unique_ptr<PcapReader> open(std::FILE* file, std::string_view already_read, std::string& error);
  ~PcapReader();
  PcapReader(const PcapReader&) = delete;
  PcapReader& operator=(const PcapReader&) = delete;

  Status next(CapturedFrame& frame);
  LinkType link() const { return link_; }
  std::uint64_t frames() const { return frames_; }
  std::uint64_t offset() const;  // bytes of the file read so far
  const std::string& error() const { return error_; }

  struct Source;  // where libpcap's reads come from (the mapped file, or a replay of a pipe)

 private:
  PcapReader() = default;
  ::pcap* handle_ = nullptr;
  std::unique_ptr<Source> source_;
  LinkType link_ = LinkType::ethernet;
  std::uint64_t frames_ = 0;
  std::uint64_t record_offset_ = 0;  // where the record after the last good one begins
  std::string error_;
};

}  // namespace leakguard
