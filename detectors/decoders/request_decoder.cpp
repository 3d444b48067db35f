#include "detectors/decoders/request_decoder.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "common/ascii.hpp"
#include "detectors/decoders/base64.hpp"
#include "detectors/decoders/compression.hpp"
#include "detectors/decoders/form.hpp"
#include "detectors/decoders/hex.hpp"
#include "detectors/decoders/json.hpp"
#include "detectors/decoders/jwt.hpp"
#include "detectors/decoders/multipart.hpp"
#include "detectors/decoders/url.hpp"
#include "detectors/decoders/xml.hpp"

namespace leakguard {
namespace {

bool icontains(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i)
    if (iequals(haystack.substr(i, needle.size()), needle)) return true;
  return false;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// Decoded base64 is kept only if it is text (or a known container): random bytes are what a hash
// or a cipher gives, and scanning them would only waste time. Text is ASCII without control
// characters, or valid UTF-8 (random high bytes almost never are).
bool mostly_printable(std::string_view bytes) {
  if (bytes.empty()) return false;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) ++bad;
      continue;
    }
    std::size_t continuation = c >= 0xf0 && c < 0xf5 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : 0;
    if (continuation == 0 || c >= 0xf5) return false;
    for (; continuation > 0; --continuation) {
      if (++i >= bytes.size()) return true;  // cut in the middle of a character: still text
      if ((static_cast<unsigned char>(bytes[i]) & 0xc0) != 0x80) return false;
    }
  }
  return bad * 100 <= bytes.size();
}

bool printable_ascii(std::string_view bytes) {
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c >= 0x7f) return false;
  }
  return !bytes.empty();
}

std::string_view join_layers(Arena& arena, std::string_view chain, std::string_view layer) {
  if (chain.empty()) return layer;
  return arena.concat(chain, ">", layer);
}

// Decodes a (parameter) name for `where`; percent escapes resolved, same bytes otherwise.
std::string_view decoded_name(Arena& arena, std::string_view name) {
  if (!decoders::has_percent_escape(name)) return name;
  thread_local std::string scratch;
  scratch.clear();
  decoders::percent_decode(name, scratch);
  return arena.copy(scratch);
}

// UUIDs and dashed hex are valid URL-safe base64, but never base64 of anything.
bool hex_and_dashes(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

// The fast path for a field: most values (a language tag, "keep-alive", a user agent, a version)
// are plain text with nothing to decode in them. True only when sniff(value, false) must answer
// Shape::raw and there is no percent escape, answered by a pass that stops early on ordinary text
// instead of the sniffers' separate passes and the copies expand_field makes before them. The
// field itself is still scanned by every detector, with its place and key.
bool plain_value(std::string_view value) {
  if (value.find('%') != std::string_view::npos || value.find('&') != std::string_view::npos) return false;  // url, form
  if (static_cast<unsigned char>(value.front()) == 0x1f) return false;                                       // gzip
  const std::string_view text = trim(value);
  if (text.size() < 2) return true;
  const char first = text.front();
  if (first == '{' || first == '[' || first == '<' || first == '\xEF') return false;  // JSON, XML (BOM)
  if (decoders::jwt_start(text) != std::string_view::npos) return false;  // "Bearer eyJ...": spaces and dots, yet decodable
  // Hex and base64 need 16 bytes. Ids, UUIDs and hashes: hex (with dashes) is decoded only when
  // it is hex of text. Anything else needs all its bytes in the base64 alphabet. (Hex digits and
  // dashes are in it: one full pass at most, and ordinary text stops at its first letter.)
  if (text.size() < 16) return true;
  if (hex_and_dashes(text)) return !decoders::looks_like_hex_text(text, 16);
  return decoders::has_non_base64_byte(text);
}

// HttpRequestHead::header() lives with the codec (leakguard_http); detection needs no codec.
std::string_view first_header(const HttpRequestHead& head, std::string_view name) {
  for (const auto& header : head.headers)
    if (iequals(header.name, name)) return header.value;
  return {};
}

}  // namespace

std::uint32_t RequestDecoder::add_buffer(const ScanBuffer& buffer) {
  view_.buffers.push_back(buffer);
  return static_cast<std::uint32_t>(view_.buffers.size() - 1);
}

bool RequestDecoder::budget(std::size_t bytes) {
  if (decoded_bytes_ + bytes > limits_.max_decoded_bytes) return false;
  decoded_bytes_ += bytes;
  return true;
}

