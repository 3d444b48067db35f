#include "capture/har_reader.hpp"

#include <simdjson.h>

#include <cstdio>
#include <vector>

#include "common/ascii.hpp"
#include "detectors/decoders/base64.hpp"
#include "detectors/decoders/json.hpp"
#include "proxy/http_codec.hpp"

namespace leakguard {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;
using simdjson::SUCCESS;

// What one entry said, before the request is rebuilt from it. Strings are copied out of the
// parser: simdjson's string buffer is reused by the next document.
struct EntryFields {
  bool has_request = false;
  std::optional<std::string> method, url, http_version, started, server_ip;
  std::vector<HttpHeader> headers, cookies, params;
  std::optional<std::string> post_text;
  std::string mime_type, post_encoding;
};

// The string in `value`, or nullopt when it holds another type; such a value is left unread and
// the enclosing iterator skips it. Only JSON errors are returned.
error_code read_string(od::value& value, std::optional<std::string>& out) {
  od::json_type type;
  if (auto error = value.type().get(type)) return error;
  if (type != od::json_type::string) return SUCCESS;
  std::string_view text;
  if (auto error = value.get_string().get(text)) return error;
  out = std::string(text);
  return SUCCESS;
}

bool is_object(od::value& value, error_code& error) {
  od::json_type type;
  error = value.type().get(type);
  return !error && type == od::json_type::object;
}

bool is_array(od::value& value, error_code& error) {
  od::json_type type;
  error = value.type().get(type);
  return !error && type == od::json_type::array;
}

// Calls on_field(key, value) for every member of `object`, in file order.
template <typename OnField>
error_code for_each_field(od::object object, OnField&& on_field) {
  for (auto member : object) {
    od::field field;
    if (auto error = std::move(member).get(field)) return error;
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return error;
    if (auto error = on_field(key, field.value())) return error;
  }
  return SUCCESS;
}

// headers, cookies, postData.params: [{"name": ..., "value": ...}, ...]. Items that are not such
// objects are skipped; the rest of the entry still counts.
error_code read_pairs(od::value& value, std::vector<HttpHeader>& out) {
  error_code error;
  if (!is_array(value, error)) return error;
  od::array array;
  if ((error = value.get_array().get(array))) return error;
  for (auto item : array) {
    od::value element;
    if ((error = std::move(item).get(element))) return error;
    if (!is_object(element, error)) {
      if (error) return error;
      continue;
    }
    od::object object;
    if ((error = element.get_object().get(object))) return error;
    std::optional<std::string> name, text;
    error = for_each_field(object, [&](std::string_view key, od::value& member) -> error_code {
      if (key == "name") return read_string(member, name);
      if (key == "value") return read_string(member, text);
      return SUCCESS;
    });
    if (error) return error;
    if (name) out.push_back({std::move(*name), text.value_or("")});
  }
  return SUCCESS;
}

error_code read_post_data(od::value& value, EntryFields& entry) {
  error_code error;
  if (!is_object(value, error)) return error;
  od::object object;
  if ((error = value.get_object().get(object))) return error;
  return for_each_field(object, [&](std::string_view key, od::value& member) -> error_code {
    std::optional<std::string> text;
    if (key == "text") return read_string(member, entry.post_text);
    if (key == "params") return read_pairs(member, entry.params);
    if (key == "mimeType" || key == "encoding") {
      if (auto failed = read_string(member, text)) return failed;
      (key == "mimeType" ? entry.mime_type : entry.post_encoding) = text.value_or("");
    }
    return SUCCESS;
  });
}

error_code read_request(od::value& value, EntryFields& entry) {
  error_code error;
  if (!is_object(value, error)) return error;
  entry.has_request = true;
  od::object object;
  if ((error = value.get_object().get(object))) return error;
  return for_each_field(object, [&](std::string_view key, od::value& member) -> error_code {
    if (key == "method") return read_string(member, entry.method);
    if (key == "url") return read_string(member, entry.url);
    if (key == "httpVersion") return read_string(member, entry.http_version);
    if (key == "headers") return read_pairs(member, entry.headers);
    if (key == "cookies") return read_pairs(member, entry.cookies);
    if (key == "postData") return read_post_data(member, entry);
    return SUCCESS;  // queryString repeats the URL; sizes, comments and _vendor fields say nothing sent
  });
}

// application/x-www-form-urlencoded, for bodies a tool recorded only as postData.params.
void append_form_encoded(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') || (byte >= '0' && byte <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '*') {
      out.push_back(c);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(hex[byte >> 4]);
      out.push_back(hex[byte & 15]);
    }
  }
}

