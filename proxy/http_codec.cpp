#include "proxy/http_codec.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <llhttp.h>

namespace leakguard {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

std::string_view trim_ows(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

}  // namespace

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

struct HttpStreamParser::Impl {
  HttpStreamParser& owner;
  llhttp_t parser{};
  llhttp_settings_t settings{};
  std::size_t max_head_bytes;
  std::size_t head_bytes = 0;
  bool in_head = true;
  bool in_trailers = false;
  bool paused = false;
  bool upgraded = false;
  std::string request_method;  // responses: the method of the request being answered
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
    settings.on_header_field = [](llhttp_t* p, const char* at, std::size_t n) {
      self(p).field.append(at, n);
      return 0;
    };
    settings.on_header_value = [](llhttp_t* p, const char* at, std::size_t n) {
      self(p).value.append(at, n);
      return 0;
    };
    settings.on_header_value_complete = [](llhttp_t* p) { return self(p).on_header_complete(); };
    settings.on_headers_complete = [](llhttp_t* p) { return self(p).on_headers_complete(); };
    settings.on_body = [](llhttp_t* p, const char* at, std::size_t n) {
      if (auto* chunks = self(p).body_chunks) chunks->emplace_back(at, n);
      return 0;
    };
    settings.on_message_complete = [](llhttp_t* p) { return self(p).on_message_complete(); };
    llhttp_init(&parser, direction == Direction::request ? HTTP_REQUEST : HTTP_RESPONSE, &settings);
    parser.data = this;
  }

  static Impl& self(llhttp_t* p) { return *static_cast<Impl*>(p->data); }

  int on_message_begin() {
    owner.head_ = {};
    owner.trailers_.clear();
    owner.status_code_ = 0;
    in_head = true;
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
  if (impl.in_head || step.boundary == Boundary::head_complete) impl.head_bytes += step.consumed;
  if (impl.head_bytes > impl.max_head_bytes && (impl.in_head || step.boundary == Boundary::head_complete)) {
    error_ = HttpParseError::head_too_large;
    error_reason_ = "header section larger than " + std::to_string(impl.max_head_bytes) + " bytes";
    step.boundary = Boundary::error;
    return step;
  }
  if (step.boundary == Boundary::head_complete && impl.parser.type == HTTP_REQUEST) {
    if (auto why = find_ambiguous_framing(head_)) {
      error_ = HttpParseError::ambiguous_framing;
      error_reason_ = *why;
      step.boundary = Boundary::error;
    }
  }
  return step;
}

HttpStreamParser::Step HttpStreamParser::finish() {
  Step step;
  auto& impl = *impl_;
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

namespace {
// RFC 9110 token characters: anything else in a field name ("Bad Header", "Host\x01") is read
// differently by different servers, so a proxy must not pass it on.
bool is_token_char(unsigned char c) {
  if (std::isalnum(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}
}  // namespace

std::optional<std::string> find_ambiguous_framing(const HttpRequestHead& head) {
  for (unsigned char c : head.method)
    if (!is_token_char(c)) return "invalid character in the method";
  int content_length_count = 0;
  int transfer_encoding_count = 0;
  int host_count = 0;
  for (const auto& h : head.headers) {
    if (h.name.empty() || !std::all_of(h.name.begin(), h.name.end(), [](char c) { return is_token_char(c); }))
      return "invalid header name";
    if (iequals(h.name, "content-length")) {
      ++content_length_count;
      const auto v = trim_ows(h.value);
      if (v.empty() || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return "bad Content-Length value";
    } else if (iequals(h.name, "transfer-encoding")) {
      ++transfer_encoding_count;
      // Only a lone "chunked" frames a request unambiguously; "gzip, chunked", "chunked, chunked"
      // or "xchunked" are read differently by different servers.
      if (!iequals(trim_ows(h.value), "chunked")) return "unsupported Transfer-Encoding in a request";
    } else if (iequals(h.name, "host")) {
      ++host_count;
    }
    for (unsigned char c : h.value)
      if ((c < 0x20 && c != '\t') || c == 0x7f) return "control character in header " + h.name;
  }
  if (content_length_count > 1) return "multiple Content-Length headers";
  if (transfer_encoding_count > 1) return "multiple Transfer-Encoding headers";
  if (transfer_encoding_count > 0 && content_length_count > 0) return "both Transfer-Encoding and Content-Length";
  if (transfer_encoding_count > 0 && head.version_major == 1 && head.version_minor == 0)
    return "Transfer-Encoding in an HTTP/1.0 request";
  if (host_count > 1) return "multiple Host headers";
  if (host_count == 0 && head.version_major == 1 && head.version_minor == 1) return "HTTP/1.1 request without Host";
  return std::nullopt;
}

std::string serialize_request_head(const HttpRequestHead& head) {
  std::string out;
  std::size_t size = head.method.size() + head.target.size() + 16;
  for (const auto& h : head.headers) size += h.name.size() + h.value.size() + 4;
  out.reserve(size + 2);
  out.append(head.method).append(" ").append(head.target).append(" HTTP/");
  out.push_back(static_cast<char>('0' + head.version_major));
  out.push_back('.');
  out.push_back(static_cast<char>('0' + head.version_minor));
  out.append("\r\n");
  for (const auto& h : head.headers) out.append(h.name).append(": ").append(h.value).append("\r\n");
  out.append("\r\n");
  return out;
}

CapturedRequests parse_captured_requests(std::string_view bytes, std::size_t max_body_bytes) {
  CapturedRequests result;
  if (!looks_like_http_request(bytes)) {
    result.remainder = bytes;
    return result;
  }
  HttpStreamParser parser(HttpStreamParser::Direction::request, 1024 * 1024);
  HttpRequest current;
  std::size_t offset = 0;
  bool in_message = false;
  while (offset < bytes.size()) {
    const auto step = parser.parse(bytes.substr(offset));
    for (auto chunk : step.body_chunks) {
      const auto room = max_body_bytes - std::min(max_body_bytes, current.body.size());
      if (chunk.size() > room) current.body_truncated = true;
      current.body.append(chunk.substr(0, std::min(room, chunk.size())));
    }
    offset += step.consumed;
    switch (step.boundary) {
      case HttpStreamParser::Boundary::head_complete:
        current.head = parser.head();
        in_message = true;
        break;
      case HttpStreamParser::Boundary::message_complete:
      case HttpStreamParser::Boundary::upgrade:
        current.trailers = parser.trailers();
        result.requests.push_back(std::move(current));
        current = {};
        in_message = false;
        if (step.boundary == HttpStreamParser::Boundary::upgrade) {
          result.remainder = bytes.substr(offset);
          return result;
        }
        break;
      case HttpStreamParser::Boundary::error:
        result.error = parser.error_reason();
        if (in_message) result.requests.push_back(std::move(current));
        result.remainder = bytes.substr(offset);
        return result;
      case HttpStreamParser::Boundary::need_more:
        break;
    }
    if (step.consumed == 0 && step.boundary == HttpStreamParser::Boundary::need_more) break;
  }
  if (in_message) {
    // A capture cut in the middle of a body still deserves inspection of what is there.
    current.body_truncated = true;
    result.requests.push_back(std::move(current));
    result.error = "capture ends in the middle of a request";
  }
  return result;
}

}  // namespace leakguard