void RequestDecoder::note_limit(const Place& where, std::string_view encoding) {
  if (limit_noted_) return;
  limit_noted_ = true;
  Anomaly anomaly;
  anomaly.anomaly = "decode_limit";
  anomaly.where = where.str();
  anomaly.encoding = std::string(encoding);
  anomaly.detail = "decoding bound reached (depth, size, fields or buffers); the rest was not decoded";
  anomaly.output_bytes = decoded_bytes_;
  anomalies_.push_back(std::move(anomaly));
}

void RequestDecoder::decode_request(const HttpRequest& request, std::span<const std::uint8_t> skip_headers) {
  add_head(request, skip_headers);
  if (!request.body.empty()) {
    Origin origin;
    origin.mapping = Origin::Mapping::identity;
    origin.part = RequestPart::body;
    add_body(request.body, first_header(request.head, "content-type"), first_header(request.head, "content-encoding"),
             origin);
  }
}

void RequestDecoder::decode_body(std::string_view body, std::string_view content_type, std::string_view content_encoding) {
  Origin origin;
  origin.mapping = Origin::Mapping::identity;
  origin.part = RequestPart::body;
  add_body(body, content_type, content_encoding, origin);
}

void RequestDecoder::add_stream_window(std::string_view window, std::uint64_t stream_offset, std::size_t report_from,
                                       bool complete) {
  ScanBuffer buffer;
  buffer.bytes = window;
  buffer.where = "stream";
  buffer.origin.mapping = Origin::Mapping::identity;
  buffer.origin.part = RequestPart::stream;
  buffer.origin.base = stream_offset;
  buffer.report_from = report_from;
  buffer.complete = complete;
  buffer.first_field = static_cast<std::uint32_t>(view_.fields.size());
  add_buffer(buffer);
}

void RequestDecoder::add_head(const HttpRequest& request, std::span<const std::uint8_t> skip_headers) {
  const HttpRequestHead& head = request.head;
  const auto skipped = [&](const std::vector<HttpHeader>& list, std::size_t i) {
    return &list == &head.headers && i < skip_headers.size() && skip_headers[i] != 0;
  };
  std::string& text = arena_.buffer();
  std::size_t total = head.target.size() + 1;
  for (const auto& header : head.headers) total += header.name.size() + header.value.size() + 3;
  for (const auto& header : request.trailers) total += header.name.size() + header.value.size() + 3;
  text.reserve(total);
  // One contiguous text, so that each detector scans the whole head in a single pass; '\n'
  // separators keep matches from running from one header into the next.
  text += head.target;
  text += '\n';
  for (const auto* list : {&head.headers, &request.trailers})
    for (std::size_t i = 0; i < list->size(); ++i) {
      if (skipped(*list, i)) continue;
      const HttpHeader& header = (*list)[i];
      text += header.name;
      text += ": ";
      text += header.value;
      text += '\n';
    }

  ScanBuffer buffer;
  buffer.bytes = text;
  buffer.where = "head";
  buffer.first_field = static_cast<std::uint32_t>(view_.fields.size());
  const std::string_view target = std::string_view(text).substr(0, head.target.size());

  auto identity = [](RequestPart part, std::size_t index, std::uint64_t base) {
    Origin origin;
    origin.mapping = Origin::Mapping::identity;
    origin.part = part;
    origin.header_index = static_cast<std::uint32_t>(index);
    origin.base = base;
    return origin;
  };
  auto add_field = [&](std::size_t begin, std::size_t end, Place where, std::string_view key,
                       std::uint32_t group, Origin origin) {
    if (end <= begin) return;
    FieldSpan field;
    field.begin = static_cast<std::uint32_t>(begin);
    field.end = static_cast<std::uint32_t>(end);
    field.where = where;
    field.key = key;
    field.group = group;
    field.origin = origin;
    view_.fields.push_back(field);
  };

  // Target: path, then each query parameter.
  std::size_t path_begin = 0;
  bool has_path = true;
  if (!target.empty() && target.front() != '/') {
    const std::size_t scheme = target.find("://");
    if (scheme != std::string_view::npos && scheme < 16) {
      path_begin = std::min(target.find('/', scheme + 3), target.size());
    } else {
      has_path = false;  // authority-form (CONNECT) or '*'
      add_field(0, target.size(), "target", {}, next_group(), identity(RequestPart::target, 0, 0));
    }
  }
  if (has_path) {
    const std::size_t fragment = std::min(target.find('#', path_begin), target.size());
    const std::size_t question = std::min(target.find('?', path_begin), fragment);
    add_field(path_begin, question, "path", {}, next_group(), identity(RequestPart::target, 0, path_begin));
    if (question < fragment) {
      const std::size_t query_begin = question + 1;
      const std::uint32_t group = next_group();
      decoders::parse_form(target.substr(query_begin, fragment - query_begin), limits_.max_fields,
                           [&](const decoders::FormPair& pair) {
                             if (pair.has_value) {
                               const std::string_view name = decoded_name(arena_, pair.name);
                               const std::size_t begin = query_begin + pair.value_offset;
                               add_field(begin, begin + pair.value.size(), Place("query:", name), name, group,
                                         identity(RequestPart::target, 0, begin));
                             } else {
                               const std::size_t begin = query_begin + pair.name_offset;
                               add_field(begin, begin + pair.name.size(), "query", {}, group,
                                         identity(RequestPart::target, 0, begin));
                             }
                           });
    }
  }

  // Headers and trailers: one field per value, one per cookie.
  std::size_t pos = head.target.size() + 1;
  for (int list = 0; list < 2; ++list) {
    const auto& headers = list == 0 ? head.headers : request.trailers;
    const RequestPart part = list == 0 ? RequestPart::header : RequestPart::trailer;
    const std::string_view prefix = list == 0 ? "header:" : "trailer:";
    const std::uint32_t group = next_group();
    for (std::size_t i = 0; i < headers.size(); ++i) {
      if (skipped(headers, i)) continue;  // not in `text` either; origins keep the real index i
      const auto& header = headers[i];
      const std::size_t value_begin = pos + header.name.size() + 2;
      if (iequals(header.name, "cookie")) {
        const std::uint32_t cookie_group = next_group();
        const std::string_view value = std::string_view(text).substr(value_begin, header.value.size());
        std::size_t item = 0;
        while (item < value.size()) {
          std::size_t end = value.find(';', item);
          if (end == std::string_view::npos) end = value.size();
          std::size_t begin = item;
          while (begin < end && value[begin] == ' ') ++begin;
          const std::size_t equals = value.substr(begin, end - begin).find('=');
          if (equals != std::string_view::npos) {
            const std::string_view name = value.substr(begin, equals);
            const std::size_t value_start = begin + equals + 1;
            add_field(value_begin + value_start, value_begin + end, Place("cookie:", name), name, cookie_group,
                      identity(part, i, value_start));
          } else {
            add_field(value_begin + begin, value_begin + end, "cookie", {}, cookie_group, identity(part, i, begin));
          }
          item = end + 1;
        }
      } else {
        const std::string_view name = std::string_view(text).substr(pos, header.name.size());
        add_field(value_begin, value_begin + header.value.size(), Place(prefix, name, true), name, group,
                  identity(part, i, 0));
      }
      pos = value_begin + header.value.size() + 1;
    }
  }
  buffer.field_count = static_cast<std::uint32_t>(view_.fields.size() - buffer.first_field);
  const std::uint32_t index = add_buffer(buffer);
  expand_fields(index);
}

