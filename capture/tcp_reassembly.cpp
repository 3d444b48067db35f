#include "capture/tcp_reassembly.hpp"

#include <algorithm>

namespace leakguard {
namespace {

// Bytes of `a` and `b` (same length) that differ.
std::uint64_t differing(std::string_view a, std::string_view b) {
  std::uint64_t count = 0;
  for (std::size_t i = 0; i < a.size(); ++i) count += a[i] != b[i];
  return count;
}

}  // namespace

TcpReassembler::~TcpReassembler() { drop_held(); }

std::int64_t TcpReassembler::offset_of(std::uint32_t seq) const {
  // The 32-bit distance from the next expected sequence number, read as signed, places `seq` in
  // the 64-bit stream: wraps never need counting, and a stream may run past 4 GiB.
  const auto expected = static_cast<std::uint32_t>(isn_ + static_cast<std::uint32_t>(next_));
  return static_cast<std::int64_t>(next_) + static_cast<std::int32_t>(seq - expected);
}

void TcpReassembler::syn(std::uint32_t seq) {
  if (started_) return;  // a retransmitted SYN, or one after data (ignored: the data set the start)
  started_ = true;
  isn_ = seq + 1;
}

void TcpReassembler::segment(std::uint32_t seq, std::string_view payload, bool fin, std::int64_t time_ms) {
  if (!started_) {
    started_ = true;
    isn_ = seq;  // capture started mid-stream: the first byte seen is offset 0
  }
  std::int64_t start = offset_of(seq);
  if (fin && !fin_known_ && start + static_cast<std::int64_t>(payload.size()) >= static_cast<std::int64_t>(next_)) {
    fin_known_ = true;
    fin_offset_ = static_cast<std::uint64_t>(start) + payload.size();
  }
  if (payload.empty()) return;
  const std::int64_t end = start + static_cast<std::int64_t>(payload.size());
  const auto next = static_cast<std::int64_t>(next_);
  if (end <= next) {  // all delivered already: a retransmission
    stats_.retransmitted += payload.size();
    return;
  }
  if (start < next) {
    stats_.retransmitted += static_cast<std::uint64_t>(next - start);
    payload.remove_prefix(static_cast<std::size_t>(next - start));
    start = next;
  }
  insert(static_cast<std::uint64_t>(start), payload, time_ms);
}

void TcpReassembler::insert(std::uint64_t start, std::string_view bytes, std::int64_t time_ms) {
  // What overlaps a held segment is dropped (the first copy wins) and its differences counted.
  auto it = held_.upper_bound(start);
  if (it != held_.begin()) {
    const auto& [prev_start, prev] = *std::prev(it);
    const std::uint64_t prev_end = prev_start + prev.bytes.size();
    if (prev_end > start) {
      const std::size_t overlap = static_cast<std::size_t>(std::min<std::uint64_t>(prev_end - start, bytes.size()));
      stats_.retransmitted += overlap;
      stats_.inconsistent += differing(std::string_view(prev.bytes).substr(start - prev_start, overlap),
                                       bytes.substr(0, overlap));
      bytes.remove_prefix(overlap);
      start += overlap;
    }
  }
  while (!bytes.empty()) {
    it = held_.lower_bound(start);
    const std::uint64_t free_end = it == held_.end() ? start + bytes.size() : std::min(it->first, start + bytes.size());
    std::string_view piece = bytes.substr(0, static_cast<std::size_t>(free_end - start));
    bytes.remove_prefix(piece.size());
    if (!piece.empty()) {
      if (start == next_) {
        sink_->on_data(piece, time_ms);
        stats_.delivered += piece.size();
        next_ += piece.size();
      } else {
        // Over a budget, waiting for the hole is given up: it becomes a gap, and what is held
        // behind it goes to the sink, until the new piece fits (or is itself next).
        auto over = [&] {
          return buffered_ + piece.size() > max_buffered_ || budget_->used + piece.size() > budget_->limit;
        };
        while (over() && !held_.empty() && held_.begin()->first < start) {
          skip_to(held_.begin()->first, time_ms);
          deliver_held();
        }
        if (over() && next_ < start) skip_to(start, time_ms);
        if (start == next_) {
          sink_->on_data(piece, time_ms);
          stats_.delivered += piece.size();
          next_ += piece.size();
        } else {
          held_.emplace(start, Held{std::string(piece), time_ms});
          buffered_ += piece.size();
          budget_->used += piece.size();
        }
      }
      start += piece.size();
    }
    if (bytes.empty()) break;
    it = held_.find(start);
    if (it == held_.end()) continue;  // delivered meanwhile
    const std::size_t overlap = std::min(it->second.bytes.size(), bytes.size());
    stats_.retransmitted += overlap;
    stats_.inconsistent += differing(std::string_view(it->second.bytes).substr(0, overlap), bytes.substr(0, overlap));
    bytes.remove_prefix(overlap);
    start += overlap;
  }
  deliver_held();
}

void TcpReassembler::deliver_held() {
  while (!held_.empty() && held_.begin()->first <= next_) {
    auto node = held_.extract(held_.begin());
    const std::uint64_t start = node.key();
    const std::string& bytes = node.mapped().bytes;
    buffered_ -= bytes.size();
    budget_->used -= bytes.size();
    if (start + bytes.size() <= next_) {
      stats_.retransmitted += bytes.size();
      continue;
    }
    const std::string_view tail = std::string_view(bytes).substr(static_cast<std::size_t>(next_ - start));
    stats_.retransmitted += bytes.size() - tail.size();
    sink_->on_data(tail, node.mapped().time_ms);
    stats_.delivered += tail.size();
    next_ += tail.size();
  }
}

void TcpReassembler::skip_to(std::uint64_t offset, std::int64_t time_ms) {
  if (offset <= next_) return;
  const std::uint64_t missing = offset - next_;
  ++stats_.gaps;
  stats_.gap_bytes += missing;
  next_ = offset;
  sink_->on_gap(missing, time_ms);
}

void TcpReassembler::peer_ack(std::uint32_t ack, std::int64_t time_ms) {
  if (!started_) return;
  std::int64_t acked = offset_of(ack);
  if (fin_known_) acked = std::min(acked, static_cast<std::int64_t>(fin_offset_));  // the FIN's own number
  // An acknowledgement a gigabyte ahead is no hole we missed but a broken or crafted packet.
  if (acked - static_cast<std::int64_t>(next_) > (std::int64_t{1} << 30)) return;
  while (acked > static_cast<std::int64_t>(next_)) {
    const auto limit = static_cast<std::uint64_t>(acked);
    skip_to(held_.empty() ? limit : std::min(limit, held_.begin()->first), time_ms);
    deliver_held();
  }
}

void TcpReassembler::finish(std::int64_t time_ms) {
  while (!held_.empty()) {
    skip_to(held_.begin()->first, time_ms);
    deliver_held();
  }
  if (fin_known_) skip_to(fin_offset_, time_ms);
}

void TcpReassembler::drop_held() {
  for (const auto& [start, held] : held_) budget_->used -= held.bytes.size();
  held_.clear();
  buffered_ = 0;
}

}  // namespace leakguard
