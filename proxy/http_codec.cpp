#include "proxy/http_codec.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cctype>
#include <cstdint>

#include <llhttp.h>

#include "common/ascii.hpp"

namespace leakguard {

namespace {

std::string_view trim_ows(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

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

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return is_token_char(c); });
}

// One element of the Transfer-Encoding list: "gzip", "chunked;custom_param".
struct TransferCoding {
  std::string_view name;
  bool has_parameters = false;
};

// Every Transfer-Encoding field line of a request as one list, in order (RFC 9110 section 5.3
// combines them so). nullopt when an element is empty, its name is not a token or its parameters
// hold anything but token characters, OWS, ';' and '=' (a quoted string could hide a comma).
std::optional<std::vector<TransferCoding>> transfer_codings(const HttpRequestHead& head) {
  std::vector<TransferCoding> codings;
  for (const auto& h : head.headers) {
    if (!iequals(h.name, "transfer-encoding")) continue;
    std::string_view rest(h.value);
    for (;;) {
      const auto comma = rest.find(',');
      const auto element = trim_ows(rest.substr(0, comma));
      const auto semicolon = element.find(';');
      TransferCoding coding{trim_ows(element.substr(0, semicolon)), semicolon != std::string_view::npos};
      if (!is_token(coding.name)) return std::nullopt;
      if (coding.has_parameters) {
        for (unsigned char c : element.substr(semicolon))
          if (!is_token_char(c) && c != ';' && c != '=' && c != ' ' && c != '\t') return std::nullopt;
      }
      codings.push_back(coding);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return codings;
}

// True when the request's transfer codings are well formed and end in exactly one "chunked":
// the only Transfer-Encoding that frames a request (RFC 9112 section 6.3).
bool transfer_coding_is_chunked(const HttpRequestHead& head) {
  const auto codings = transfer_codings(head);
  if (!codings || codings->empty() || !iequals(codings->back().name, "chunked")) return false;
  return std::count_if(codings->begin(), codings->end(),
                       [](const TransferCoding& c) { return iequals(c.name, "chunked"); }) == 1;
}

// True when the letters of a field name, lower-cased, spell `letters`; the non-ASCII letters that
// some case mappings turn into ASCII ones count as those (U+017F long s -> s, U+0131 dotless i and
// U+0130 -> i, U+212A Kelvin -> k), everything else is skipped. "Transfer_Encoding",
// "Transfer- Encoding", "Tran\u017Ffer-Encoding" and "\x01Content-Length" all spell a framing header.
// Runs for every header of every request: no allocation.
bool name_spells(std::string_view name, std::string_view letters) {
  std::size_t matched = 0;
  const auto take = [&](char letter) {
    if (matched == letters.size() || letters[matched] != letter) return false;
    ++matched;
    return true;
  };
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    const auto rest = name.substr(i);
    bool ok = true;
    if (rest.starts_with("\xC5\xBF")) {
      ok = take('s');
      i += 1;
    } else if (rest.starts_with("\xC4\xB1") || rest.starts_with("\xC4\xB0")) {
      ok = take('i');
      i += 1;
    } else if (rest.starts_with("\xE2\x84\xAA")) {
      ok = take('k');
      i += 2;
    } else if (c < 0x80 && std::isalpha(c)) {
      ok = take(static_cast<char>(std::tolower(c)));
    }
    if (!ok) return false;
  }
  return matched == letters.size();
}

// "http://host/path" (any scheme): the target carries the authority, so Host is not needed.
bool is_absolute_form(std::string_view target) {
  const auto colon = target.find("://");
  if (colon == std::string_view::npos || colon == 0 || !std::isalpha(static_cast<unsigned char>(target[0])))
    return false;
  return std::all_of(target.begin(), target.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  });
}

