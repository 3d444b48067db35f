#include "app/scan_capture.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <unordered_map>

#include "app/scan_progress.hpp"
#include "app/scan_stream.hpp"
#include "capture/pcap_reader.hpp"
#include "capture/tcp_flows.hpp"
#include "common/asio.hpp"
#include "events/event_log.hpp"
#include "proxy/device_match.hpp"
#include "proxy/dns_message.hpp"
#include "proxy/dns_names.hpp"

namespace leakguard {
namespace {

constexpr std::uint16_t dns_port = 53;

std::string endpoint_text(const FlowEndpoint& end) {
  const std::string address = end.address.to_string();
  return (end.address.v6 ? "[" + address + "]" : address) + ":" + std::to_string(end.port);
}

asio::ip::address to_asio(const PacketAddress& address) {
  if (!address.v6) return asio::ip::address_v4(asio::ip::address_v4::bytes_type{address.bytes[0], address.bytes[1],
                                                                             address.bytes[2], address.bytes[3]});
  return asio::ip::address_v6(address.bytes);
}

class CaptureScan;

// One flow's client-to-server bytes, inspected as they are reassembled.
class FlowScan final : public TcpFlowSink {
 public:
  FlowScan(const Inspector& inspector, const InspectionContext& context, ScanOutput& output, const ScanOrigin& origin,
           BodyBudget& body_budget, std::uint64_t& stopped_http)
      : scanner_(inspector, context, output, &origin, &body_budget), stopped_http_(stopped_http) {}
  void on_data(std::string_view bytes, std::int64_t time_ms) override { scanner_.feed(bytes, time_ms); }
  void on_gap(std::uint64_t missing, std::int64_t time_ms) override { scanner_.gap(missing, time_ms); }
  void on_close(const TcpStreamStats&) override {
    scanner_.finish();
    if (scanner_.left_http()) ++stopped_http_;
  }

 private:
  ClientStreamScanner scanner_;
  std::uint64_t& stopped_http_;
};

// DNS over TCP: two length bytes before each message (RFC 1035 section 4.2.2).
class DnsOverTcp final : public TcpFlowSink {
 public:
  DnsOverTcp(CaptureScan& scan, ScanOrigin origin) : scan_(scan), origin_(std::move(origin)) {}
  void on_data(std::string_view bytes, std::int64_t time_ms) override;
  void on_gap(std::uint64_t, std::int64_t) override { lost_ = true; }  // message boundaries are gone
  void on_close(const TcpStreamStats&) override {}

 private:
  CaptureScan& scan_;
  ScanOrigin origin_;
  std::string pending_;
  bool lost_ = false;
};

class CaptureScan final : public TcpFlowHandler {
 public:
  CaptureScan(const Inspector& inspector, const DeviceProfile* fallback, ScanOutput& output)
      : inspector_(inspector), fallback_(fallback), output_(output) {}

  std::unique_ptr<TcpFlowSink> open_flow(const TcpFlowInfo& info) override {
    ScanOrigin origin = origin_of(info.client, info.server, info.client_mac);
    if (info.server.port == dns_port) return std::make_unique<DnsOverTcp>(*this, std::move(origin));
    return std::make_unique<FlowScan>(inspector_, context_for(origin), output_, origin, body_budget_, stopped_http_);
  }

  void udp(const DecodedPacket& packet, std::int64_t time_ms) {
    // Queries go to port 53, answers come from it; the client is the end that is not port 53.
    const bool query = packet.dst_port == dns_port;
    if (!query && packet.src_port != dns_port) return;
    const FlowEndpoint src{packet.src, packet.src_port}, dst{packet.dst, packet.dst_port};
    ScanOrigin origin = origin_of(query ? src : dst, query ? dst : src, query ? packet.src_mac : packet.dst_mac);
    append_rfc3339(origin.ts, time_ms);
    dns_message(packet.payload, origin, time_ms);
  }

