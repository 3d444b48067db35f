#include "capture/tcp_flows.hpp"

#include <cstring>
#include <string_view>

#include "proxy/http_codec.hpp"

namespace leakguard {

struct TcpFlowTable::Flow {
  Key key;
  FlowEndpoint client, server;
  std::unique_ptr<TcpFlowSink> sink;          // declared before the reassembler that feeds it
  std::optional<TcpReassembler> to_server;
  bool client_fin = false, server_fin = false;
  std::list<Flow*>::iterator recent;
};

namespace {

bool ordered(const FlowEndpoint& a, const FlowEndpoint& b) {
  const int order = std::memcmp(a.address.bytes.data(), b.address.bytes.data(), a.address.bytes.size());
  return order != 0 ? order < 0 : a.port <= b.port;
}

// Which end of a connection whose SYN was not captured is the client, from its first packet:
// a request (HTTP method, TLS handshake record) is sent by the client and an HTTP status line by
// the server; otherwise the end on the lower port is taken as the server (services listen on low
// or registered ports, clients get ephemeral ones), and on equal ports the sender is the client.
bool sender_is_client(const DecodedPacket& packet) {
  const std::string_view payload = packet.payload;
  if (!payload.empty()) {
    if (looks_like_http_request(payload.substr(0, 8))) return true;
    if (payload.size() >= 2 && payload[0] == 0x16 && payload[1] == 0x03) return true;
    if (payload.starts_with("HTTP/1.")) return false;
  }
  return packet.src_port >= packet.dst_port;
}

}  // namespace

std::size_t TcpFlowTable::KeyHash::operator()(const Key& key) const {
  // Both endpoints' address words and the ports, mixed by multiplication (once per packet: FNV over
  // the bytes showed in profiles).
  std::uint64_t words[5];
  std::memcpy(words, key.low.address.bytes.data(), 16);
  std::memcpy(&words[2], key.high.address.bytes.data(), 16);
  words[4] = std::uint64_t{key.low.port} << 16 | key.high.port;
  std::uint64_t hash = 0x9e3779b97f4a7c15ull;
  for (const std::uint64_t word : words) hash = (hash ^ word) * 0xff51afd7ed558ccdull;
  return static_cast<std::size_t>(hash ^ hash >> 32);
}

TcpFlowTable::TcpFlowTable(TcpFlowHandler& handler, TcpFlowLimits limits) : handler_(handler), limits_(limits) {
  budget_.limit = limits_.max_held_total;
}

TcpFlowTable::~TcpFlowTable() = default;

void TcpFlowTable::packet(const DecodedPacket& packet, std::int64_t time_ms) {
  const FlowEndpoint src{packet.src, packet.src_port}, dst{packet.dst, packet.dst_port};
  const Key key = ordered(src, dst) ? Key{src, dst} : Key{dst, src};
  const bool syn = packet.tcp_flags & tcp_flag::syn, ack = packet.tcp_flags & tcp_flag::ack;
  const bool fin = packet.tcp_flags & tcp_flag::fin, rst = packet.tcp_flags & tcp_flag::rst;
  auto it = flows_.find(key);
  Flow* flow = nullptr;
  if (it != flows_.end() && syn && !ack && src == it->second->client &&
      (it->second->to_server->stats().delivered > 0 || it->second->client_fin || it->second->server_fin)) {
    // A new connection on the same addresses and ports (the old one's end was not captured).
    close(it, time_ms);
    it = flows_.end();
  }
  if (it != flows_.end()) {
    flow = it->second.get();
    if (flow->recent != recent_.begin()) recent_.splice(recent_.begin(), recent_, flow->recent);
  } else {
    // Only a SYN or data starts a flow: a lone ACK, FIN or RST is the tail of one already ended
    // (or begun before the capture with nothing left to read).
    if (rst || (!syn && packet.payload.empty())) return;
    flow = open(key, packet, time_ms);
    it = flows_.find(key);
  }
  if (src == flow->client) {
    if (syn && !ack) flow->to_server->syn(packet.seq);
    if (!packet.payload.empty() || fin) flow->to_server->segment(packet.seq, packet.payload, fin, time_ms);
    flow->client_fin = flow->client_fin || fin;
  } else {
    // The server's SYN-ACK acknowledges the client's SYN: the client stream starts there even
    // when the SYN itself was not captured.
    if (syn && ack) flow->to_server->syn(packet.ack - 1);
    if (ack) flow->to_server->peer_ack(packet.ack, time_ms);
    flow->server_fin = flow->server_fin || fin;
  }
  if (rst || (flow->client_fin && flow->server_fin)) close(it, time_ms);
}

TcpFlowTable::Flow* TcpFlowTable::open(const Key& key, const DecodedPacket& packet, std::int64_t time_ms) {
  if (flows_.size() >= limits_.max_flows && !recent_.empty()) {
    ++stats_.evicted;
    close(flows_.find(recent_.back()->key), time_ms);
  }
  const FlowEndpoint src{packet.src, packet.src_port}, dst{packet.dst, packet.dst_port};
  const bool syn = packet.tcp_flags & tcp_flag::syn, ack = packet.tcp_flags & tcp_flag::ack;
  const bool client_sends = syn ? !ack : sender_is_client(packet);
  auto flow = std::make_unique<Flow>();
  flow->key = key;
  flow->client = client_sends ? src : dst;
  flow->server = client_sends ? dst : src;
  TcpFlowInfo info{flow->client, flow->server, std::nullopt, syn};
  info.client_mac = client_sends ? packet.src_mac : packet.dst_mac;
  flow->sink = handler_.open_flow(info);
  flow->to_server.emplace(*flow->sink, budget_, limits_.max_held_per_flow);
  recent_.push_front(flow.get());
  flow->recent = recent_.begin();
  ++stats_.flows;
  if (!syn) ++stats_.guessed_clients;
  Flow* raw = flow.get();
  flows_.emplace(key, std::move(flow));
  return raw;
}

void TcpFlowTable::close(FlowMap::iterator it, std::int64_t time_ms) {
  Flow& flow = *it->second;
  flow.to_server->finish(time_ms);
  const TcpStreamStats& stream = flow.to_server->stats();
  stats_.retransmitted_bytes += stream.retransmitted;
  stats_.inconsistent_bytes += stream.inconsistent;
  stats_.gaps += stream.gaps;
  stats_.gap_bytes += stream.gap_bytes;
  flow.sink->on_close(stream);
  recent_.erase(flow.recent);
  flows_.erase(it);
}

void TcpFlowTable::close_all(std::int64_t time_ms) {
  // Oldest first, so that findings come out roughly in the order the flows began.
  while (!recent_.empty()) close(flows_.find(recent_.back()->key), time_ms);
}

}  // namespace leakguard