// What goes upstream differs from what was received only where the difference is framing noise
// a server could read its own way: whitespace between a field name and its colon (RFC 9112
// section 5.1 has a proxy remove it) and parameters on transfer codings, which RFC 9112 defines
// for none of them; "chunked;x" becomes "chunked", exactly the framing the proxy used.
void normalize_for_upstream(HttpRequestHead& head) {
  for (auto& h : head.headers) {
    while (!h.name.empty() && (h.name.back() == ' ' || h.name.back() == '\t')) h.name.pop_back();
    if (!iequals(h.name, "transfer-encoding") || h.value.find(';') == std::string::npos) continue;
    std::string names;
    std::string_view rest(h.value);
    for (;;) {
      const auto comma = rest.find(',');
      const auto element = trim_ows(rest.substr(0, comma));
      if (!names.empty()) names.append(", ");
      names.append(trim_ows(element.substr(0, element.find(';'))));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    h.value = std::move(names);
  }
}

// The chunked framing of a request body, checked byte by byte to RFC 9112 section 7.1 beside
// llhttp. The proxy forwards body bytes as received, so a body that llhttp's loose mode reads one
// way and a strict server another is a smuggling channel: loose mode skips junk after chunk data
// ("5\r\nhelloXX0\r\n\r\n") and ends the body at a CR followed by any byte ("0\r\n\r" + 'G').
// Whatever this check and llhttp do not both accept, and end at the same byte, is refused.
class ChunkedFramingCheck {
 public:
  // Feeds body bytes; false at the first byte that breaks the grammar or follows the end.
  bool feed(std::string_view bytes) {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      const char c = bytes[i];
      switch (state_) {
        case State::size:
          if (std::isxdigit(static_cast<unsigned char>(c))) {
            if (++digits_ > 16) return false;
            size_ = size_ * 16 + static_cast<std::uint64_t>(hex_value(c));
          } else if (digits_ > 0 && (c == ';' || c == ' ' || c == '\t')) {
            state_ = State::extension;
          } else if (digits_ > 0 && c == '\r') {
            state_ = State::size_lf;
          } else {
            return false;
          }
          break;
        case State::extension:  // llhttp checks the extension's own grammar; here: no CR, LF, NUL
          if (c == '\r')
            state_ = State::size_lf;
          else if (c == '\n' || c == '\0')
            return false;
          break;
        case State::size_lf:
          if (c != '\n') return false;
          state_ = size_ == 0 ? State::trailer_start : State::data;
          break;
        case State::data: {
          const auto take = std::min<std::uint64_t>(size_, bytes.size() - i);
          size_ -= take;
          i += take - 1;
          if (size_ == 0) state_ = State::data_cr;
          break;
        }
        case State::data_cr:
          if (c != '\r') return false;
          state_ = State::data_lf;
          break;
        case State::data_lf:
          if (c != '\n') return false;
          state_ = State::size;
          digits_ = 0;
          break;
        case State::trailer_start:
          if (c == '\r')
            state_ = State::final_lf;
          else if (c == '\n' || c == '\0' || c == ' ' || c == '\t')
            return false;
          else
            state_ = State::trailer_line;
          break;
        case State::trailer_line:
          if (c == '\r')
            state_ = State::trailer_lf;
          else if (c == '\n' || c == '\0')
            return false;
          break;
        case State::trailer_lf:
          if (c != '\n') return false;
          state_ = State::trailer_start;
          break;
        case State::final_lf:
          if (c != '\n') return false;
          state_ = State::done;
          break;
        case State::done:
          return false;
      }
    }
    return true;
  }
  bool done() const { return state_ == State::done; }

 private:
  enum class State { size, extension, size_lf, data, data_cr, data_lf, trailer_start, trailer_line, trailer_lf, final_lf, done };
  static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    return std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
  }
  State state_ = State::size;
  int digits_ = 0;
  std::uint64_t size_ = 0;
};

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
  void scan_head_line_endings(std::string_view bytes) {
    for (const char c : bytes) {
      if ((previous_head_byte == '\r' && c != '\n') || (c == '\n' && previous_head_byte != '\r')) bad_line_ending = true;
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
  if (head_bytes_consumed && impl.parser.type == HTTP_REQUEST) impl.scan_head_line_endings(input.substr(0, step.consumed));
  if (impl.head_bytes > impl.max_head_bytes && (impl.in_head || step.boundary == Boundary::head_complete)) {
    error_ = HttpParseError::head_too_large;
    error_reason_ = "header section larger than " + std::to_string(impl.max_head_bytes) + " bytes";
    step.boundary = Boundary::error;
    return step;
  }
  if (step.boundary == Boundary::head_complete && impl.parser.type == HTTP_REQUEST) {
    // The head must end in CRLF CRLF with no bare CR or LF before: see scan_head_line_endings().
    const bool bad_line_ending = impl.bad_line_ending || impl.previous_head_byte != '\n';
    impl.bad_line_ending = false;
    impl.previous_head_byte = 0;
    auto why = bad_line_ending ? std::optional<std::string>("CR or LF without its pair in the header section")
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

std::optional<std::string> find_ambiguous_framing(const HttpRequestHead& head) {
  for (unsigned char c : head.method)
    if (!is_token_char(c)) return "invalid character in the method";
  // HTTP/0.9 has no header section: llhttp's loose mode still reads header lines after a request
  // line without a version, a shape no 0.9 server shares (the Severe "smuggling in URI" case).
  if (head.version_major == 0) return "HTTP/0.9 request (or a request line without a version)";
  if (head.version_major != 1) return "unsupported HTTP version";
  for (unsigned char c : head.target)
    if (c <= 0x20 || c == 0x7f) return "control character or space in the request target";

  int content_length_count = 0;
  int transfer_encoding_count = 0;
  int host_count = 0;
  bool has_content = false;
  for (const auto& h : head.headers) {
    const bool is_content_length = iequals(h.name, "content-length");
    const bool is_transfer_encoding = iequals(h.name, "transfer-encoding");
    if (!is_content_length && !is_transfer_encoding) {
      // "Transfer_Encoding", "Content-Length ", "\x01Content-Length": some server takes it for the
      // real one (underscores become dashes in CGI-style stacks, lenient parsers drop the rest).
      if (name_spells(h.name, "transferencoding")) return "a header name that resembles Transfer-Encoding";
      if (name_spells(h.name, "contentlength")) return "a header name that resembles Content-Length";
    }
    // Whitespace before the colon is dropped on the way upstream (normalize_for_upstream); any other
    // non-token byte in a name stays a refusal.
    if (!is_token(trim_ows(h.name)) || (!h.name.empty() && (h.name.front() == ' ' || h.name.front() == '\t')))
      return "invalid header name";
    if (is_content_length) {
      ++content_length_count;
      const auto v = trim_ows(h.value);
      if (v.empty() || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return "bad Content-Length value";
      if (v.find_first_not_of('0') != std::string_view::npos) has_content = true;
    } else if (is_transfer_encoding) {
      ++transfer_encoding_count;
      has_content = true;
    } else if (iequals(h.name, "host")) {
      ++host_count;
    }
    for (unsigned char c : h.value)
      if ((c < 0x20 && c != '\t') || c == 0x7f) return "control character in header " + h.name;
  }
  if (content_length_count > 1) return "multiple Content-Length headers";
  if (transfer_encoding_count > 0) {
    if (content_length_count > 0) return "both Transfer-Encoding and Content-Length";
    if (head.version_minor == 0) return "Transfer-Encoding in an HTTP/1.0 request";
    const auto codings = transfer_codings(head);
    if (!codings) return "malformed Transfer-Encoding list";
    static constexpr std::array<std::string_view, 7> known{"chunked",  "gzip",   "x-gzip",  "deflate",
                                                           "compress", "x-compress", "identity"};
    for (const auto& coding : *codings)
      if (std::none_of(known.begin(), known.end(), [&](std::string_view k) { return iequals(k, coding.name); }))
        return "unknown transfer coding in Transfer-Encoding";
    // Only a final, single "chunked" frames a request; anything else (gzip alone, chunked twice,
    // chunked before gzip) leaves the length to each server's guess (RFC 9112 section 6.3).
    if (!transfer_coding_is_chunked(head)) return "Transfer-Encoding of a request does not end in one chunked";
  }
  // Content in a GET or HEAD has no defined semantics (RFC 9110 section 9.3): some servers ignore
  // the length and read the body as the next request.
  if (has_content && (iequals(head.method, "GET") || iequals(head.method, "HEAD")))
    return "a " + head.method + " request with content";
  if (host_count > 1) return "multiple Host headers";
  // An absolute-form target names the authority itself (RFC 9112 section 3.2.2: a proxy replaces
  // Host with it); in origin form a 1.1 request must say where it goes.
  if (host_count == 0 && head.version_minor >= 1 && !is_absolute_form(head.target))
    return "HTTP/1.1 request without Host";
  return std::nullopt;
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