void set_header(std::vector<HttpHeader>& headers, std::string_view name, std::string value) {
  for (auto& header : headers)
    if (iequals(header.name, name)) {
      header.value = std::move(value);
      return;
    }
  headers.push_back({std::string(name), std::move(value)});
}

// The request the proxy would have built from this exchange; an error text when it cannot be.
std::optional<std::string> build_request(EntryFields& entry, std::size_t max_body_bytes, HarRequest& out) {
  if (!entry.has_request) return "no request object";
  if (!entry.method || entry.method->empty()) return "request has no method";
  if (!entry.url) return "request has no url";
  const std::string_view url = *entry.url;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "request url has no scheme";
  const std::string_view scheme = url.substr(0, scheme_end);
  out.https = iequals(scheme, "https") || iequals(scheme, "wss");
  if (!out.https && !iequals(scheme, "http") && !iequals(scheme, "ws"))
    return "request url is not http or https (" + std::string(scheme.substr(0, 16)) + ")";
  std::string_view rest = url.substr(scheme_end + 3);
  const auto authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  std::string_view authority = rest.substr(0, authority_end);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (!split_authority(authority, out.https ? 443 : 80, out.host, out.port) || out.host.empty())
    return "request url has a malformed host";
  rest.remove_prefix(authority_end);
  rest = rest.substr(0, rest.find('#'));  // a fragment is never sent

  HttpRequest& request = out.request;
  request.head.method = std::move(*entry.method);
  request.head.target = rest.starts_with('/') ? std::string(rest) : "/" + std::string(rest);
  const std::string_view version = entry.http_version ? std::string_view(*entry.http_version) : "HTTP/1.1";
  request.head.version_major = version.find('3') != std::string_view::npos   ? 3
                               : version.find('2') != std::string_view::npos ? 2
                                                                             : 1;
  request.head.version_minor = request.head.version_major == 1 && version.find("1.0") == std::string_view::npos;

  // As the HTTP/2 bridge does: pseudo-headers dropped, :authority read as Host, cookie crumbs as
  // one Cookie header.
  std::string authority_header;
  std::string cookie;
  bool has_host = false;
  for (auto& header : entry.headers) {
    if (header.name.starts_with(':')) {
      if (header.name == ":authority") authority_header = std::move(header.value);
    } else if (iequals(header.name, "cookie")) {
      if (!cookie.empty()) cookie += "; ";
      cookie += header.value;
    } else {
      has_host = has_host || iequals(header.name, "host");
      request.head.headers.push_back(std::move(header));
    }
  }
  if (!has_host)
    request.head.headers.insert(request.head.headers.begin(),
                                HttpHeader{"Host", authority_header.empty() ? std::string(authority) : authority_header});
  if (cookie.empty())  // some tools list cookies only in the cookies array
    for (const auto& crumb : entry.cookies) {
      if (!cookie.empty()) cookie += "; ";
      cookie += crumb.name + "=" + crumb.value;
    }
  if (!cookie.empty()) request.head.headers.push_back({"Cookie", std::move(cookie)});

  std::string& body = request.body;
  if (entry.post_text) {
    if (iequals(entry.post_encoding, "base64")) {
      if (!decoders::base64_decode(*entry.post_text, body)) return "postData.text is not valid base64";
    } else {
      body = std::move(*entry.post_text);
    }
    if (!body.empty() && !entry.mime_type.empty() && !request.head.header("content-type"))
      request.head.headers.push_back({"Content-Type", entry.mime_type});
  } else if (!entry.params.empty()) {
    // Params are recorded decoded; the body is rebuilt as a form so the form decoder reads it.
    for (const auto& param : entry.params) {
      if (!body.empty()) body.push_back('&');
      append_form_encoded(body, param.name);
      body.push_back('=');
      append_form_encoded(body, param.value);
    }
    set_header(request.head.headers, "Content-Type", "application/x-www-form-urlencoded");
  }
  if (body.size() > max_body_bytes) {
    body.resize(max_body_bytes);
    request.body_truncated = true;
  }

  if (entry.server_ip) {
    std::string_view ip = *entry.server_ip;
    if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);  // Chrome
    out.server_ip = std::string(ip);
  }
  if (entry.started) out.started = normalize_har_time(*entry.started).value_or("");
  return std::nullopt;
}