namespace {
struct Codings {
  std::vector<decoders::Compression> list;  // in the order they were applied
  bool all_known = true;
};
Codings parse_codings(std::string_view header) {
  Codings codings;
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t comma = header.find(',', pos);
    if (comma == std::string_view::npos) comma = header.size();
    const std::string_view token = trim(header.substr(pos, comma - pos));
    if (!token.empty() && !iequals(token, "identity")) {
      if (auto compression = decoders::compression_from_token(token))
        codings.list.push_back(*compression);
      else
        codings.all_known = false;
    }
    pos = comma + 1;
  }
  return codings;
}
}  // namespace

void RequestDecoder::add_body(std::string_view body, std::string_view content_type, std::string_view content_encoding,
                              Origin origin) {
  if (body.empty()) return;
  Hint hint;
  const std::string_view media = trim(content_type.substr(0, content_type.find(';')));
  if (icontains(media, "json")) {
    hint.shape = Shape::json;
  } else if (icontains(media, "x-www-form-urlencoded")) {
    hint.shape = Shape::form;
  } else if (media.size() >= 10 && iequals(media.substr(0, 10), "multipart/")) {
    hint.shape = Shape::multipart;
    hint.boundary = decoders::multipart_boundary(content_type);
  } else if (icontains(media, "xml")) {
    hint.shape = Shape::xml;
  }

  ScanBuffer buffer;
  buffer.bytes = body;
  buffer.where = "body";
  buffer.origin = origin;
  buffer.first_field = static_cast<std::uint32_t>(view_.fields.size());

  const Codings codings = parse_codings(content_encoding);
  if (codings.list.empty() || !codings.all_known) {
    analyze_buffer(add_buffer(buffer), hint, true);
    return;
  }
  // Compressed: the compressed bytes say nothing; only the decoded text is scanned.
  std::string_view current = body;
  ScanBuffer parent = buffer;
  for (auto it = codings.list.rbegin(); it != codings.list.rend(); ++it) {
    const std::string_view layer = decoders::to_string(*it);
    std::string& out = arena_.buffer();
    const std::size_t room = limits_.max_decoded_bytes - std::min(decoded_bytes_, limits_.max_decoded_bytes);
    const decoders::DecompressStatus status = decoders::decompress(*it, current, out, room);
    const std::string_view chain = join_layers(arena_, parent.encoding, layer);
    if (status == decoders::DecompressStatus::output_limit ||
        (out.size() >= limits_.ratio_min_output && out.size() / std::max<std::size_t>(current.size(), 1) > limits_.max_ratio)) {
      Anomaly anomaly;
      anomaly.anomaly = "decompression_bomb";
      anomaly.where = "body";
      anomaly.encoding = std::string(chain);
      anomaly.detail = status == decoders::DecompressStatus::output_limit
                           ? "decompressed size exceeds the inspection bound of " + std::to_string(room) + " bytes"
                           : "compression ratio above " + std::to_string(limits_.max_ratio) + ":1";
      anomaly.input_bytes = current.size();
      anomaly.output_bytes = out.size();
      anomalies_.push_back(std::move(anomaly));
    }
    if (out.empty()) {
      // Not what the header said: look at the bytes as they are.
      analyze_buffer(add_buffer(buffer), hint, true);
      return;
    }
    decoded_bytes_ += out.size();
    parent.bytes = out;
    parent.encoding = chain;
    parent.origin = Origin{};
    parent.depth += 1;
    current = out;
  }
  analyze_buffer(add_buffer(parent), hint, true);
}

