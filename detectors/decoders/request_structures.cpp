// RequestDecoder: the structured formats a buffer can hold (JSON, form, XML, multipart), each
// parsed into fields that are then expanded like any other.
#include "detectors/decoders/request_decoder.hpp"

#include <algorithm>
#include <string>

#include "common/ascii.hpp"
#include "detectors/decoders/base64.hpp"
#include "detectors/decoders/form.hpp"
#include "detectors/decoders/json.hpp"
#include "detectors/decoders/multipart.hpp"
#include "detectors/decoders/xml.hpp"
#include "detectors/decoders/request_text.hpp"

namespace leakguard {

using namespace request_text;

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
    analyze_buffer(add_buffer(child_buffer(structured, value.value, structured.encoding, value.where, value.key)), {}, true);
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
    analyze_buffer(add_buffer(child_buffer(structured, out, structured.encoding, field.where, field.key)), {}, true);
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
    else if (icontains(media, "protobuf")) hint.shape = Shape::protobuf;
    expand_field(index, field_index, hint);
  }
  return true;
}

}  // namespace leakguard
