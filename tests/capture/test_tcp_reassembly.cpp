#include <doctest/doctest.h>

#include <deque>
#include <string>
#include <vector>

#include "capture/tcp_flows.hpp"
#include "capture/tcp_reassembly.hpp"

using namespace leakguard;

namespace {

// What a sink was given, gaps written as [gap N].
struct Recorder : TcpFlowSink {
  std::string text;
  bool closed = false;
  void on_data(std::string_view bytes, std::int64_t) override { text.append(bytes); }
  void on_gap(std::uint64_t missing, std::int64_t) override { text += "[gap " + std::to_string(missing) + "]"; }
  void on_close(const TcpStreamStats&) override { closed = true; }
};

struct Stream {
  Recorder sink;
  ReassemblyBudget budget;
  TcpReassembler reassembler;
  explicit Stream(std::uint64_t max_held = 1 << 20) : reassembler(sink, budget, max_held) {}
  void send(std::uint32_t seq, std::string_view bytes, bool fin = false) { reassembler.segment(seq, bytes, fin, 0); }
};

}  // namespace

TEST_CASE("segments in order are delivered as they come, after the SYN") {
  Stream s;
  s.reassembler.syn(1000);
  s.send(1001, "GET / ");
  s.send(1007, "HTTP/1.1");
  CHECK(s.sink.text == "GET / HTTP/1.1");
  CHECK(s.reassembler.stats().delivered == 14);
}

TEST_CASE("a segment ahead of a hole waits for the hole to close") {
  Stream s;
  s.reassembler.syn(0);
  s.send(1, "abc");
  s.send(7, "ghi");
  CHECK(s.sink.text == "abc");
  CHECK(s.reassembler.buffered() == 3);
  s.send(4, "def");
  CHECK(s.sink.text == "abcdefghi");
  CHECK(s.reassembler.buffered() == 0);
  CHECK(s.budget.used == 0);
}

TEST_CASE("retransmissions are dropped; overlaps that differ are counted") {
  Stream s;
  s.reassembler.syn(0);
  s.send(1, "abcd");
  s.send(1, "abcd");  // exact duplicate
  s.send(3, "cdef");  // overlaps two delivered bytes
  CHECK(s.sink.text == "abcdef");
  CHECK(s.reassembler.stats().retransmitted == 6);
  CHECK(s.reassembler.stats().inconsistent == 0);

  s.send(11, "klmn");  // held
  s.send(9, "ijXX");   // "kl" overlaps the held "kl" with other bytes: the first copy wins
  CHECK(s.reassembler.stats().inconsistent == 2);
  s.send(7, "gh");
  CHECK(s.sink.text == "abcdefghijklmn");
}

TEST_CASE("the peer acknowledging past a hole makes it a gap of the missing bytes") {
  Stream s;
  s.reassembler.syn(0);
  s.send(1, "abc");
  s.send(8, "hij");                   // 4 bytes (4..7) never captured
  s.reassembler.peer_ack(11, 0);      // the receiver had them all
  CHECK(s.sink.text == "abc[gap 4]hij");
  CHECK(s.reassembler.stats().gaps == 1);
  CHECK(s.reassembler.stats().gap_bytes == 4);
  s.send(4, "defg");  // a late copy of the lost bytes is now old data
  CHECK(s.sink.text == "abc[gap 4]hij");
}

TEST_CASE("an acknowledgement for bytes seen does not declare anything") {
  Stream s;
  s.reassembler.syn(0);
  s.send(1, "abc");
  s.reassembler.peer_ack(4, 0);
  s.reassembler.peer_ack(2, 0);  // an old ACK
  CHECK(s.sink.text == "abc");
  CHECK(s.reassembler.stats().gaps == 0);
}

