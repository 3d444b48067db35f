#include "detectors/decoders/request_decoder.hpp"

#include <algorithm>
#include <string>

#include "common/ascii.hpp"
#include "detectors/decoders/base64.hpp"
#include "detectors/decoders/compression.hpp"
#include "detectors/decoders/hex.hpp"
#include "detectors/decoders/form.hpp"
#include "detectors/decoders/json.hpp"
#include "detectors/decoders/jwt.hpp"
#include "detectors/decoders/multipart.hpp"
#include "detectors/decoders/protobuf.hpp"
#include "detectors/decoders/protobuf_schema.hpp"
#include "detectors/decoders/url.hpp"
#include "detectors/decoders/xml.hpp"
#include "detectors/decoders/request_text.hpp"

namespace leakguard {

using namespace request_text;

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
    grpc_encoding_ = first_header(request.head, "grpc-encoding");
    if (schema_) {
      const std::string_view target = request.head.target;
      std::size_t path_begin = 0;
      if (const std::size_t scheme = target.find("://"); scheme != std::string_view::npos && scheme < 16)
        path_begin = std::min(target.find('/', scheme + 3), target.size());
      const std::string_view path = target.substr(path_begin, target.find_first_of("?#", path_begin) - path_begin);
      root_message_ = schema_->root_for(path);
    }
    add_body(request.body, first_header(request.head, "content-type"), first_header(request.head, "content-encoding"),
             origin);
  }
}

void RequestDecoder::decode_body(std::string_view body, std::string_view content_type, std::string_view content_encoding,
                                 std::string_view grpc_encoding) {
  grpc_encoding_ = grpc_encoding;
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
  } else if (media.size() >= 16 && iequals(media.substr(0, 16), "application/grpc")) {
    // application/grpc, grpc+proto, grpc-web, grpc-web+proto, grpc-web-text(+proto). The same
    // decoder serves gRPC over HTTP/2: an h2 stream arrives as a request whose body is its DATA.
    hint.shape = Shape::grpc;
    hint.grpc_text = icontains(media, "grpc-web-text");
  } else if (icontains(media, "protobuf")) {
    // x-protobuf, x-protobuffer, protobuf, vnd.google.protobuf. (octet-stream is sniffed.)
    hint.shape = Shape::protobuf;
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
    note_bomb(status, current.size(), out.size(), room, "body", chain);
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
  // Binary that parses to its end as a message (an octet-stream body, decoded base64 or gzip).
  // Text that happens to parse ("hi" is field 13 = 105) stays text.
  if (whole_body && decoders::protobuf::is_message(bytes) && !mostly_printable(bytes)) return Shape::protobuf;
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
    // gRPC metadata whose name ends in -bin is base64 by definition, short or not.
    if (view_.buffers[buffer_index].depth == 0 && is_bin_header(field)) return decode_bin_header(buffer_index, field_index);
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
    ScanBuffer child = child_buffer(parent, *out, join_layers(arena_, parent.encoding, layers), field.where, field.key);
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
    case Shape::multipart:
    case Shape::protobuf:
    case Shape::grpc: {
      // The same bytes, parsed: a view, not a copy.
      ScanBuffer child = child_buffer(parent, value, parent.encoding, field.where, field.key);
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
      case Shape::protobuf: parsed = parse_protobuf(index); break;
      case Shape::grpc: parsed = parse_grpc(index, hint); break;
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
  return add_buffer(child_buffer(parent, bytes, join_layers(arena_, parent.encoding, layer), where, key));
}

ScanBuffer RequestDecoder::child_buffer(const ScanBuffer& parent, std::string_view bytes, std::string_view encoding,
                                        Place where, std::string_view key) const {
  ScanBuffer child;
  child.bytes = bytes;
  child.encoding = encoding;
  child.where = where;
  child.key = key;
  child.depth = parent.depth + 1;
  child.first_field = static_cast<std::uint32_t>(view_.fields.size());
  return child;
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
      if (!mostly_printable(out) && !decoders::looks_like_gzip(out) && !decoders::protobuf::is_message(out)) return false;
      layer = "base64";
      break;
    case Shape::jwt:
      // The claims are JSON text; anything else (ciphertext) is not worth a child.
      if (!decoders::base64_decode(bytes, out, room) || !mostly_printable(out)) return false;
      layer = "jwt";
      break;
    case Shape::gzip:
      return decompress_child(bytes, parent, where, key, decoders::Compression::gzip, {});
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

void RequestDecoder::note_bomb(decoders::DecompressStatus status, std::size_t input, std::size_t output, std::size_t room,
                               const Place& where, std::string_view chain) {
  const bool ratio = output >= limits_.ratio_min_output && output / std::max<std::size_t>(input, 1) > limits_.max_ratio;
  if (status != decoders::DecompressStatus::output_limit && !ratio) return;
  Anomaly anomaly;
  anomaly.anomaly = "decompression_bomb";
  anomaly.where = where.str();
  anomaly.encoding = std::string(chain);
  anomaly.detail = status == decoders::DecompressStatus::output_limit
                       ? "decompressed size exceeds the inspection bound of " + std::to_string(room) + " bytes"
                       : "compression ratio above " + std::to_string(limits_.max_ratio) + ":1";
  anomaly.input_bytes = input;
  anomaly.output_bytes = output;
  anomalies_.push_back(std::move(anomaly));
}

bool RequestDecoder::decompress_child(std::string_view bytes, const ScanBuffer& parent, Place where, std::string_view key,
                                      decoders::Compression compression, Hint hint) {
  if (parent.depth + 1 > limits_.max_depth) return false;
  if (view_.buffers.size() >= limits_.max_buffers) {
    note_limit(where, parent.encoding);
    return false;
  }
  const std::size_t room = limits_.max_decoded_bytes - std::min(decoded_bytes_, limits_.max_decoded_bytes);
  std::string& out = arena_.buffer();
  const std::string_view layer = decoders::to_string(compression);
  const auto status = decoders::decompress(compression, bytes, out, room);
  note_bomb(status, bytes.size(), out.size(), room, where, join_layers(arena_, parent.encoding, layer));
  if (out.empty()) return false;
  if (!budget(out.size())) {
    note_limit(where, parent.encoding);
    return false;
  }
  analyze_buffer(owned_child(out, parent, where, key, layer), hint, true);
  return true;
}

bool RequestDecoder::decode_jwt(std::string_view bytes, const ScanBuffer& parent, Place where, std::string_view key) {
  // The payload only: the claims are the app's own; the header is the token's boilerplate
  // ({"alg":"HS256","typ":"JWT"}) and would cost a second parse on every request that carries one.
  const auto parts = decoders::jwt_parts(bytes);
  return parts && decode_child(parts->payload, parent, where, key, Shape::jwt);
}

}  // namespace leakguard