RequestDecoder::Shape RequestDecoder::sniff(std::string_view bytes, bool whole_body) const {
  const std::string_view text = trim(bytes);
  if (text.size() < 2) return Shape::raw;
  if (decoders::looks_like_json(text)) return Shape::json;
  if (decoders::looks_like_xml(text)) return Shape::xml;
  if (decoders::looks_like_gzip(bytes)) return Shape::gzip;
  // A JWT has dots, which no base64 blob (also often "eyJ...") has; decode_jwt checks the rest.
  if (decoders::jwt_start(text) != std::string_view::npos && text.find('.') != std::string_view::npos) return Shape::jwt;
  if (text.size() >= 16) {
    if (decoders::looks_like_hex_text(text, 16)) return Shape::hex;
    if (!hex_and_dashes(text) && decoders::looks_like_base64(text, 16)) return Shape::base64;
  }
  // A lone "a=b" inside a header or a JSON string is more often plain text than a form.
  if ((whole_body || text.find('&') != std::string_view::npos) && decoders::looks_like_form(text)) return Shape::form;
  return Shape::raw;
}

void RequestDecoder::expand_fields(std::uint32_t buffer, Hint hint) {
  const std::uint32_t first = view_.buffers[buffer].first_field;
  const std::uint32_t count = view_.buffers[buffer].field_count;
  for (std::uint32_t i = first; i < first + count; ++i) {
    if (view_.fields[i].decoded & decoded_all) continue;  // already has its decoded child
    expand_field(buffer, i, hint);
  }
}

