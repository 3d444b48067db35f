#include "app/scan_stream.hpp"

#include <algorithm>
#include <span>

#include "events/event_log.hpp"
#include "proxy/http_codec.hpp"
#include "proxy/tls_client_hello.hpp"

namespace leakguard {
namespace {

constexpr std::size_t raw_chunk = 64 * 1024;
// The longest unfinished line kept between segments while looking for a request line after a gap.
constexpr std::size_t max_resync_line = 8 * 1024;

// Whether a request line starts at `pos`: a method the proxy knows, a space and, on the same
// line, " HTTP/1.". A line cut by the end of `bytes` is not taken yet (the caller searches it again
// with the next segment): after a gap, a body line that happens to start with "GET" is no request.
bool request_line_at(std::string_view bytes, std::size_t pos) {
  const std::string_view rest = bytes.substr(pos);
  const std::size_t space = rest.substr(0, 9).find(' ');
  const std::size_t eol = rest.find('\n');
  return space != std::string_view::npos && looks_like_http_request(rest.substr(0, space + 1)) &&
         eol != std::string_view::npos && rest.substr(0, eol).find(" HTTP/1.") != std::string_view::npos;
}

// The first request line in `bytes` that starts a line (at 0 or after a LF) or starts the newest
// segment (at `segment_start`: a request follows the previous body with no LF between), or npos.
std::size_t find_request_line(std::string_view bytes, std::size_t segment_start) {
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const std::size_t lf = bytes.find('\n', pos);
    if (request_line_at(bytes, pos)) return pos;
    if (segment_start > pos && (lf == std::string_view::npos || segment_start <= lf) &&
        segment_start < bytes.size() && request_line_at(bytes, segment_start))
      return segment_start;
    if (lf == std::string_view::npos) break;
    pos = lf + 1;
  }
  return std::string_view::npos;
}

}  // namespace

ClientStreamScanner::ClientStreamScanner(const Inspector& inspector, InspectionContext context, ScanOutput& output,
                                         const ScanOrigin* origin, BodyBudget* body_budget)
    : inspector_(inspector), context_(context), output_(output), body_budget_(body_budget) {
  if (origin) origin_ = *origin;
  context_.header_memo = nullptr;
}

ClientStreamScanner::~ClientStreamScanner() = default;

void ClientStreamScanner::report(const InspectionResult& result, std::string_view transport,
                                 const HttpRequestHead* head, std::int64_t time_ms) {
  if (result.empty()) return;
  if (origin_ && time_ms >= 0) {
    origin_->ts.clear();
    append_rfc3339(origin_->ts, time_ms);
  }
  output_.report(result, transport, head, origin_ ? &*origin_ : nullptr);
}

