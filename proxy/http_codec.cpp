// The llhttp driver: one direction of a connection parsed message by message, with the head
// checks of request_framing.cpp and the chunked-body check of chunked_framing.cpp beside llhttp.
#include "proxy/http_codec.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cctype>
#include <cstdint>

#include <llhttp.h>

#include "common/ascii.hpp"
#include "proxy/chunked_framing.hpp"

namespace leakguard {

std::optional<std::string_view> HttpRequestHead::header(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return std::string_view(h.value);
  return std::nullopt;
}

std::string_view HttpRequestHead::host() const {
  if (auto host = header("host")) return trim_ows(*host);
  std::string_view target(this->target);
  const auto scheme = target.find("://");
  if (scheme == std::string_view::npos) return {};
  target.remove_prefix(scheme + 3);
  return target.substr(0, target.find_first_of("/?#"));
}

bool looks_like_http_request(std::string_view first_bytes) {
  // The methods phones actually send; anything else is relayed as raw TCP.
  static constexpr std::array<std::string_view, 9> methods{"GET ",     "POST ",  "PUT ",   "HEAD ", "DELETE ",
                                                           "OPTIONS ", "PATCH ", "TRACE ", "CONNECT "};
  for (auto method : methods) {
    const auto n = std::min(first_bytes.size(), method.size());
    if (n > 0 && first_bytes.substr(0, n) == method.substr(0, n)) return true;
  }
  return false;
}

bool looks_like_h2_preface(std::string_view first_bytes) {
  static constexpr std::string_view preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  const auto n = std::min(first_bytes.size(), preface.size());
  return n > 0 && first_bytes.substr(0, n) == preface.substr(0, n);
}

struct HttpStreamParser::Impl {
  HttpStreamParser& owner;
  llhttp_t parser{};
  llhttp_settings_t settings{};
  std::size_t max_head_bytes;
  std::size_t head_bytes = 0;
  bool in_head = true;
  bool in_message = false;  // between on_message_begin and on_message_complete
  bool in_trailers = false;
  bool paused = false;
  bool upgraded = false;
  std::string request_method;  // responses: the method of the request being answered
  char previous_head_byte = 0;  // last head byte seen, for line endings split across reads
  bool bad_line_ending = false;  // a CR without LF or an LF without CR in the head
  bool folded_line = false;      // a head line that begins with a space or a tab
  std::optional<ChunkedFramingCheck> chunked_body;  // requests: set while a chunked body is read
  Boundary pending = Boundary::need_more;
  std::string field;
  std::string value;
  std::vector<std::string_view>* body_chunks = nullptr;

  Impl(HttpStreamParser& parser_owner, Direction direction, std::size_t max_head)
      : owner(parser_owner), max_head_bytes(max_head) {
    llhttp_settings_init(&settings);
    settings.on_message_begin = [](llhttp_t* p) { return self(p).on_message_begin(); };
    settings.on_method = [](llhttp_t* p, const char* at, std::size_t n) {
      self(p).owner.head_.method.append(at, n);
      return 0;
    };
    settings.on_url = [](llhttp_t* p, const char* at, std::size_t n) {
      self(p).owner.head_.target.append(at, n);
      return 0;
    };
    if (direction == Direction::request) {
      // Response headers are relayed as bytes and never read (llhttp still checks their framing):
      // keeping them would cost two strings per header per response.
      settings.on_header_field = [](llhttp_t* p, const char* at, std::size_t n) {
        self(p).field.append(at, n);
        return 0;
      };
      settings.on_header_value = [](llhttp_t* p, const char* at, std::size_t n) {
        self(p).value.append(at, n);
        return 0;
      };
      settings.on_header_value_complete = [](llhttp_t* p) { return self(p).on_header_complete(); };
    }
    settings.on_headers_complete = [](llhttp_t* p) { return self(p).on_headers_complete(); };
    settings.on_body = [](llhttp_t* p, const char* at, std::size_t n) {
      if (auto* chunks = self(p).body_chunks) chunks->emplace_back(at, n);
      return 0;
    };
    settings.on_message_complete = [](llhttp_t* p) { return self(p).on_message_complete(); };
    llhttp_init(&parser, direction == Direction::request ? HTTP_REQUEST : HTTP_RESPONSE, &settings);
    parser.data = this;
    // HTTP/1.2 and later 1.x minors mean "1.1 or better" (RFC 9110 section 2.5); llhttp refuses them
    // unless lenient. find_ambiguous_framing() still refuses every major version other than 1.
    // No other leniency: LENIENT_HEADERS would also accept NUL/LF in values, whitespace-led lines
    // and "Transfer-Encoding : chunked" framed as chunked, all of them smuggling shapes.
    if (direction == Direction::request) parser.lenient_flags |= LENIENT_VERSION;
  }