void RequestDecoder::expand_field(std::uint32_t buffer_index, std::uint32_t field_index, Hint hint) {
  if (view_.buffers.size() >= limits_.max_buffers) {
    note_limit(view_.fields[field_index].where, view_.buffers[buffer_index].encoding);
    return;
  }
  {
    const FieldSpan& field = view_.fields[field_index];
    const std::string_view value = view_.buffers[buffer_index].bytes.substr(field.begin, field.end - field.begin);
    if (value.size() < 3 || (hint.shape == Shape::raw && plain_value(value))) return;
  }
  const ScanBuffer parent = view_.buffers[buffer_index];
  const FieldSpan field = view_.fields[field_index];
  if (parent.depth >= limits_.max_depth) return;
  const std::string_view value = parent.bytes.substr(field.begin, field.end - field.begin);

  if (decoders::has_percent_escape(value)) {
    std::string* out = &arena_.buffer();
    decoders::percent_decode(value, *out);
    std::string_view layers = "url";
    // Double and triple encoding happen (a URL inside a parameter inside a URL).
    for (int round = 0; round < 2 && decoders::has_percent_escape(*out); ++round) {
      std::string* next = &arena_.buffer();
      decoders::percent_decode(*out, *next);
      out = next;
      layers = round == 0 ? "url>url" : "url>url>url";
    }
    if (!budget(out->size())) {
      note_limit(field.where, parent.encoding);
      return;
    }
    ScanBuffer child;
    child.bytes = *out;
    child.encoding = join_layers(arena_, parent.encoding, layers);
    child.where = field.where;
    child.key = field.key;
    child.depth = parent.depth + 1;
    child.first_field = static_cast<std::uint32_t>(view_.fields.size());
    if (layers == "url") {
      // One layer of percent-encoding still lets the policy redact in place.
      if (field.origin.mapping == Origin::Mapping::identity) {
        child.origin = field.origin;
        child.origin.mapping = Origin::Mapping::percent;
        child.origin.raw = value;
      } else if (parent.origin.mapping == Origin::Mapping::identity) {
        child.origin = parent.origin;
        child.origin.mapping = Origin::Mapping::percent;
        child.origin.base = parent.origin.base + field.begin;
        child.origin.raw = value;
      }
    }
    view_.fields[field_index].decoded |= decoded_all;
    analyze_buffer(add_buffer(child), hint, false);
    return;
  }

  const Shape shape = hint.shape != Shape::raw ? hint.shape : sniff(value, false);
  switch (shape) {
    case Shape::json:
    case Shape::form:
    case Shape::xml:
    case Shape::multipart: {
      // The same bytes, parsed: a view, not a copy.
      ScanBuffer child;
      child.bytes = value;
      child.encoding = parent.encoding;
      child.where = field.where;
      child.key = field.key;
      child.depth = parent.depth + 1;
      child.first_field = static_cast<std::uint32_t>(view_.fields.size());
      if (field.origin.mapping == Origin::Mapping::identity) {
        child.origin = field.origin;
      } else if (parent.origin.mapping == Origin::Mapping::identity) {
        child.origin = parent.origin;
        child.origin.base = parent.origin.base + field.begin;
      } else if (parent.origin.mapping == Origin::Mapping::percent) {
        child.origin = parent.origin;
        child.origin.decoded_skip = parent.origin.decoded_skip + field.begin;
      }
      const std::uint32_t index = add_buffer(child);
      Hint child_hint = hint;
      child_hint.shape = shape;
      analyze_buffer(index, child_hint, false);
      if (view_.buffers[index].field_count == 0 && view_.buffers.size() == index + 1u &&
          view_.buffers[index].decoded == decoded_none) {
        view_.buffers.pop_back();  // not what it looked like: the parent field covers these bytes
      } else {
        view_.fields[field_index].decoded |= decoded_all;
      }
      return;
    }
    case Shape::hex:
      // Hex that is not hex of text is a hash or a key; base64 of text never looks like hex.
      if (decode_child(value, parent, field.where, field.key, Shape::hex)) view_.fields[field_index].decoded |= decoded_hex;
      return;
    case Shape::base64:
      if (decode_child(value, parent, field.where, field.key, Shape::base64))
        view_.fields[field_index].decoded |= decoded_base64;
      return;
    case Shape::gzip:
      if (decode_child(value, parent, field.where, field.key, Shape::gzip))
        view_.fields[field_index].decoded |= decoded_all;
      return;
    case Shape::jwt:
      if (decode_jwt(value, parent, field.where, field.key)) view_.fields[field_index].decoded |= decoded_base64;
      return;
    case Shape::raw:
      return;
  }
}

void RequestDecoder::analyze_buffer(std::uint32_t index, Hint hint, bool allow_percent) {
  const ScanBuffer buffer = view_.buffers[index];
  if (buffer.depth > limits_.max_depth) return;
  Shape shape = hint.shape != Shape::raw ? hint.shape : sniff(buffer.bytes, true);
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool parsed = false;
    switch (shape) {
      case Shape::json: parsed = parse_json(index); break;
      case Shape::form: parsed = parse_form(index, arena_.concat(buffer.where.in(arena_), ".form:")); break;
      case Shape::xml: parsed = parse_xml(index); break;
      case Shape::multipart: parsed = parse_multipart(index, hint.boundary); break;
      default: break;
    }
    if (parsed) return;
    if (shape == Shape::raw || shape == Shape::base64 || shape == Shape::hex || shape == Shape::gzip || shape == Shape::jwt)
      break;
    // The Content-Type promised a structure the bytes do not have ("encrypted-json" holding
    // base64): sniff what they really are.
    const Shape sniffed = sniff(buffer.bytes, true);
    if (sniffed == shape) return;
    shape = sniffed;
  }
  const std::string_view text = trim(buffer.bytes);
  switch (shape) {
    case Shape::hex:
      if (decode_child(text, buffer, buffer.where, buffer.key, Shape::hex)) view_.buffers[index].decoded |= decoded_hex;
      return;
    case Shape::base64:
      if (decode_child(text, buffer, buffer.where, buffer.key, Shape::base64))
        view_.buffers[index].decoded |= decoded_base64;
      return;
    case Shape::gzip:
      if (decode_child(buffer.bytes, buffer, buffer.where, buffer.key, Shape::gzip))
        view_.buffers[index].decoded |= decoded_all;
      return;
    case Shape::jwt:
      if (decode_jwt(text, buffer, buffer.where, buffer.key)) view_.buffers[index].decoded |= decoded_base64;
      return;
    default:
      break;
  }
  if (allow_percent && buffer.depth < limits_.max_depth && decoders::has_percent_escape(buffer.bytes)) {
    std::string& out = arena_.buffer();
    decoders::percent_decode(buffer.bytes, out);
    if (!budget(out.size())) return note_limit(buffer.where, buffer.encoding);
    const std::uint32_t child = owned_child(out, buffer, buffer.where, buffer.key, "url");
    view_.buffers[index].decoded |= decoded_all;
    analyze_buffer(child, {}, false);
  }
}