void ClientStreamScanner::feed(std::string_view bytes, std::int64_t time_ms) {
  if (bytes.empty()) return;
  if (first_ms_ < 0) first_ms_ = time_ms;
  offset_ += bytes.size();
  switch (mode_) {
    case Mode::start:
      if (looks_like_http_request(bytes)) {
        mode_ = Mode::http;
        http_ = std::make_unique<CapturedRequestParser>(inspector_.config().limits.max_inspect_bytes, body_budget_);
        feed_http(bytes, time_ms);
      } else if (static_cast<std::uint8_t>(bytes.front()) == 0x16) {  // a TLS handshake record
        mode_ = Mode::tls_hello;
        hello_.append(bytes.substr(0, max_client_hello_bytes));
        try_client_hello(false);
      } else {
        mode_ = Mode::raw;
        feed_raw(bytes);
      }
      break;
    case Mode::http:
      feed_http(bytes, time_ms);
      break;
    case Mode::resync: {
      // The unfinished last line of the previous segment is searched again with this one, so a
      // request line split over two segments is found.
      const std::string joined = resync_tail_.empty() ? std::string() : resync_tail_ + std::string(bytes);
      const std::string_view search = resync_tail_.empty() ? bytes : std::string_view(joined);
      const std::size_t tail = resync_tail_.size();
      const std::size_t line = find_request_line(search, tail);
      if (line == std::string_view::npos) {
        feed_raw(bytes);  // the rest of a request cut by the gap: still worth a raw look
        // Kept: from the later of the last line start and this segment's start (either may begin a
        // request line that the next segment completes).
        const std::size_t last_lf = search.rfind('\n');
        const std::size_t keep = std::max(last_lf == std::string_view::npos ? 0 : last_lf + 1, tail);
        const std::string_view unfinished = search.substr(std::min(keep, search.size()));
        resync_tail_ = unfinished.size() <= max_resync_line ? std::string(unfinished) : std::string();
        break;
      }
      if (line > tail) feed_raw(bytes.substr(0, line - tail));  // the tail had its raw look already
      resync_tail_.clear();
      finish_raw();
      mode_ = Mode::http;
      http_ = std::make_unique<CapturedRequestParser>(inspector_.config().limits.max_inspect_bytes, body_budget_);
      request_ms_ = -1;
      feed_http(search.substr(line), time_ms);
      break;
    }
    case Mode::tls_hello:
      hello_.append(bytes.substr(0, max_client_hello_bytes - std::min(max_client_hello_bytes, hello_.size())));
      try_client_hello(false);
      break;
    case Mode::encrypted:
      // Past the ClientHello everything the client sends is ciphertext: no identifier can be read
      // in it, and scanning it would cost time and risk nonsense matches on random bytes.
      break;
    case Mode::raw:
      feed_raw(bytes);
      break;
  }
}

void ClientStreamScanner::feed_http(std::string_view bytes, std::int64_t time_ms) {
  if (request_ms_ < 0) request_ms_ = time_ms;
  const std::size_t parsed = http_->feed(bytes, requests_);
  report_requests(time_ms);
  if (http_->stopped()) {
    // Not HTTP any more (a parse error, or CONNECT/Upgrade): the rest of the stream is raw bytes.
    if (http_->error()) {
      http_error_ = *http_->error();
      http_error_at_ = offset_ - bytes.size() + parsed;  // `bytes` always runs to the end of the stream so far
    }
    http_.reset();
    mode_ = Mode::raw;
    feed_raw(bytes.substr(parsed));
  }
}

void ClientStreamScanner::report_requests(std::int64_t time_ms) {
  InspectionContext context = context_;
  context.transport = "http";
  context.header_memo = &memo_;
  for (std::size_t i = 0; i < requests_.size(); ++i) {
    std::string host;
    std::uint16_t port = 0;
    if (origin_ && split_authority(requests_[i].head.host(), 80, host, port)) {
      origin_->dst_host = std::move(host);  // as the proxy names an HTTP destination
      origin_->dst_host_source = "http";
    }
    inspector_.inspect_request(requests_[i], context, result_);
    // The first request completed here began at request_ms_; any later one began in this packet.
    report(result_, "http", &requests_[i].head, i == 0 ? request_ms_ : time_ms);
    result_.clear();
  }
  if (!requests_.empty()) request_ms_ = http_ && http_->in_request() ? time_ms : -1;
  requests_.clear();
}

void ClientStreamScanner::feed_raw(std::string_view bytes) {
  if (bytes.empty()) return;
  if (!raw_) raw_.emplace(inspector_.raw_stream_scanner());
  if (!http_error_.empty()) raw_after_error_ += bytes.size();
  InspectionContext context = context_;
  context.transport = "tcp";
  // Fed in reads, as the proxy would: the same code path, split identifiers included.
  for (std::size_t offset = 0; offset < bytes.size(); offset += raw_chunk) {
    raw_->feed(bytes.substr(offset, raw_chunk), context, result_);
    report(result_, "tcp", nullptr, first_ms_);
    result_.clear();
  }
}

