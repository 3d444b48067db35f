// RequestDecoder: protobuf messages (walked in place: string and bytes fields become fields,
// numbers go to DecodedView::numbers), gRPC and gRPC-web frames, and `-bin` gRPC metadata.
#include <algorithm>
#include <string>
#include <vector>

#include "common/ascii.hpp"
#include "detectors/decoders/base64.hpp"
#include "detectors/decoders/compression.hpp"
#include "detectors/decoders/protobuf.hpp"
#include "detectors/decoders/protobuf_schema.hpp"
#include "detectors/decoders/request_decoder.hpp"
#include "detectors/decoders/request_text.hpp"

namespace leakguard {

using namespace request_text;

namespace {

NumberWire number_wire(decoders::protobuf::Wire wire) {
  switch (wire) {
    case decoders::protobuf::Wire::fixed32: return NumberWire::fixed32;
    case decoders::protobuf::Wire::fixed64: return NumberWire::fixed64;
    default: return NumberWire::varint;
  }
}

// grpc-web-text: the frames as base64, where a client may encode each write on its own, so the
// text is one or more padded chunks one after the other ("AAAA...==AAAB...").
bool decode_base64_chunks(std::string_view text, std::string& out, std::size_t max_output) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('=', pos);
    if (end == std::string_view::npos) end = text.size();
    while (end < text.size() && text[end] == '=') ++end;
    if (!decoders::base64_decode(text.substr(pos, end - pos), out, max_output - std::min(out.size(), max_output)))
      return false;
    pos = end;
  }
  return !out.empty();
}

std::uint32_t big_endian32(std::string_view bytes) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

}  // namespace

bool RequestDecoder::parse_protobuf(std::uint32_t index) {
  const ScanBuffer buffer = view_.buffers[index];
  const std::string_view prefix = arena_.concat(buffer.where.in(arena_), ".protobuf:");
  const std::uint32_t first = static_cast<std::uint32_t>(view_.fields.size());
  const std::size_t first_number = view_.numbers.size();
  const std::uint32_t group_base = groups_ + 1;
  decoders::protobuf::WalkLimits walk_limits;
  const std::size_t room = limits_.max_fields > view_.fields.size() + view_.numbers.size()
                               ? limits_.max_fields - view_.fields.size() - view_.numbers.size()
                               : 0;
  walk_limits.max_fields = room;
  walk_limits.max_work = std::max<std::size_t>(limits_.max_decoded_bytes, buffer.bytes.size() * 4);
  thread_local std::vector<std::uint32_t> binary;  // bytes fields (not text): maybe gzip'd
  binary.clear();
  // The request's message type, when a descriptor set names it: only for the body's own
  // messages (the body, its gRPC frames), not for messages found inside their fields.
  const decoders::protobuf::SchemaMessage* root =
      buffer.where.prefix == "body" && buffer.where.name.empty() ? root_message_ : nullptr;
  std::string_view last_path;  // packed numbers share their field's path: one copy for all
  std::string_view last_where;
  std::string_view last_key;
  const auto result = decoders::protobuf::walk(buffer.bytes, walk_limits, [&](const decoders::protobuf::Leaf& leaf) {
    if (leaf.path != last_path) {
      last_path = arena_.copy(leaf.path);
      last_where = last_path;
      last_key = {};
      thread_local std::string named;
      thread_local std::string key;
      if (root && schema_->name(*root, leaf.path, named, key)) {
        last_where = arena_.copy(named);
        last_key = arena_.copy(key);
      }
    }
    const Place where(prefix, last_where);
    const std::uint32_t group = group_base + leaf.message;
    if (leaf.kind == decoders::protobuf::Leaf::Kind::number) {
      view_.numbers.push_back({leaf.value, index, group, number_wire(leaf.wire), where});
      return;
    }
    FieldSpan field;
    field.begin = static_cast<std::uint32_t>(leaf.offset);
    field.end = static_cast<std::uint32_t>(leaf.offset + leaf.size);
    field.where = where;
    field.key = last_key;
    field.group = group;
    if (leaf.kind == decoders::protobuf::Leaf::Kind::bytes)
      binary.push_back(static_cast<std::uint32_t>(view_.fields.size()));
    view_.fields.push_back(field);
  });
  if (!result.message) {
    view_.fields.resize(first);
    view_.numbers.resize(first_number);
    return false;
  }
  groups_ = group_base + result.messages;
  if (result.limit) note_limit(buffer.where, buffer.encoding);
  const auto field_count = static_cast<std::uint32_t>(view_.fields.size() - first);
  {
    // A reference only here: expanding fields below adds buffers, which may move them.
    ScanBuffer& parsed = view_.buffers[index];
    parsed.first_field = first;
    parsed.field_count = field_count;
    parsed.encoding = join_layers(arena_, buffer.encoding, "protobuf");
  }
  // Text fields go through every decoder (JSON, base64, URL, ...); bytes fields only when they
  // are gzip (a logger's batch): the other decoders read text, and binary is no text.
  // A copy: expanding a field can parse another message, which refills `binary`.
  const std::vector<std::uint32_t> bytes_fields = binary;
  std::size_t next_binary = 0;
  for (std::uint32_t i = first; i < first + field_count; ++i) {
    if (next_binary < bytes_fields.size() && bytes_fields[next_binary] == i) {
      ++next_binary;
      const ScanBuffer current = view_.buffers[index];
      const FieldSpan field = view_.fields[i];
      const std::string_view value = current.bytes.substr(field.begin, field.end - field.begin);
      if (decoders::looks_like_gzip(value) && current.depth < limits_.max_depth &&
          decompress_child(value, current, field.where, field.key, decoders::Compression::gzip, {}))
        view_.fields[i].decoded |= decoded_all;
      continue;
    }
    expand_field(index, i, {});
  }
  return true;
}