std::uint32_t RequestDecoder::owned_child(std::string_view bytes, const ScanBuffer& parent, Place where,
                                          std::string_view key, std::string_view layer) {
  ScanBuffer child;
  child.bytes = bytes;
  child.encoding = join_layers(arena_, parent.encoding, layer);
  child.where = where;
  child.key = key;
  child.depth = parent.depth + 1;
  child.first_field = static_cast<std::uint32_t>(view_.fields.size());
  return add_buffer(child);
}

bool RequestDecoder::decode_child(std::string_view bytes, const ScanBuffer& parent, Place where, std::string_view key,
                                  Shape shape) {
  if (parent.depth + 1 > limits_.max_depth) return false;
  if (view_.buffers.size() >= limits_.max_buffers) {
    note_limit(where, parent.encoding);
    return false;
  }
  const std::size_t room = limits_.max_decoded_bytes - std::min(decoded_bytes_, limits_.max_decoded_bytes);
  std::string& out = arena_.buffer();
  std::string_view layer;
  switch (shape) {
    case Shape::hex:
      if (!decoders::looks_like_hex(bytes, 16) || !decoders::hex_decode(bytes, out) || !printable_ascii(out)) return false;
      layer = "hex";
      break;
    case Shape::base64:
      if (!decoders::base64_decode(bytes, out, room)) {
        if (out.size() >= room) note_limit(where, parent.encoding);
        return false;
      }
      if (!mostly_printable(out) && !decoders::looks_like_gzip(out)) return false;
      layer = "base64";
      break;
    case Shape::jwt:
      // The claims are JSON text; anything else (ciphertext) is not worth a child.
      if (!decoders::base64_decode(bytes, out, room) || !mostly_printable(out)) return false;
      layer = "jwt";
      break;
    case Shape::gzip: {
      const auto status = decoders::decompress(decoders::Compression::gzip, bytes, out, room);
      const std::string_view chain = join_layers(arena_, parent.encoding, "gzip");
      if (status == decoders::DecompressStatus::output_limit ||
          (out.size() >= limits_.ratio_min_output && out.size() / std::max<std::size_t>(bytes.size(), 1) > limits_.max_ratio)) {
        Anomaly anomaly;
        anomaly.anomaly = "decompression_bomb";
        anomaly.where = where.str();
        anomaly.encoding = std::string(chain);
        anomaly.detail = status == decoders::DecompressStatus::output_limit
                             ? "decompressed size exceeds the inspection bound of " + std::to_string(room) + " bytes"
                             : "compression ratio above " + std::to_string(limits_.max_ratio) + ":1";
        anomaly.input_bytes = bytes.size();
        anomaly.output_bytes = out.size();
        anomalies_.push_back(std::move(anomaly));
      }
      if (out.empty()) return false;
      layer = "gzip";
      break;
    }
    default:
      return false;
  }
  if (!budget(out.size())) {
    note_limit(where, parent.encoding);
    return false;
  }
  const std::uint32_t child = owned_child(out, parent, where, key, layer);
  analyze_buffer(child, {}, true);
  return true;
}

bool RequestDecoder::decode_jwt(std::string_view bytes, const ScanBuffer& parent, Place where, std::string_view key) {
  // The payload only: the claims are the app's own; the header is the token's boilerplate
  // ({"alg":"HS256","typ":"JWT"}) and would cost a second parse on every request that carries one.
  const auto parts = decoders::jwt_parts(bytes);
  return parts && decode_child(parts->payload, parent, where, key, Shape::jwt);
}