  // llhttp's loose mode ends a header section at a CR that no LF follows, and takes a bare LF as a
  // line end; servers that do neither would read the bytes after it as header lines, so a proxy
  // that re-serialises the head must refuse both (the "\rTransfer-Encoding" shapes).
  // A line that begins with a space or a tab is obs-fold: llhttp appends it to the previous
  // header's value, while servers that do not fold read it as a header of its own
  // (" Content-Length: 5" after Host), so it is refused wherever it stands (RFC 9112 section 5.2
  // lets a server reject it). The line after the request line is no exception.
  void scan_head_lines(std::string_view bytes) {
    for (const char c : bytes) {
      if ((previous_head_byte == '\r' && c != '\n') || (c == '\n' && previous_head_byte != '\r')) bad_line_ending = true;
      if (previous_head_byte == '\n' && (c == ' ' || c == '\t')) folded_line = true;
      previous_head_byte = c;
    }
  }

  static Impl& self(llhttp_t* p) { return *static_cast<Impl*>(p->data); }

  int on_message_begin() {
    owner.head_ = {};
    owner.trailers_.clear();
    owner.status_code_ = 0;
    in_head = true;
    in_message = true;
    in_trailers = false;
    head_bytes = 0;
    return 0;
  }

  int on_header_complete() {
    HttpHeader header{std::move(field), std::string(trim_ows(value))};
    field.clear();
    value.clear();
    (in_trailers ? owner.trailers_ : owner.head_.headers).push_back(std::move(header));
    return 0;
  }

  int on_headers_complete() {
    in_head = false;
    in_trailers = true;
    owner.head_.version_major = llhttp_get_http_major(&parser);
    owner.head_.version_minor = llhttp_get_http_minor(&parser);
    owner.status_code_ = llhttp_get_status_code(&parser);
    owner.keep_alive_ = llhttp_should_keep_alive(&parser) != 0;
    if (parser.type == HTTP_REQUEST && (parser.flags & F_TRANSFER_ENCODING) && !(parser.flags & F_CHUNKED) &&
        transfer_coding_is_chunked(owner.head_)) {
      // llhttp does not see "chunked;param" as chunked; the framing check below accepts it, and
      // the forwarded head says plain "chunked" (normalize_for_upstream), so both hops agree.
      parser.flags |= F_CHUNKED;
    }
    owner.chunked_ = (parser.flags & F_CHUNKED) != 0;
    owner.has_body_ = owner.chunked_ || ((parser.flags & F_CONTENT_LENGTH) && parser.content_length > 0);
    if (parser.type == HTTP_RESPONSE) {
      if (iequals(request_method, "HEAD")) {
        owner.has_body_ = false;
        return 1;  // a response to HEAD has a head only, whatever its Content-Length says
      }
      if (iequals(request_method, "CONNECT") && owner.status_code_ / 100 == 2) return 2;  // tunnel
      if (owner.status_code_ / 100 == 1 && owner.status_code_ != 101) return 0;  // 100 Continue
      return 0;
    }
    pending = Boundary::head_complete;
    return HPE_PAUSED;
  }