bool RequestDecoder::parse_grpc(std::uint32_t index, const Hint& hint) {
  const ScanBuffer body = view_.buffers[index];
  if (body.depth >= limits_.max_depth) return false;
  std::string_view frames = body.bytes;
  ScanBuffer parent = body;  // what the frames are read from: the body, or its base64
  if (hint.grpc_text) {
    std::string& out = arena_.buffer();
    const std::size_t room = limits_.max_decoded_bytes - std::min(decoded_bytes_, limits_.max_decoded_bytes);
    if (!decode_base64_chunks(trim(frames), out, room) || !budget(out.size())) return false;
    frames = out;
    parent.encoding = join_layers(arena_, body.encoding, "base64");
    parent.origin = Origin{};
  }
  const std::string_view chain = join_layers(arena_, parent.encoding, "grpc");
  std::size_t pos = 0;
  std::size_t messages = 0;
  Hint protobuf;
  protobuf.shape = Shape::protobuf;
  while (frames.size() - pos >= 5) {
    const auto flags = static_cast<unsigned char>(frames[pos]);
    const std::uint32_t length = big_endian32(frames.substr(pos + 1, 4));
    if (length > frames.size() - pos - 5 || (flags & 0x7e) != 0) break;  // truncated, or not a frame
    const std::string_view message = frames.substr(pos + 5, length);
    ScanBuffer frame = parent;
    frame.encoding = chain;
    frame.bytes = message;
    frame.depth = body.depth + 1;
    frame.first_field = static_cast<std::uint32_t>(view_.fields.size());
    frame.field_count = 0;
    frame.decoded = decoded_none;
    if (parent.origin.mapping == Origin::Mapping::identity) frame.origin.base = parent.origin.base + pos + 5;
    pos += 5 + length;
    ++messages;
    if (message.empty()) continue;
    if (view_.buffers.size() >= limits_.max_buffers) {
      note_limit(body.where, chain);
      break;
    }
    if (flags & 0x80) {
      // gRPC-web trailers ("grpc-status:0\r\n..."): text, scanned as it is.
      frame.where = arena_.concat(body.where.in(arena_), ".grpc-trailers");
      analyze_buffer(add_buffer(frame), {}, false);
    } else if (flags & 1) {
      // Compressed with the request's grpc-encoding; gzip is recognised by its header when the
      // header is missing (a capture that lost it).
      auto compression = decoders::compression_from_token(trim(grpc_encoding_));
      if (!compression && decoders::looks_like_gzip(message)) compression = decoders::Compression::gzip;
      if (compression) decompress_child(message, frame, body.where, body.key, *compression, protobuf);
    } else {
      analyze_buffer(add_buffer(frame), protobuf, false);
    }
  }
  if (messages == 0) return false;
  // The frames' messages are children: the body's own bytes are not reported a second time.
  view_.buffers[index].decoded |= decoded_all;
  return true;
}

void RequestDecoder::decode_bin_header(std::uint32_t buffer_index, std::uint32_t field_index) {
  const ScanBuffer head = view_.buffers[buffer_index];
  const FieldSpan field = view_.fields[field_index];
  const std::string_view value = head.bytes.substr(field.begin, field.end - field.begin);
  Hint protobuf;
  protobuf.shape = Shape::protobuf;
  // Duplicates may arrive joined by commas; each is padded or not.
  for (std::size_t pos = 0; pos <= value.size();) {
    std::size_t comma = value.find(',', pos);
    if (comma == std::string_view::npos) comma = value.size();
    const std::string_view part = trim(value.substr(pos, comma - pos));
    pos = comma + 1;
    if (part.empty() || view_.buffers.size() >= limits_.max_buffers) continue;
    std::string& out = arena_.buffer();
    const std::size_t room = limits_.max_decoded_bytes - std::min(decoded_bytes_, limits_.max_decoded_bytes);
    if (!decoders::base64_decode(part, out, room) || out.empty() || !budget(out.size())) continue;
    view_.fields[field_index].decoded |= decoded_base64;
    analyze_buffer(owned_child(out, head, field.where, field.key, "base64"), protobuf, false);
  }
}

}  // namespace leakguard