  // Every DNS message of the capture (UDP, or TCP with its length prefix removed), with the flow
  // it belongs to, as the proxy's forwarder sees them: a query's name is judged like a server name
  // (`where: "dns.qname"`, transport `dns`), and an answer's addresses name the client's later
  // flows to them (`dst.host`, `host_source: "dns"`), with the capture's clock for the TTLs.
  void dns_message(std::string_view message, const ScanOrigin& origin, std::int64_t time_ms) {
    ++dns_messages_;
    const auto parsed =
        parse_dns_message(std::span(reinterpret_cast<const std::uint8_t*>(message.data()), message.size()));
    if (!parsed) {
      ++dns_malformed_;
      return;
    }
    if (parsed->is_standard_query()) {
      const DnsQuestion& question = parsed->questions.front();
      InspectionResult result;
      inspector_.inspect_name(question.name, "dns.qname", context_for(origin), result);
      ScanOrigin named = origin;
      named.dst_host = question.name;  // masked by the output where it carries what was found
      named.dst_host_source = "dns";
      output_.report(result, "dns", nullptr, &named);
      return;
    }
    if (!parsed->response || parsed->questions.size() != 1) return;
    const auto now = capture_clock(time_ms);
    for (const auto& answer : parsed->resolved()) {
      error_code ec;
      const auto address = asio::ip::make_address(answer.address, ec);
      if (!ec)
        names_.remember(origin.name_key, address, parsed->questions.front().lower, std::chrono::seconds(answer.ttl), now);
    }
  }

  std::uint64_t dns_messages() const { return dns_messages_; }
  std::uint64_t dns_malformed() const { return dns_malformed_; }
  void set_time(std::int64_t time_ms) { last_time_ms_ = time_ms; }  // the packet being read
  std::uint64_t stopped_http() const { return stopped_http_; }
  std::uint64_t bodies_cut() const { return body_budget_.bodies_cut; }

 private:
  ScanOrigin origin_of(const FlowEndpoint& client, const FlowEndpoint& server,
                       const std::optional<std::array<std::uint8_t, 6>>& client_mac) {
    ScanOrigin origin;
    origin.client = endpoint_text(client);
    origin.dst_ip = server.address.to_string();
    origin.dst_port = server.port;
    const DeviceProfile* device = match_device(inspector_.config(), to_asio(client.address),
                                               [&client_mac]() -> std::optional<MacAddress> {
                                                 if (!client_mac) return std::nullopt;
                                                 return MacAddress{*client_mac};
                                               });
    if (!device) device = fallback_;
    if (device) origin.device = device->name;
    // The proxy's key for a client in the name map: its device profile, else its address.
    origin.name_key = DnsNameMap::client_key(origin.device, to_asio(client.address));
    // Named by the client's DNS answers earlier in the capture; an HTTP Host or a TLS server name
    // in the flow itself replaces it (ClientStreamScanner), as in the proxy.
    if (auto name = names_.lookup(origin.name_key, to_asio(server.address), capture_clock(last_time_ms_))) {
      origin.dst_host = std::move(*name);
      origin.dst_host_source = "dns";
    }
    return origin;
  }

  // A capture's timestamps are whatever its writer put there (a broken one: any 64-bit value), and
  // the clock counts nanoseconds: clamped to years 1970..2255 so neither the conversion nor a TTL
  // added to it can overflow.
  static DnsNameMap::Clock::time_point capture_clock(std::int64_t time_ms) {
    constexpr std::int64_t latest_ms = 9'000'000'000'000;
    return DnsNameMap::Clock::time_point(std::chrono::milliseconds(std::clamp<std::int64_t>(time_ms, 0, latest_ms)));
  }

  InspectionContext context_for(const ScanOrigin& origin) {
    InspectionContext context;
    if (origin.device.empty()) return context;
    context.device = inspector_.device(origin.device);
    context.learned = &learned_[context.device];  // values are learned per device, across its flows
    return context;
  }