class HarWalker {
 public:
  HarWalker(std::size_t max_body_bytes, decoders::FunctionRef<void(HarRequest&&)> on_request,
            decoders::FunctionRef<void(std::size_t, std::string_view)> on_bad_entry)
      : max_body_bytes_(max_body_bytes), on_request_(on_request), on_bad_entry_(on_bad_entry) {}

  error_code walk(od::document& document, HarReadResult& result) {
    od::object root;
    error_code error = document.get_object().get(root);
    if (error == simdjson::INCORRECT_TYPE) {
      result.is_har = false;
      return SUCCESS;
    }
    if (error) return error;
    bool found = false;
    error = for_each_field(root, [&](std::string_view key, od::value& value) -> error_code {
      if (key != "log" || found) return SUCCESS;
      error_code failed;
      if (!is_object(value, failed)) return failed;
      od::object log;
      if ((failed = value.get_object().get(log))) return failed;
      return for_each_field(log, [&](std::string_view name, od::value& entries) -> error_code {
        if (name != "entries" || found) return SUCCESS;
        error_code wrong;
        if (!is_array(entries, wrong)) return wrong;
        found = true;
        return walk_entries(entries, result);
      });
    });
    if (error) return error;
    result.is_har = found;
    // Past the end there is no location: anything else is a second document or garbage.
    if (document.current_location().error() != simdjson::OUT_OF_BOUNDS) return simdjson::TRAILING_CONTENT;
    return SUCCESS;
  }

  // Where the walk is, for the message of a JSON error: "log.entries[7]".
  std::string where() const { return in_entry_ ? "log.entries[" + std::to_string(index_) + "]" : ""; }

 private:
  error_code walk_entries(od::value& value, HarReadResult& result) {
    od::array array;
    if (auto error = value.get_array().get(array)) return error;
    for (auto item : array) {
      in_entry_ = true;
      od::value element;
      if (auto error = std::move(item).get(element)) return error;
      EntryFields fields;
      error_code error;
      if (is_object(element, error)) {
        od::object object;
        if ((error = element.get_object().get(object))) return error;
        error = for_each_field(object, [&](std::string_view key, od::value& member) -> error_code {
          if (key == "request") return read_request(member, fields);
          if (key == "startedDateTime") return read_string(member, fields.started);
          if (key == "serverIPAddress") return read_string(member, fields.server_ip);
          return SUCCESS;  // response, timings, cache, _vendor fields
        });
      }
      if (error) return error;
      ++result.entries;
      HarRequest request;
      request.index = index_;
      if (const auto problem = build_request(fields, max_body_bytes_, request)) {
        ++result.bad_entries;
        on_bad_entry_(index_, *problem);
      } else {
        on_request_(std::move(request));
      }
      ++index_;
      in_entry_ = false;
    }
    return SUCCESS;
  }

  std::size_t max_body_bytes_;
  decoders::FunctionRef<void(HarRequest&&)> on_request_;
  decoders::FunctionRef<void(std::size_t, std::string_view)> on_bad_entry_;
  std::size_t index_ = 0;
  bool in_entry_ = false;
};

