// DNS message parsing and reply building (proxy/dns_message.*), messages per second, with ldns's
// own wire2pkt alone as the yardstick for what the wrapper adds. Figures: bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "proxy/dns_message.hpp"
#include "tests/support/dns_wire.hpp"

// ldns's common.h turns bool, true and false into macros unless stdbool.h came first.
#include <stdbool.h>
#include <ldns/ldns.h>

namespace {

using namespace leakguard::test;
using Bytes = DnsBytes;

// A phone's query (with an EDNS OPT record, as Android sends) and a CDN-style answer: CNAME, CNAME,
// two A and two AAAA, names compressed against the question.
Bytes query() {
  auto out = dns_header(0x1234, 0x0100, 1, 0, 1);
  put_question(out, "connectivitycheck.gstatic.com", 1);
  out.push_back(0);
  for (unsigned v : {41u, 1232u, 0u, 0u, 0u}) put16(out, v);
  return out;
}
Bytes response() {
  auto out = dns_header(0x1234, 0x8180, 1, 6);
  put_question(out, "connectivitycheck.gstatic.com", 1);
  const auto record = [&](const Bytes& owner, unsigned type, const Bytes& rdata) { put_record(out, owner, type, 300, rdata); };
  const Bytes question_name{0xC0, 12};
  const Bytes edge = name_bytes("edge.cdn.example.net");
  const Bytes node = name_bytes("node7.cdn.example.net");
  record(question_name, 5, edge);
  record(edge, 5, node);
  record(node, 1, {203, 0, 113, 7});
  record(node, 1, {203, 0, 113, 8});
  record(node, 28, Bytes{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7});
  record(node, 28, Bytes{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8});
  return out;
}

void ParseQuery(benchmark::State& state) {
  const auto wire = query();
  for (auto _ : state) benchmark::DoNotOptimize(leakguard::parse_dns_message(wire));
  state.SetItemsProcessed(state.iterations());
}
void ParseResponseAndResolve(benchmark::State& state) {
  const auto wire = response();
  for (auto _ : state) {
    const auto message = leakguard::parse_dns_message(wire);
    benchmark::DoNotOptimize(message->resolved());
  }
  state.SetItemsProcessed(state.iterations());
}
void BuildNxdomain(benchmark::State& state) {
  const auto wire = query();
  for (auto _ : state) benchmark::DoNotOptimize(leakguard::build_dns_error_reply(wire, leakguard::dns_rcode::nxdomain));
  state.SetItemsProcessed(state.iterations());
}
// The yardstick: ldns alone, no copy into our value type.
void LdnsWire2PktResponse(benchmark::State& state) {
  const auto wire = response();
  for (auto _ : state) {
    ldns_pkt* packet = nullptr;
    benchmark::DoNotOptimize(ldns_wire2pkt(&packet, wire.data(), wire.size()));
    ldns_pkt_free(packet);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(ParseQuery);
BENCHMARK(ParseResponseAndResolve);
BENCHMARK(BuildNxdomain);
BENCHMARK(LdnsWire2PktResponse);
BENCHMARK_MAIN();