  const Inspector& inspector_;
  const DeviceProfile* fallback_;
  ScanOutput& output_;
  std::unordered_map<const DeviceProfile*, LearnedValues> learned_;
  std::uint64_t dns_messages_ = 0;
  std::uint64_t dns_malformed_ = 0;
  DnsNameMap names_;
  std::int64_t last_time_ms_ = 0;
  std::uint64_t stopped_http_ = 0;
  // Request bodies in progress, over all flows: without it a crafted capture of 65,536 flows, each
  // in the middle of a 1 MiB body, would hold 64 GiB. As much as the reassembly may hold.
  BodyBudget body_budget_{256u << 20};
};

void DnsOverTcp::on_data(std::string_view bytes, std::int64_t time_ms) {
  if (lost_) return;
  pending_.append(bytes);
  while (pending_.size() >= 2) {
    const std::size_t length = static_cast<std::uint8_t>(pending_[0]) << 8 | static_cast<std::uint8_t>(pending_[1]);
    if (pending_.size() < 2 + length) break;
    origin_.ts.clear();
    append_rfc3339(origin_.ts, time_ms);
    scan_.dns_message(std::string_view(pending_).substr(2, length), origin_, time_ms);
    pending_.erase(0, 2 + length);
  }
}

struct PacketCounts {
  std::uint64_t fragments = 0, skipped = 0, malformed = 0;
};

void summarize(const std::string& path, const PcapReader& reader, const TcpFlowTable& flows, const CaptureScan& scan,
               const PacketCounts& counts) {
  const TcpFlowStats& tcp = flows.stats();
  std::fprintf(stderr,
               "leakguard scan: %s: %llu packets, %llu TCP flows (%llu without a SYN: client guessed), "
               "%llu gaps (%llu bytes missing), %llu bytes retransmitted (%llu differing), %llu DNS messages, "
               "%llu IP fragments not reassembled, %llu malformed packets",
               path.c_str(), static_cast<unsigned long long>(reader.frames()),
               static_cast<unsigned long long>(tcp.flows), static_cast<unsigned long long>(tcp.guessed_clients),
               static_cast<unsigned long long>(tcp.gaps), static_cast<unsigned long long>(tcp.gap_bytes),
               static_cast<unsigned long long>(tcp.retransmitted_bytes),
               static_cast<unsigned long long>(tcp.inconsistent_bytes),
               static_cast<unsigned long long>(scan.dns_messages()), static_cast<unsigned long long>(counts.fragments),
               static_cast<unsigned long long>(counts.malformed));
  if (tcp.evicted) std::fprintf(stderr, ", %llu flows ended early (table full)", static_cast<unsigned long long>(tcp.evicted));
  if (scan.dns_malformed())
    std::fprintf(stderr, ", %llu DNS messages not parsed", static_cast<unsigned long long>(scan.dns_malformed()));
  if (scan.bodies_cut())
    std::fprintf(stderr, ", %llu request bodies cut short (256 MiB of bodies in progress at once)",
                 static_cast<unsigned long long>(scan.bodies_cut()));
  if (scan.stopped_http())
    std::fprintf(stderr, ", %llu flows left HTTP/1.x part way (the rest scanned raw)",
                 static_cast<unsigned long long>(scan.stopped_http()));
  std::fputc('\n', stderr);
}

}  // namespace

bool scan_capture(const Inspector& inspector, std::FILE* file, std::string_view sniffed, const std::string& path,
                  const DeviceProfile* fallback_device, ScanOutput& output, std::string& error) {
  const std::unique_ptr<PcapReader> reader = PcapReader::open(file, sniffed, error);
  if (!reader) return false;
  struct stat info {};
  const bool regular = fstat(fileno(file), &info) == 0 && S_ISREG(info.st_mode);
  std::optional<ScanProgress> progress;  // ended before the summary line, which it would overwrite
  progress.emplace(path, regular ? static_cast<std::uint64_t>(info.st_size) : 0);

  CaptureScan scan(inspector, fallback_device, output);
  TcpFlowTable flows(scan, TcpFlowLimits{});
  PacketCounts counts;
  CapturedFrame frame;
  std::int64_t last_ms = 0;
  PcapReader::Status status;
  while ((status = reader->next(frame)) == PcapReader::Status::frame) {
    last_ms = frame.time_ms;
    scan.set_time(frame.time_ms);
    const DecodedPacket packet = decode_packet(reader->link(), frame.bytes);
    switch (packet.kind) {
      case DecodedPacket::Kind::tcp: flows.packet(packet, frame.time_ms); break;
      case DecodedPacket::Kind::udp: scan.udp(packet, frame.time_ms); break;
      case DecodedPacket::Kind::fragment: ++counts.fragments; break;
      case DecodedPacket::Kind::malformed: ++counts.malformed; break;
      case DecodedPacket::Kind::not_ip:
      case DecodedPacket::Kind::other_ip: ++counts.skipped; break;
    }
    progress->update(reader->offset());
  }
  // What was read before an error is scanned to the end of each flow: its findings are kept.
  flows.close_all(last_ms);
  progress.reset();
  summarize(path, *reader, flows, scan, counts);
  if (status == PcapReader::Status::error) {
    error = reader->error();
    return false;
  }
  return true;
}

}  // namespace leakguard