void ClientStreamScanner::finish_raw() {
  if (!raw_) return;
  InspectionContext context = context_;
  context.transport = "tcp";
  raw_->finish(context, result_);
  report(result_, "tcp", nullptr, first_ms_);
  result_.clear();
  raw_.reset();
}

void ClientStreamScanner::try_client_hello(bool at_end) {
  const auto* data = reinterpret_cast<const std::uint8_t*>(hello_.data());
  const ClientHelloParse parsed = parse_client_hello(std::span<const std::uint8_t>(data, hello_.size()));
  if (parsed.status == ClientHelloStatus::need_more && !at_end && hello_.size() < max_client_hello_bytes) return;
  if (parsed.status == ClientHelloStatus::ok) {
    mode_ = Mode::encrypted;
    const std::string& name = parsed.hello.server_name;
    if (origin_ && !name.empty()) {
      origin_->dst_host = name;
      origin_->dst_host_source = "sni";
    }
    InspectionContext context = context_;
    context.transport = "tls";
    inspector_.inspect_name(name, "tls.sni", context, result_);
    report(result_, "tls", nullptr, first_ms_);
    result_.clear();
  } else {
    // Not a ClientHello after all (or one cut short): the bytes are scanned like any other stream.
    mode_ = Mode::raw;
    feed_raw(hello_);
  }
  hello_ = std::string();
}

void ClientStreamScanner::gap(std::uint64_t missing, std::int64_t time_ms) {
  if (first_ms_ < 0) first_ms_ = time_ms;
  const bool http = mode_ == Mode::http || mode_ == Mode::resync;
  const bool tls = mode_ == Mode::tls_hello || mode_ == Mode::encrypted;
  InspectionResult result;
  Anomaly& anomaly = result.anomalies.emplace_back();
  anomaly.anomaly = "capture_gap";
  anomaly.where = "tcp.stream";
  anomaly.detail = std::to_string(missing) + " bytes of the client stream are missing from the capture at stream byte " +
                   std::to_string(offset_);
  anomaly.input_bytes = missing;
  report(result, http ? "http" : tls ? "tls" : "tcp", nullptr, time_ms);
  offset_ += missing;
  switch (mode_) {
    case Mode::start:
    case Mode::encrypted:
      break;
    case Mode::http:
      // The request cut by the gap is inspected as far as it got; the parser's state is lost, so
      // parsing restarts at the next request line (bytes before it are scanned raw).
      http_->finish(requests_);
      report_requests(time_ms);
      http_.reset();
      mode_ = Mode::resync;
      break;
    case Mode::tls_hello:
      mode_ = Mode::raw;
      feed_raw(hello_);
      hello_ = std::string();
      finish_raw();
      break;
    case Mode::resync:
      resync_tail_.clear();  // a line cut by a gap is no line
      [[fallthrough]];
    case Mode::raw:
      // A fresh scanner after the gap, so that bytes on either side are never joined into one match.
      finish_raw();
      break;
  }
}

void ClientStreamScanner::finish(std::string* problem) {
  switch (mode_) {
    case Mode::http:
      http_->finish(requests_);
      report_requests(-1);
      if (http_->error() && http_error_.empty()) {  // a request cut short: inspected as far as it goes
        http_error_ = *http_->error();
        http_error_at_ = offset_;
      }
      break;
    case Mode::tls_hello:
      try_client_hello(true);
      break;
    default:
      break;
  }
  finish_raw();
  if (problem && !http_error_.empty())
    *problem = http_error_ + " at byte " + std::to_string(http_error_at_) +
               (raw_after_error_ > 0 ? "; the last " + std::to_string(raw_after_error_) + " bytes are scanned as raw bytes"
                                     : std::string());
}

void scan_client_stream(const Inspector& inspector, std::string_view bytes, InspectionContext context,
                        ScanOutput& output, const ScanOrigin* origin, std::string* problem) {
  ClientStreamScanner scanner(inspector, context, output, origin);
  scanner.feed(bytes);
  scanner.finish(problem);
}

}  // namespace leakguard