std::size_t line_of(std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
long long days_from_civil(long long year, unsigned month, unsigned day) {
  year -= month <= 2;
  const long long era = (year >= 0 ? year : year - 399) / 400;
  const auto yoe = static_cast<unsigned>(year - era * 400);
  const unsigned doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

bool digits(std::string_view text, std::size_t at, std::size_t count, int& out) {
  if (at + count > text.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

std::size_t har_padding() { return simdjson::SIMDJSON_PADDING; }

std::optional<std::string> normalize_har_time(std::string_view text) {
  int year, month, day, hour, minute, second;
  if (!digits(text, 0, 4, year) || text.size() < 19 || text[4] != '-' || !digits(text, 5, 2, month) ||
      text[7] != '-' || !digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
      !digits(text, 11, 2, hour) || text[13] != ':' || !digits(text, 14, 2, minute) || text[16] != ':' ||
      !digits(text, 17, 2, second))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::size_t at = 19;
  int millis = 0;
  if (at < text.size() && text[at] == '.') {
    std::size_t count = 0;
    for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++count)
      if (count < 3) millis = millis * 10 + (text[at] - '0');
    if (count == 0) return std::nullopt;
    for (; count < 3; ++count) millis *= 10;
  }
  int offset_minutes = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    int hours, minutes;
    const bool colon = at + 3 < text.size() && text[at + 3] == ':';
    if (!digits(text, at + 1, 2, hours) || !digits(text, at + (colon ? 4 : 3), 2, minutes)) return std::nullopt;
    offset_minutes = (text[at] == '-' ? -1 : 1) * (hours * 60 + minutes);
    at += colon ? 6 : 5;
  } else {
    return std::nullopt;  // HAR 1.2 requires the zone; a local time would be a guess
  }
  if (at != text.size()) return std::nullopt;
  long long ms = ((days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
                   hour * 3600 + minute * 60 + second - offset_minutes * 60LL) *
                  1000) +
                 millis;
  const long long days = (ms >= 0 ? ms : ms - 86399999) / 86400000;
  const auto rest = static_cast<unsigned>(ms - days * 86400000);  // milliseconds into the day
  // civil_from_days
  const long long z = days + 719468;
  const long long era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const long long y = static_cast<long long>(yoe) + era * 400 + (m <= 2);
  if (y < 0 || y > 9999) return std::nullopt;
  char out[48];
  std::snprintf(out, sizeof out, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", static_cast<unsigned>(y), m, d,
                rest / 3600000 % 24, rest / 60000 % 60, rest / 1000 % 60, rest % 1000);
  return std::string(out);
}

HarReadResult read_har(std::string& buffer, std::size_t max_body_bytes,
                       decoders::FunctionRef<void(HarRequest&&)> on_request,
                       decoders::FunctionRef<void(std::size_t, std::string_view)> on_bad_entry) {
  HarReadResult result;
  const std::size_t size = buffer.size();
  if (size > 0xFFFFFFFFu - simdjson::SIMDJSON_PADDING) {
    result.error = "larger than 4 GiB, more than the JSON parser takes";
    return result;
  }
  const std::size_t start = std::string_view(buffer).starts_with("\xEF\xBB\xBF") ? 3 : 0;  // UTF-8 BOM
  buffer.append(simdjson::SIMDJSON_PADDING + 1, '\0');  // + 1: room for the '}' of a cut file
  char* const text = buffer.data() + start;
  const std::string_view whole(text, size - start);
  std::size_t usable = whole.size();
  od::parser parser;
  od::document document;
  const auto parse = [&] {
    return parser.iterate(simdjson::padded_string_view(text, usable, buffer.size() - start)).get(document);
  };
  error_code error = parse();
  if (error == simdjson::UNCLOSED_STRING) usable = decoders::unclosed_string(whole);  // cut inside a string
  // simdjson refuses an object whose last byte is not '}' before reading any of it. A file cut
  // part-way gets one, so the entries before the cut are walked and scanned; the walk then fails
  // inside the entry that was cut, and that is the error reported.
  const auto first = whole.find_first_not_of(" \t\r\n");
  const auto last = whole.substr(0, usable).find_last_not_of(" \t\r\n");
  const bool object = first != std::string_view::npos && whole[first] == '{';
  const bool cut = usable < whole.size() || (object && (last == std::string_view::npos || whole[last] != '}'));
  const char replaced = text[usable];
  if (cut) {
    text[usable++] = '}';
    error = parse();
  }
  HarWalker walker(max_body_bytes, on_request, on_bad_entry);
  const bool parsed = !error;  // else simdjson's first pass refused the text: no document to ask
  if (parsed) error = walker.walk(document, result);
  const char* location = nullptr;
  const bool located = parsed && !document.current_location().get(location);
  if (cut) {
    text[--usable] = replaced;
    if (!error) error = simdjson::INCOMPLETE_ARRAY_OR_OBJECT;  // never a whole HAR, whatever the walk saw
  }
  if (error) {
    // A failure before the cut is a syntax error (trailing garbage, say), not the cut itself.
    const std::size_t offset = located ? static_cast<std::size_t>(location - text) : whole.size();
    const bool truncated = cut && offset >= usable;
    const std::size_t at = truncated ? whole.size() : offset;
    const std::string where = walker.where();
    result.error = (truncated ? std::string("truncated: the file ends")
                              : "not valid JSON (" + std::string(simdjson::error_message(error)) + ")") +
                   (truncated || located ? " at byte " + std::to_string(at + start) + ", line " +
                                               std::to_string(line_of(whole, at))
                                         : "") +
                   (where.empty() ? "" : ", inside " + where);
    result.is_har = true;  // a broken file is reported, not scanned as raw bytes
  }
  buffer.resize(size);
  return result;
}

}  // namespace leakguard
