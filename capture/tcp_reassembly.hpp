// One direction of a TCP connection put back in order from captured segments, as zeek's and
// suricata's reassemblers do it: sequence numbers mapped to a 64-bit offset from the stream's
// start, segments ahead of a hole held until it closes, retransmissions dropped, overlaps with
// different bytes counted, and a hole declared a gap once the peer acknowledged past it or the
// stream ends. No packet format here: it is fed sequence numbers and payloads (and is fuzzed).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace leakguard {

// Where the stream's bytes go, in order.
class TcpStreamSink {
 public:
  virtual ~TcpStreamSink() = default;
  virtual void on_data(std::string_view bytes, std::int64_t time_ms) = 0;
  // `missing` bytes were never captured; data resumes after them.
  virtual void on_gap(std::uint64_t missing, std::int64_t time_ms) = 0;
};

// Bytes held ahead of holes, shared by every stream of a capture (a global cap next to each
// stream's own).
struct ReassemblyBudget {
  std::uint64_t limit = 256ull << 20;
  std::uint64_t used = 0;
};

struct TcpStreamStats {
  std::uint64_t delivered = 0;        // bytes passed to the sink
  std::uint64_t retransmitted = 0;    // bytes seen again (dropped)
  std::uint64_t inconsistent = 0;     // of those, bytes that differed from the first copy
  std::uint64_t gaps = 0;
  std::uint64_t gap_bytes = 0;
};

class TcpReassembler {
 public:
  TcpReassembler(TcpStreamSink& sink, ReassemblyBudget& budget, std::uint64_t max_buffered)
      : sink_(&sink), budget_(&budget), max_buffered_(max_buffered) {}
  ~TcpReassembler();
  TcpReassembler(const TcpReassembler&) = delete;
  TcpReassembler& operator=(const TcpReassembler&) = delete;

  // The sender's SYN: the stream's first byte is `seq + 1`.
  void syn(std::uint32_t seq);
  // A segment from the sender. Without a SYN the first segment seen starts the stream.
  void segment(std::uint32_t seq, std::string_view payload, bool fin, std::int64_t time_ms);
  // The peer acknowledged everything before `ack`: a hole below it was sent and received but not
  // captured, so it becomes a gap and what is held after it is delivered.
  void peer_ack(std::uint32_t ack, std::int64_t time_ms);
  // End of the stream (FIN or RST handled, capture over): every hole left is a gap, held data is
  // delivered, and a FIN beyond the delivered bytes means the bytes before it are a gap too.
  void finish(std::int64_t time_ms);

  bool started() const { return started_; }
  bool fin_reached() const { return fin_known_ && next_ >= fin_offset_; }
  std::uint64_t buffered() const { return buffered_; }
  const TcpStreamStats& stats() const { return stats_; }

 private:
  struct Held {
    std::string bytes;
    std::int64_t time_ms;
  };
  std::int64_t offset_of(std::uint32_t seq) const;  // relative to the stream start; near next_
  void insert(std::uint64_t start, std::string_view bytes, std::int64_t time_ms);
  void deliver_held();
  void skip_to(std::uint64_t offset, std::int64_t time_ms);  // declares [next_, offset) a gap
  void drop_held();

  TcpStreamSink* sink_;
  ReassemblyBudget* budget_;
  std::uint64_t max_buffered_;
  bool started_ = false;
  std::uint32_t isn_ = 0;      // sequence number of stream offset 0
  std::uint64_t next_ = 0;     // offset of the next byte to deliver
  bool fin_known_ = false;
  std::uint64_t fin_offset_ = 0;
  std::map<std::uint64_t, Held> held_;  // out of order, non-overlapping, all above next_
  std::uint64_t buffered_ = 0;
  TcpStreamStats stats_;
};

}  // namespace leakguard
