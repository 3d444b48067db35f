// The single entry point to detection, for `leakguard scan` and the live proxy alike. An Inspector
// is built once per configuration snapshot (it compiles every detector) and is then immutable and
// safe to call from any number of I/O threads at once: per-call state lives in a thread-local
// workspace, Hyperscan scratch is per thread. Raw (non-HTTP) streams are scanned incrementally by
// a RawStreamScanner per connection.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/http_message.hpp"
#include "config/config.hpp"
#include "detectors/decoders/request_decoder.hpp"
#include "detectors/detector.hpp"
#include "detectors/finding.hpp"
#include "detectors/header_memo.hpp"
#include "detectors/learned_values.hpp"

namespace leakguard {

// What the caller knows about an exchange.
struct InspectionContext {
  const DeviceProfile* device = nullptr;  // the client's profile (from this Inspector's config); null: heuristics only
  LearnedValues* learned = nullptr;       // the device's learned values, owned by the caller; null: no learning
  std::string_view transport = "http";    // "http", "https", "tcp": for the caller's events
  // The connection's memo of header lines found clean (header_memo.hpp), owned by the caller;
  // null: every line is inspected. Requests only; one connection's requests one at a time.
  HeaderMemo* header_memo = nullptr;
};

struct InspectorCore;
class RawStreamScanner;

class Inspector {
 public:
  // Builds every enabled detector. Throws ConfigError for bad detector options or device values.
  explicit Inspector(ConfigSnapshot config);
  // The same with explicit decoding bounds (fuzzing, tests); the default derives them from
  // config.limits.max_inspect_bytes.
  Inspector(ConfigSnapshot config, const DecodeLimits& limits);
  ~Inspector();
  Inspector(const Inspector&) = default;
  Inspector& operator=(const Inspector&) = default;

  const Config& config() const;
  // The profile named `name`, or null.
  const DeviceProfile* device(std::string_view name) const;

  // Decodes and inspects one request; findings and anomalies are appended to `out`. Never throws
  // for anything in the request.
  void inspect_request(const HttpRequest& request, const InspectionContext& context, InspectionResult& out) const;
  InspectionResult inspect_request(const HttpRequest& request, const InspectionContext& context) const;
  // A bare body with its Content-Type and Content-Encoding (fuzzing, tests).
  void inspect_body(std::string_view body, std::string_view content_type, std::string_view content_encoding,
                    const InspectionContext& context, InspectionResult& out) const;

  // A host name sent in clear (a TLS server name, a CONNECT target, a DNS query name): it reaches
  // resolvers and middleboxes whatever happens to the rest, so an identifier in it is a leak. It is
  // scanned as text; findings and anomalies say `where` and carry no byte locations (a name cannot
  // be redacted in place).
  void inspect_name(std::string_view name, std::string_view where, const InspectionContext& context,
                    InspectionResult& out) const;

  // A scanner for one raw stream (one connection direction).
  RawStreamScanner raw_stream_scanner() const;

 private:
  std::shared_ptr<const InspectorCore> core_;
};

// Scans a non-HTTP stream as it arrives. Keeps the last few hundred bytes of the previous read so
// that an identifier split across reads is still found, and reports each identifier form once per
// stream. Not thread-safe: one per connection, fed from one coroutine.
class RawStreamScanner {
 public:
  // Scans `bytes` (the next bytes of the stream); findings about them are appended to `out`.
  // A match touching the end of `bytes` waits for the next call (or finish()), because the
  // next byte decides whether it is complete.
  void feed(std::string_view bytes, const InspectionContext& context, InspectionResult& out);
  // End of stream: reports what was waiting for more bytes.
  void finish(const InspectionContext& context, InspectionResult& out);
  std::uint64_t bytes_seen() const { return window_start_ + window_.size(); }

  // Bytes of the previous read kept for the next scan; longer than any form or context.
  static constexpr std::size_t overlap = 512;

 private:
  friend class Inspector;
  explicit RawStreamScanner(std::shared_ptr<const InspectorCore> core) : core_(std::move(core)) {}
  void scan(bool complete, const InspectionContext& context, InspectionResult& out);

  std::shared_ptr<const InspectorCore> core_;
  std::string window_;
  std::uint64_t window_start_ = 0;   // stream offset of window_[0]
  std::uint64_t decided_until_ = 0;  // matches ending before this stream offset were judged
  std::unordered_set<std::string> reported_;
};

}  // namespace leakguard
