// The TCP connections of a capture: a table keyed by the address and port pair, bounded in size,
// that decides which side is the client, reassembles the client-to-server direction
// (capture/tcp_reassembly.hpp) with the server's acknowledgements telling about holes, and ends a
// flow at RST, at FIN from both sides, when it is evicted or when the capture ends.
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <unordered_map>

#include "capture/packet_decode.hpp"
#include "capture/tcp_reassembly.hpp"

namespace leakguard {

struct FlowEndpoint {
  PacketAddress address;
  std::uint16_t port = 0;
  bool operator==(const FlowEndpoint&) const = default;
};

struct TcpFlowInfo {
  FlowEndpoint client, server;
  std::optional<std::array<std::uint8_t, 6>> client_mac;  // from the packet that opened the flow
  bool saw_syn = false;  // false: the capture began mid-connection and the client was guessed
};

// The client-to-server bytes of one flow, in order.
class TcpFlowSink : public TcpStreamSink {
 public:
  // The flow ended (after the last on_data/on_gap); the sink is destroyed right after.
  virtual void on_close(const TcpStreamStats& stats) = 0;
};

class TcpFlowHandler {
 public:
  virtual ~TcpFlowHandler() = default;
  virtual std::unique_ptr<TcpFlowSink> open_flow(const TcpFlowInfo& info) = 0;
};

struct TcpFlowLimits {
  std::size_t max_flows = 65536;                  // the least recently active flow is ended beyond it
  std::uint64_t max_held_per_flow = 4ull << 20;   // bytes held ahead of a hole, per flow
  std::uint64_t max_held_total = 256ull << 20;    // and for the whole capture
};

struct TcpFlowStats {
  std::uint64_t flows = 0;
  std::uint64_t guessed_clients = 0;  // flows without a SYN seen
  std::uint64_t evicted = 0;
  std::uint64_t retransmitted_bytes = 0;
  std::uint64_t inconsistent_bytes = 0;  // retransmitted bytes that differed from the first copy
  std::uint64_t gaps = 0;
  std::uint64_t gap_bytes = 0;
};

class TcpFlowTable {
 public:
  TcpFlowTable(TcpFlowHandler& handler, TcpFlowLimits limits);
  ~TcpFlowTable();
  TcpFlowTable(const TcpFlowTable&) = delete;
  TcpFlowTable& operator=(const TcpFlowTable&) = delete;

  // A decoded TCP packet (kind tcp) and its capture time.
  void packet(const DecodedPacket& packet, std::int64_t time_ms);
  // The capture is over: every open flow ends.
  void close_all(std::int64_t time_ms);

  std::size_t open_flows() const { return flows_.size(); }
  const TcpFlowStats& stats() const { return stats_; }

 private:
  struct Key {
    FlowEndpoint low, high;  // ordered, so both directions find the same flow
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& key) const;
  };
  struct Flow;
  using FlowMap = std::unordered_map<Key, std::unique_ptr<Flow>, KeyHash>;

  Flow* open(const Key& key, const DecodedPacket& packet, std::int64_t time_ms);
  void close(FlowMap::iterator it, std::int64_t time_ms);

  TcpFlowHandler& handler_;
  TcpFlowLimits limits_;
  ReassemblyBudget budget_;
  FlowMap flows_;
  std::list<Flow*> recent_;  // most recently active first
  TcpFlowStats stats_;
};

}  // namespace leakguard
