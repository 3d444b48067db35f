// Request heads that two HTTP implementations could read differently, and what the proxy changes in
// a head it forwards. Split from the llhttp driver (http_codec.cpp): these look at a parsed head only.
#include "proxy/request_framing.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "common/ascii.hpp"

namespace leakguard {

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


// RFC 3986 reg-name characters a DNS name can hold (unreserved), and "%" of a percent-encoding
// checked by the caller. The sub-delims the grammar also allows (",;=&!$'()*+") are refused: no
// host name carries one, and "a,b" or "a;b" is the shape servers split into a list or parameters.
bool is_host_name_char(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

bool is_valid_reg_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c == '%') {
      if (i + 2 >= name.size() || !std::isxdigit(static_cast<unsigned char>(name[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(name[i + 2])))
        return false;
      i += 2;
    } else if (!is_host_name_char(c)) {
      return false;
    }
  }
  return true;
}

// "[v6]" without a zone (RFC 6874 zones and IPvFuture name nothing a phone's request can reach).
bool is_valid_ip_literal(std::string_view literal) {
  if (literal.size() < 3 || literal.front() != '[' || literal.back() != ']') return false;
  const auto address = literal.substr(1, literal.size() - 2);
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (address.size() >= text.size()) return false;
  std::copy(address.begin(), address.end(), text.begin());
  in6_addr parsed{};
  return inet_pton(AF_INET6, text.data(), &parsed) == 1;
}

// 1 to 5 digits, 1 to 65535: port 0 and an empty port ("host:") name no origin, and a server
// that defaults the empty one and a server that refuses it disagree about where the request goes.
bool is_valid_port(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  unsigned value = 0;
  for (const char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value >= 1 && value <= 65535;
}

// The authority of an absolute-form target: between "://" and the path, query or fragment.
std::string_view target_authority(std::string_view target) {
  target.remove_prefix(target.find("://") + 3);
  return target.substr(0, target.find_first_of("/?#"));
}

}  // namespace

std::string_view trim_ows(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

bool transfer_coding_is_chunked(const HttpRequestHead& head) {
  const auto codings = transfer_codings(head);
  if (!codings || codings->empty() || !iequals(codings->back().name, "chunked")) return false;
  return std::count_if(codings->begin(), codings->end(),
                       [](const TransferCoding& c) { return iequals(c.name, "chunked"); }) == 1;
}

bool is_valid_host_authority(std::string_view authority) {
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(0, close + 1);
    const auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      has_port = true;
      port = rest.substr(1);
    }
    if (!is_valid_ip_literal(host)) return false;
  } else {
    // A reg-name or an IPv4 address holds no ':', so a second one ("a:1:2") makes no authority.
    const auto colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (!is_valid_reg_name(host)) return false;
  }
  return !has_port || is_valid_port(port);
}

void normalize_for_upstream(HttpRequestHead& head) {
  for (auto& h : head.headers) {
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
    // RFC 9112 section 5.1: a server MUST refuse whitespace between a field name and its colon;
    // forwarding it trimmed would hide a header some server behind takes for another one.
    if (!h.name.empty() && (h.name.back() == ' ' || h.name.back() == '\t'))
      return "whitespace between a header name and its colon";
    if (!h.name.empty() && (h.name.front() == ' ' || h.name.front() == '\t'))
      return "a header line that begins with whitespace (obs-fold)";
    if (!is_content_length && !is_transfer_encoding) {
      // "Transfer_Encoding", "Content-Length ", "\x01Content-Length": some server takes it for the
      // real one (underscores become dashes in CGI-style stacks, lenient parsers drop the rest).
      if (name_spells(h.name, "transferencoding")) return "a header name that resembles Transfer-Encoding";
      if (name_spells(h.name, "contentlength")) return "a header name that resembles Content-Length";
    }
    if (!is_token(h.name)) return "invalid header name";
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
      // RFC 9110 section 7.2; an empty Host is no authority either for an http(s) target (section 4.2.1).
      if (!is_valid_host_authority(trim_ows(h.value))) return "Host is not a valid authority";
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
  // The proxy routes an absolute-form request by this authority and sends it upstream as Host.
  if (is_absolute_form(head.target) && !is_valid_host_authority(target_authority(head.target)))
    return "the authority of the request target is not valid (userinfo, an empty or bad host, a bad port)";
  return std::nullopt;
}

}  // namespace leakguard