bool RequestDecoder::parse_json(std::uint32_t index) {
  const ScanBuffer buffer = view_.buffers[index];
  const std::string_view prefix = arena_.concat(buffer.where.in(arena_), ".json:");
  const std::uint32_t first = static_cast<std::uint32_t>(view_.fields.size());
  const std::uint32_t group_base = groups_;
  std::uint32_t max_group = 0;
  struct Unplaced {
    std::string_view value;
    Place where;
    std::string_view key;
    std::uint32_t field;  // index of the field over the escaped bytes, or UINT32_MAX
  };
  std::vector<Unplaced> unplaced;
  const std::size_t room = limits_.max_fields > view_.fields.size() ? limits_.max_fields - view_.fields.size() : 0;
  const auto result = decoders::parse_json_fields(buffer.bytes, room, [&](const decoders::JsonField& json) {
    const Place where(prefix, arena_.copy(json.path));
    const std::string_view key = arena_.copy(json.key);
    max_group = std::max(max_group, json.group);
    if (json.length > 0 || json.literal) {
      FieldSpan field;
      field.begin = static_cast<std::uint32_t>(json.offset);
      field.end = static_cast<std::uint32_t>(json.offset + json.length);
      field.where = where;
      field.key = key;
      field.group = group_base + json.group;
      if (!json.literal) {
        // Escapes (\u0033...): the raw bytes are not the value; scan the unescaped value instead.
        field.decoded = decoded_all;
        unplaced.push_back({arena_.copy(json.value), where, key, static_cast<std::uint32_t>(view_.fields.size())});
      }
      if (field.end > field.begin) view_.fields.push_back(field);
    } else if (!json.value.empty()) {
      unplaced.push_back({arena_.copy(json.value), where, key, UINT32_MAX});
    }
  });
  if (!result.valid && result.fields == 0) {
    view_.fields.resize(first);
    return false;
  }
  if (view_.fields.size() >= limits_.max_fields) note_limit(buffer.where, buffer.encoding);
  groups_ = group_base + max_group;
  ScanBuffer& parsed = view_.buffers[index];
  parsed.first_field = first;
  parsed.field_count = static_cast<std::uint32_t>(view_.fields.size() - first);
  parsed.encoding = join_layers(arena_, buffer.encoding, "json");
  const ScanBuffer structured = parsed;
  expand_fields(index);
  for (const auto& value : unplaced) {
    if (view_.buffers.size() >= limits_.max_buffers) {
      note_limit(value.where, structured.encoding);
      break;
    }
    if (!budget(value.value.size())) {
      note_limit(value.where, structured.encoding);
      break;
    }
    ScanBuffer child;
    child.bytes = value.value;
    child.encoding = structured.encoding;
    child.where = value.where;
    child.key = value.key;
    child.depth = structured.depth + 1;
    child.first_field = static_cast<std::uint32_t>(view_.fields.size());
    analyze_buffer(add_buffer(child), {}, true);
  }
  return true;
}

bool RequestDecoder::parse_form(std::uint32_t index, std::string_view where_prefix) {
  const ScanBuffer buffer = view_.buffers[index];
  const std::uint32_t first = static_cast<std::uint32_t>(view_.fields.size());
  const std::uint32_t group = next_group();
  const std::size_t room = limits_.max_fields > view_.fields.size() ? limits_.max_fields - view_.fields.size() : 0;
  decoders::parse_form(buffer.bytes, room, [&](const decoders::FormPair& pair) {
    FieldSpan field;
    field.group = group;
    if (pair.has_value) {
      if (pair.value.empty()) return;
      const std::string_view name = decoded_name(arena_, pair.name);
      field.begin = static_cast<std::uint32_t>(pair.value_offset);
      field.end = static_cast<std::uint32_t>(pair.value_offset + pair.value.size());
      field.where = Place(where_prefix, name);
      field.key = name;
    } else {
      field.begin = static_cast<std::uint32_t>(pair.name_offset);
      field.end = static_cast<std::uint32_t>(pair.name_offset + pair.name.size());
      field.where = where_prefix.substr(0, where_prefix.size() - 1);
    }
    view_.fields.push_back(field);
  });
  if (view_.fields.size() == first) return false;
  ScanBuffer& parsed = view_.buffers[index];
  parsed.first_field = first;
  parsed.field_count = static_cast<std::uint32_t>(view_.fields.size() - first);
  parsed.encoding = join_layers(arena_, buffer.encoding, "form");
  expand_fields(index);
  return true;
}