  int on_message_complete() {
    in_message = false;
    if (parser.upgrade) {
      pending = Boundary::upgrade;
      return 0;  // llhttp itself stops with HPE_PAUSED_UPGRADE
    }
    pending = Boundary::message_complete;
    return HPE_PAUSED;
  }
};

HttpStreamParser::HttpStreamParser(Direction direction, std::size_t max_head_bytes)
    : impl_(std::make_unique<Impl>(*this, direction, max_head_bytes)) {}

HttpStreamParser::~HttpStreamParser() = default;

void HttpStreamParser::set_request_method(std::string_view method) { impl_->request_method = method; }

HttpStreamParser::Step HttpStreamParser::parse(std::string_view input) {
  Step step;
  if (error_ != HttpParseError::none) {
    step.boundary = Boundary::error;
    return step;
  }
  auto& impl = *impl_;
  if (impl.upgraded) {
    // The request side of an upgrade that did not happen (no 101): continue with HTTP.
    llhttp_resume_after_upgrade(&impl.parser);
    impl.upgraded = false;
  } else if (impl.paused) {
    llhttp_resume(&impl.parser);
    impl.paused = false;
  }
  impl.pending = Boundary::need_more;
  impl.body_chunks = &step.body_chunks;
  // An empty view may have no data pointer, and llhttp computes `data + len` (undefined on null):
  // the end of a message paused at its head is asked for with no bytes at all.
  if (input.data() == nullptr) input = std::string_view("", 0);
  const auto err = llhttp_execute(&impl.parser, input.data(), input.size());
  impl.body_chunks = nullptr;

  const auto stopped_at = [&] {
    const char* pos = llhttp_get_error_pos(&impl.parser);
    return pos ? static_cast<std::size_t>(pos - input.data()) : input.size();
  };
  switch (err) {
    case HPE_OK:
      step.consumed = input.size();
      break;
    case HPE_PAUSED:
      impl.paused = true;
      step.consumed = stopped_at();
      step.boundary = impl.pending;
      break;
    case HPE_PAUSED_UPGRADE:
      impl.upgraded = true;
      step.consumed = stopped_at();
      step.boundary = Boundary::upgrade;
      break;
    default:
      error_ = HttpParseError::malformed;
      error_reason_ = llhttp_get_error_reason(&impl.parser) ? llhttp_get_error_reason(&impl.parser) : "malformed";
      step.boundary = Boundary::error;
      return step;
  }
  if (impl.chunked_body && !impl.in_head) {
    const bool framing_ok = impl.chunked_body->feed(input.substr(0, step.consumed));
    const bool ended = step.boundary == Boundary::message_complete || step.boundary == Boundary::upgrade;
    if (!framing_ok || ended != impl.chunked_body->done()) {
      impl.chunked_body.reset();
      error_ = HttpParseError::ambiguous_framing;
      error_reason_ = "chunked body framing that servers read differently";
      step.boundary = Boundary::error;
      step.consumed = 0;  // none of it goes upstream
      return step;
    }
    if (ended) impl.chunked_body.reset();
  }
  const bool head_bytes_consumed = impl.in_head || step.boundary == Boundary::head_complete;
  if (head_bytes_consumed) impl.head_bytes += step.consumed;
  if (head_bytes_consumed && impl.parser.type == HTTP_REQUEST) impl.scan_head_lines(input.substr(0, step.consumed));
  if (impl.head_bytes > impl.max_head_bytes && (impl.in_head || step.boundary == Boundary::head_complete)) {
    error_ = HttpParseError::head_too_large;
    error_reason_ = "header section larger than " + std::to_string(impl.max_head_bytes) + " bytes";
    step.boundary = Boundary::error;
    return step;
  }
  if (step.boundary == Boundary::head_complete && impl.parser.type == HTTP_REQUEST) {
    // The head must end in CRLF CRLF with no bare CR or LF before, and no folded line: see scan_head_lines().
    const bool bad_line_ending = impl.bad_line_ending || impl.previous_head_byte != '\n';
    const bool folded_line = impl.folded_line;
    impl.bad_line_ending = false;
    impl.folded_line = false;
    impl.previous_head_byte = 0;
    auto why = bad_line_ending ? std::optional<std::string>("CR or LF without its pair in the header section")
               : folded_line   ? std::optional<std::string>("a header line that begins with whitespace (obs-fold)")
                               : find_ambiguous_framing(head_);
    if (why) {
      error_ = HttpParseError::ambiguous_framing;
      error_reason_ = std::move(*why);
      step.boundary = Boundary::error;
    } else {
      normalize_for_upstream(head_);
      if (chunked_) impl.chunked_body.emplace();
    }
  }
  return step;
}

HttpStreamParser::Step HttpStreamParser::finish() {
  Step step;
  auto& impl = *impl_;
  // Between messages the end of the stream is a clean end. (llhttp, paused at the end of the last
  // message, would still call it "invalid EOF state".)
  if (!impl.in_message) return step;
  if (impl.paused) {
    llhttp_resume(&impl.parser);
    impl.paused = false;
  }
  impl.pending = Boundary::need_more;
  const auto err = llhttp_finish(&impl.parser);
  if (err == HPE_OK || err == HPE_PAUSED) {
    step.boundary = impl.pending;
  } else {
    error_ = HttpParseError::malformed;
    error_reason_ = "connection closed in the middle of a message";
    step.boundary = Boundary::error;
  }
  return step;
}

std::string serialize_request_head(const HttpRequestHead& head, const UpstreamRewrite& rewrite) {
  const std::string_view target = rewrite.target.empty() ? std::string_view(head.target) : rewrite.target;
  const bool explicit_proxying = !rewrite.host.empty();
  const auto dropped = [&](const HttpHeader& h) {
    return (explicit_proxying && iequals(h.name, "proxy-connection")) || (rewrite.drop_expect && iequals(h.name, "expect"));
  };
  // Only an explicit proxy's rewrite needs to know (a second pass over the headers otherwise).
  const bool has_host = explicit_proxying && std::any_of(head.headers.begin(), head.headers.end(),
                                                         [](const HttpHeader& h) { return iequals(h.name, "host"); });

  std::string out;
  std::size_t size = head.method.size() + target.size() + rewrite.host.size() + 24;
  for (const auto& h : head.headers) size += h.name.size() + h.value.size() + 4;
  out.reserve(size + 2);
  out.append(head.method).append(" ").append(target).append(" HTTP/");
  // A proxy sends its own version (RFC 9110 section 6.2): a client's HTTP/1.2 goes on as 1.1.
  out.push_back(static_cast<char>('0' + head.version_major));
  out.push_back('.');
  out.push_back(static_cast<char>('0' + (head.version_major == 1 ? std::min(head.version_minor, 1) : head.version_minor)));
  out.append("\r\n");
  if (explicit_proxying && !has_host) out.append("Host: ").append(rewrite.host).append("\r\n");
  bool host_written = false;
  for (const auto& h : head.headers) {
    if (dropped(h)) continue;
    std::string_view value = h.value;
    if (explicit_proxying && !host_written && iequals(h.name, "host")) {
      value = rewrite.host;  // in place, the name as the client spelled it
      host_written = true;
    }
    out.append(h.name).append(": ").append(value).append("\r\n");
  }
  out.append("\r\n");
  return out;
}

CapturedRequestParser::CapturedRequestParser(std::size_t max_body_bytes, BodyBudget* budget)
    : parser_(std::make_unique<HttpStreamParser>(HttpStreamParser::Direction::request, 1024 * 1024)),
      max_body_bytes_(max_body_bytes),
      budget_(budget) {}

CapturedRequestParser::~CapturedRequestParser() { release_body(); }

void CapturedRequestParser::release_body() {
  if (budget_) budget_->left += charged_;
  charged_ = 0;
}

std::size_t CapturedRequestParser::feed(std::string_view bytes, std::vector<HttpRequest>& out) {
  if (stopped_) return 0;
  std::size_t offset = 0;
  while (offset < bytes.size()) {
    const auto step = parser_->parse(bytes.substr(offset));
    for (auto chunk : step.body_chunks) {
      std::size_t take = std::min(chunk.size(), max_body_bytes_ - std::min(max_body_bytes_, current_.body.size()));
      if (budget_ && take > budget_->left) {
        if (!current_.body_truncated) ++budget_->bodies_cut;
        take = budget_->left;
      }
      if (take < chunk.size()) current_.body_truncated = true;
      if (budget_) {
        budget_->left -= take;
        charged_ += take;
      }
      current_.body.append(chunk.substr(0, take));
    }
    offset += step.consumed;
    switch (step.boundary) {
      case HttpStreamParser::Boundary::head_complete:
        current_.head = parser_->head();
        in_message_ = true;
        break;
      case HttpStreamParser::Boundary::message_complete:
      case HttpStreamParser::Boundary::upgrade:
        current_.trailers = parser_->trailers();
        out.push_back(std::move(current_));
        current_ = {};
        release_body();
        in_message_ = false;
        if (step.boundary == HttpStreamParser::Boundary::upgrade) {
          stopped_ = true;
          return offset;
        }
        break;
      case HttpStreamParser::Boundary::error:
        error_ = parser_->error_reason();
        if (in_message_) out.push_back(std::move(current_));
        current_ = {};
        release_body();
        in_message_ = false;
        stopped_ = true;
        return offset;
      case HttpStreamParser::Boundary::need_more:
        break;
    }
    if (step.consumed == 0 && step.boundary == HttpStreamParser::Boundary::need_more) break;
  }
  return offset;
}

void CapturedRequestParser::finish(std::vector<HttpRequest>& out) {
  if (!in_message_) return;
  // A request without a body that ends the capture: llhttp paused at its head and reports the end
  // of the message on the next call, which needs no bytes. One cut inside its body stays open.
  if (parser_->parse({}).boundary == HttpStreamParser::Boundary::message_complete) {
    current_.trailers = parser_->trailers();
    out.push_back(std::move(current_));
    current_ = {};
    release_body();
    in_message_ = false;
    return;
  }
  // A capture cut in the middle of a body still deserves inspection of what is there.
  current_.body_truncated = true;
  out.push_back(std::move(current_));
  current_ = {};
  release_body();
  in_message_ = false;
  error_ = "capture ends in the middle of a request";
}

CapturedRequests parse_captured_requests(std::string_view bytes, std::size_t max_body_bytes) {
  CapturedRequests result;
  if (!looks_like_http_request(bytes)) {
    result.remainder = bytes;
    return result;
  }
  CapturedRequestParser parser(max_body_bytes);
  const std::size_t parsed = parser.feed(bytes, result.requests);
  result.remainder = bytes.substr(parsed);
  if (!parser.stopped()) parser.finish(result.requests);
  result.error = parser.error();
  return result;
}

bool split_authority(std::string_view authority, std::uint16_t default_port, std::string& host, std::uint16_t& port) {
  port = default_port;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(authority.substr(1, close - 1));
    const auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port_text = rest.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (host.empty()) return false;
  if (!port_text.empty()) {
    unsigned value = 0;
    const auto [end, err] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (err != std::errc{} || end != port_text.data() + port_text.size() || value == 0 || value > 65535) return false;
    port = static_cast<std::uint16_t>(value);
  }
  return true;
}


}  // namespace leakguard