TEST_CASE("at the end, held data follows a gap, and a FIN beyond the data means a lost tail") {
  Stream held;
  held.reassembler.syn(0);
  held.send(1, "ab");
  held.send(5, "ef");
  held.reassembler.finish(0);
  CHECK(held.sink.text == "ab[gap 2]ef");

  Stream tail;
  tail.reassembler.syn(0);
  tail.send(1, "ab");
  tail.send(9, "", true);  // FIN at offset 8: bytes 2..7 were sent but not captured
  tail.reassembler.finish(0);
  CHECK(tail.sink.text == "ab[gap 6]");
}

TEST_CASE("sequence numbers wrap around 2^32 without a hiccup") {
  Stream s;
  s.reassembler.syn(0xfffffffc);
  s.send(0xfffffffd, "abc");
  s.send(0x00000003, "ghi");  // after the wrap, ahead of a hole
  s.send(0x00000000, "def");
  CHECK(s.sink.text == "abcdefghi");
  s.reassembler.peer_ack(0x00000006, 0);
  CHECK(s.reassembler.stats().gaps == 0);
}

TEST_CASE("without a SYN the first segment seen starts the stream") {
  Stream s;
  s.send(5000, "mid-");
  s.send(5004, "flow");
  CHECK(s.sink.text == "mid-flow");
}

TEST_CASE("more held data than the stream's budget gives up on the hole") {
  Stream s(8);
  s.reassembler.syn(0);
  s.send(1, "a");
  s.send(3, "cdef");
  s.send(7, "ghij");  // 8 held bytes would exceed nothing yet; the next one does
  CHECK(s.sink.text == "a");
  s.send(11, "klmn");
  CHECK(s.sink.text == "a[gap 1]cdefghijklmn");
  CHECK(s.budget.used == 0);
}

TEST_CASE("the shared budget is given back when a stream is destroyed") {
  Recorder sink;
  ReassemblyBudget budget;
  {
    TcpReassembler r(sink, budget, 1 << 20);
    r.syn(0);
    r.segment(100, "held", false, 0);
    CHECK(budget.used == 4);
  }
  CHECK(budget.used == 0);
}

namespace {

DecodedPacket tcp(std::uint8_t from, std::uint16_t sport, std::uint8_t to, std::uint16_t dport, std::uint8_t flags,
                  std::uint32_t seq, std::uint32_t ack, std::string_view payload = {}) {
  DecodedPacket p;
  p.kind = DecodedPacket::Kind::tcp;
  p.src.bytes = {10, 0, 0, from};
  p.dst.bytes = {10, 0, 0, to};
  p.src_port = sport;
  p.dst_port = dport;
  p.tcp_flags = flags;
  p.seq = seq;
  p.ack = ack;
  p.payload = payload;
  return p;
}

// Flow sinks are destroyed when their flow ends: what they saw is kept here.
struct Handler : TcpFlowHandler {
  struct Seen {
    std::string text;
    bool closed = false;
  };
  struct Sink : TcpFlowSink {
    Seen* seen;
    explicit Sink(Seen* s) : seen(s) {}
    void on_data(std::string_view bytes, std::int64_t) override { seen->text.append(bytes); }
    void on_gap(std::uint64_t missing, std::int64_t) override { seen->text += "[gap " + std::to_string(missing) + "]"; }
    void on_close(const TcpStreamStats&) override { seen->closed = true; }
  };
  std::vector<TcpFlowInfo> opened;
  std::deque<Seen> sinks;
  std::unique_ptr<TcpFlowSink> open_flow(const TcpFlowInfo& info) override {
    opened.push_back(info);
    return std::make_unique<Sink>(&sinks.emplace_back());
  }
};

constexpr std::uint8_t syn = tcp_flag::syn, ack = tcp_flag::ack, fin = tcp_flag::fin, rst = tcp_flag::rst;

}  // namespace

