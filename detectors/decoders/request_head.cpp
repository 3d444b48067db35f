// RequestDecoder: the request head (target, query, headers, cookies, trailers) as one text buffer
// with a field per value.
#include "detectors/decoders/request_decoder.hpp"

#include <algorithm>
#include <string>

#include "common/ascii.hpp"
#include "detectors/decoders/form.hpp"
#include "detectors/decoders/request_text.hpp"

namespace leakguard {

using namespace request_text;

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

}  // namespace leakguard
