// One client-to-server byte stream, as `leakguard scan` inspects it: HTTP/1.x requests split off
// and inspected as the proxy inspects them, a TLS ClientHello's server name inspected as the proxy
// does, anything else fed to the raw-stream scanner in reads. A bare capture file is one such
// stream, fed whole; a pcap flow is another, fed segment by segment as it is reassembled.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/scan_output.hpp"
#include "detectors/inspector.hpp"

namespace leakguard {

class CapturedRequestParser;

// Incremental: what is held between feeds is the HTTP parser's state and the body of the request
// in progress (at most limits.max_inspect_bytes), a ClientHello being gathered (at most
// max_client_hello_bytes) or the raw scanner's overlap, never the stream.
class ClientStreamScanner {
 public:
  // `origin` (may be null) is copied; with capture times its `ts` becomes the time of each
  // request, or of the stream's first bytes for raw and TLS findings. `body_budget` (may be null)
  // is shared by every stream of a capture: the request bodies they may hold together.
  ClientStreamScanner(const Inspector& inspector, InspectionContext context, ScanOutput& output,
                      const ScanOrigin* origin, BodyBudget* body_budget = nullptr);
  ~ClientStreamScanner();
  ClientStreamScanner(const ClientStreamScanner&) = delete;
  ClientStreamScanner& operator=(const ClientStreamScanner&) = delete;

  // The next bytes of the stream; `time_ms` is the capture time of the packet that brought them
  // (milliseconds since the epoch; negative: none, events say "now").
  void feed(std::string_view bytes, std::int64_t time_ms = -1);
  // `missing` bytes were lost from the capture here: a `capture_gap` anomaly, and the stream
  // resynchronises (HTTP restarts at the next request line; raw scanning restarts after the gap).
  void gap(std::uint64_t missing, std::int64_t time_ms = -1);
  // End of the stream: the request in progress and the raw scanner's tail are inspected. `problem`
  // is told why HTTP parsing stopped early, when it did (the rest was scanned raw).
  void finish(std::string* problem = nullptr);
  // HTTP/1.x parsing stopped part way and the rest of the stream was scanned as raw bytes.
  bool left_http() const { return raw_after_error_ > 0; }

 private:
  enum class Mode {
    start,      // nothing seen yet
    http,       // HTTP/1.x requests
    resync,     // after a gap in HTTP: raw until a request line starts a line
    tls_hello,  // gathering a ClientHello
    encrypted,  // the rest of a TLS stream: not scanned (see scan_stream.cpp)
    raw,
  };
  void feed_http(std::string_view bytes, std::int64_t time_ms);
  void report_requests(std::int64_t time_ms);  // those the parser completed, then forgotten
  void feed_raw(std::string_view bytes);
  void finish_raw();
  void try_client_hello(bool at_end);
  void report(const InspectionResult& result, std::string_view transport, const HttpRequestHead* head,
              std::int64_t time_ms);

  const Inspector& inspector_;
  InspectionContext context_;
  ScanOutput& output_;
  std::optional<ScanOrigin> origin_;
  Mode mode_ = Mode::start;
  std::unique_ptr<CapturedRequestParser> http_;
  HeaderMemo memo_;  // one stream is one connection's requests, as the proxy sees them
  std::optional<RawStreamScanner> raw_;
  std::string hello_;  // the ClientHello gathered so far
  std::string resync_tail_;  // after a gap: the last, unfinished line (at most 8 KiB)
  std::vector<HttpRequest> requests_;
  InspectionResult result_;
  std::int64_t first_ms_ = -1;    // capture time of the stream's first bytes
  std::int64_t request_ms_ = -1;  // of the request in progress
  std::uint64_t offset_ = 0;      // stream bytes seen, gaps included
  BodyBudget* body_budget_;
  std::string http_error_;        // why HTTP parsing stopped, when it did
  std::uint64_t http_error_at_ = 0;  // the stream's byte where it stopped
  std::uint64_t raw_after_error_ = 0;
};

// A whole stream at once (a capture file of one connection's client bytes).
void scan_client_stream(const Inspector& inspector, std::string_view bytes, InspectionContext context,
                        ScanOutput& output, const ScanOrigin* origin, std::string* problem);

}  // namespace leakguard