TEST_CASE("a handshake names the client; data from the server is not the client stream; FINs end the flow") {
  Handler handler;
  TcpFlowTable table(handler, {});
  table.packet(tcp(2, 40000, 9, 80, syn, 100, 0), 0);
  table.packet(tcp(9, 80, 2, 40000, syn | ack, 700, 101), 0);
  table.packet(tcp(2, 40000, 9, 80, ack, 101, 701, "GET /"), 0);
  table.packet(tcp(9, 80, 2, 40000, ack, 701, 106, "HTTP/1.1 200"), 0);
  REQUIRE(handler.opened.size() == 1);
  CHECK(handler.opened[0].client.port == 40000);
  CHECK(handler.opened[0].saw_syn);
  const Handler::Seen& sink = handler.sinks[0];
  CHECK(sink.text == "GET /");
  table.packet(tcp(2, 40000, 9, 80, fin | ack, 106, 713), 0);
  CHECK(table.open_flows() == 1);
  table.packet(tcp(9, 80, 2, 40000, fin | ack, 713, 107), 0);
  CHECK(table.open_flows() == 0);
  CHECK(table.stats().gaps == 0);
}

TEST_CASE("without a SYN, a request names its sender the client even on the higher port") {
  Handler handler;
  TcpFlowTable table(handler, {});
  table.packet(tcp(9, 8080, 2, 80, ack, 5, 9, "POST /x HTTP/1.1\r\n"), 0);
  REQUIRE(handler.opened.size() == 1);
  CHECK(handler.opened[0].client.port == 8080);
  CHECK_FALSE(handler.opened[0].saw_syn);
  // Opaque bytes: the end on the lower port is taken as the server.
  table.packet(tcp(9, 443, 2, 51000, ack, 5, 9, "\x17\x03\x03"), 0);
  REQUIRE(handler.opened.size() == 2);
  CHECK(handler.opened[1].client.port == 51000);
  CHECK(handler.sinks[1].text.empty());  // the server's bytes are not the client stream
  CHECK(table.stats().guessed_clients == 2);
}

TEST_CASE("a lone ACK or RST opens no flow; RST ends one; a full table ends its least recent flow") {
  Handler handler;
  TcpFlowLimits limits;
  limits.max_flows = 2;
  TcpFlowTable table(handler, limits);
  table.packet(tcp(2, 1000, 9, 80, ack, 1, 1), 0);
  table.packet(tcp(2, 1000, 9, 80, rst, 1, 1), 0);
  CHECK(handler.opened.empty());
  table.packet(tcp(2, 1001, 9, 80, syn, 1, 0), 0);
  table.packet(tcp(2, 1002, 9, 80, syn, 1, 0), 0);
  table.packet(tcp(2, 1001, 9, 80, ack, 2, 1, "x"), 0);  // 1001 is now the more recent
  table.packet(tcp(2, 1003, 9, 80, syn, 1, 0), 0);       // evicts 1002
  CHECK(table.stats().evicted == 1);
  CHECK(handler.sinks[1].closed);
  CHECK_FALSE(handler.sinks[0].closed);
  table.packet(tcp(9, 80, 2, 1001, rst, 1, 0), 0);
  CHECK(handler.sinks[0].closed);
  CHECK(table.open_flows() == 1);
  table.close_all(0);
  CHECK(table.open_flows() == 0);
}

TEST_CASE("a SYN on the addresses of a flow that carried data starts a new flow") {
  Handler handler;
  TcpFlowTable table(handler, {});
  table.packet(tcp(2, 40000, 9, 80, syn, 100, 0), 0);
  table.packet(tcp(2, 40000, 9, 80, ack, 101, 1, "old"), 0);
  table.packet(tcp(2, 40000, 9, 80, syn, 100, 0), 0);  // a retransmitted SYN would carry no news...
  CHECK(handler.opened.size() == 2);                    // ...but this flow had data: a new one
  CHECK(handler.sinks[0].closed);
  table.packet(tcp(2, 40000, 9, 80, ack, 101, 1, "new"), 0);
  CHECK(handler.sinks[1].text == "new");
  table.packet(tcp(2, 40001, 9, 80, syn, 7, 0), 0);
  table.packet(tcp(2, 40001, 9, 80, syn, 7, 0), 0);  // retransmitted before any data: the same flow
  CHECK(handler.opened.size() == 3);
}