bool RequestDecoder::parse_xml(std::uint32_t index) {
  const ScanBuffer buffer = view_.buffers[index];
  const std::string_view prefix = arena_.concat(buffer.where.in(arena_), ".xml:");
  const std::uint32_t first = static_cast<std::uint32_t>(view_.fields.size());
  const std::uint32_t group = next_group();
  std::vector<std::uint32_t> escaped;
  const std::size_t room = limits_.max_fields > view_.fields.size() ? limits_.max_fields - view_.fields.size() : 0;
  decoders::parse_xml_values(buffer.bytes, room, [&](const decoders::XmlValue& value) {
    FieldSpan field;
    field.begin = static_cast<std::uint32_t>(value.offset);
    field.end = static_cast<std::uint32_t>(value.offset + value.raw.size());
    field.where = Place(prefix, arena_.copy(value.name));
    field.key = arena_.copy(value.key);
    field.group = group;
    if (value.has_entities) {
      field.decoded = decoded_all;
      escaped.push_back(static_cast<std::uint32_t>(view_.fields.size()));
    }
    view_.fields.push_back(field);
  });
  if (view_.fields.size() == first) return false;
  ScanBuffer& parsed = view_.buffers[index];
  parsed.first_field = first;
  parsed.field_count = static_cast<std::uint32_t>(view_.fields.size() - first);
  parsed.encoding = join_layers(arena_, buffer.encoding, "xml");
  const ScanBuffer structured = parsed;
  expand_fields(index);
  for (const std::uint32_t field_index : escaped) {
    const FieldSpan field = view_.fields[field_index];
    if (view_.buffers.size() >= limits_.max_buffers) break;
    std::string& out = arena_.buffer();
    decoders::xml_unescape(structured.bytes.substr(field.begin, field.end - field.begin), out);
    if (!budget(out.size())) break;
    ScanBuffer child;
    child.bytes = out;
    child.encoding = structured.encoding;
    child.where = field.where;
    child.key = field.key;
    child.depth = structured.depth + 1;
    child.first_field = static_cast<std::uint32_t>(view_.fields.size());
    analyze_buffer(add_buffer(child), {}, true);
  }
  return true;
}

bool RequestDecoder::parse_multipart(std::uint32_t index, std::string_view boundary) {
  if (boundary.empty()) return false;
  const ScanBuffer buffer = view_.buffers[index];
  const std::string_view prefix = arena_.concat(buffer.where.in(arena_), ".multipart:");
  const std::uint32_t first = static_cast<std::uint32_t>(view_.fields.size());
  const std::uint32_t group = next_group();
  struct PartInfo {
    std::string_view content_type;
    bool base64 = false;
  };
  std::vector<PartInfo> parts;
  std::size_t number = 0;
  const std::size_t room = limits_.max_fields > view_.fields.size() ? limits_.max_fields - view_.fields.size() : 0;
  decoders::parse_multipart(buffer.bytes, boundary, std::min<std::size_t>(room, 1000), [&](const decoders::MultipartPart& part) {
    ++number;
    if (part.body.empty()) return;
    FieldSpan field;
    field.begin = static_cast<std::uint32_t>(part.body_offset);
    field.end = static_cast<std::uint32_t>(part.body_offset + part.body.size());
    const std::string_view name = part.name.empty() ? arena_.copy(std::to_string(number)) : arena_.copy(part.name);
    field.where = Place(prefix, name);
    field.key = name;
    field.group = group;
    view_.fields.push_back(field);
    parts.push_back({arena_.copy(part.content_type), iequals(trim(part.content_encoding), "base64")});
  });
  if (view_.fields.size() == first) return false;
  ScanBuffer& parsed = view_.buffers[index];
  parsed.first_field = first;
  parsed.field_count = static_cast<std::uint32_t>(view_.fields.size() - first);
  parsed.encoding = join_layers(arena_, buffer.encoding, "multipart");
  for (std::uint32_t i = 0; i < parts.size(); ++i) {
    const std::uint32_t field_index = first + i;
    if (parts[i].base64) {
      const ScanBuffer current = view_.buffers[index];
      const FieldSpan field = view_.fields[field_index];
      if (decode_child(current.bytes.substr(field.begin, field.end - field.begin), current, field.where, field.key,
                       Shape::base64))
        view_.fields[field_index].decoded |= decoded_base64;
      continue;
    }
    Hint hint;
    const std::string_view media = trim(parts[i].content_type.substr(0, parts[i].content_type.find(';')));
    if (icontains(media, "json")) hint.shape = Shape::json;
    else if (icontains(media, "x-www-form-urlencoded")) hint.shape = Shape::form;
    else if (icontains(media, "xml")) hint.shape = Shape::xml;
    expand_field(index, field_index, hint);
  }
  return true;
}

}  // namespace leakguard
