#include "detectors/decoders/multipart.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "common/ascii.hpp"

namespace leakguard::decoders {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

// The value of parameter `name` in "form-data; name=\"x\"; filename=y" (quotes removed).
std::string_view parameter(std::string_view header_value, std::string_view name) {
  std::size_t pos = 0;
  while (pos < header_value.size()) {
    std::size_t semicolon = header_value.find(';', pos);
    if (semicolon == std::string_view::npos) semicolon = header_value.size();
    std::string_view item = trim(header_value.substr(pos, semicolon - pos));
    const std::size_t equals = item.find('=');
    if (equals != std::string_view::npos && iequals(trim(item.substr(0, equals)), name)) {
      std::string_view value = trim(item.substr(equals + 1));
      if (value.size() >= 2 && value.front() == '"') {
        value.remove_prefix(1);
        const std::size_t quote = value.find('"');
        return value.substr(0, quote);
      }
      return value;
    }
    pos = semicolon + 1;
  }
  return {};
}

}  // namespace

std::string_view multipart_boundary(std::string_view content_type) {
  const std::string_view boundary = parameter(content_type, "boundary");
  return boundary.size() <= 200 ? boundary : std::string_view{};
}

std::size_t parse_multipart(std::string_view body, std::string_view boundary, std::size_t max_parts,
                            FunctionRef<void(const MultipartPart&)> on_part) {
  if (boundary.empty()) return 0;
  std::string delimiter = "--";
  delimiter.append(boundary);
  std::size_t count = 0;
  std::size_t pos = body.find(delimiter);
  while (pos != std::string_view::npos && count < max_parts) {
    std::size_t after = pos + delimiter.size();
    if (body.substr(after, 2) == "--") break;  // closing delimiter
    const std::size_t line_end = body.find('\n', after);
    if (line_end == std::string_view::npos) break;
    const std::size_t headers_begin = line_end + 1;
    std::size_t headers_end = body.find("\r\n\r\n", headers_begin);
    std::size_t body_begin = headers_end == std::string_view::npos ? headers_end : headers_end + 4;
    const std::size_t lf_end = body.find("\n\n", headers_begin);
    if (lf_end != std::string_view::npos && (headers_end == std::string_view::npos || lf_end < headers_end)) {
      headers_end = lf_end;
      body_begin = lf_end + 2;
    }
    if (body.substr(headers_begin, 2) == "\r\n") {  // a part with no headers
      headers_end = headers_begin;
      body_begin = headers_begin + 2;
    }
    if (headers_end == std::string_view::npos) break;

    MultipartPart part;
    std::string_view headers = body.substr(headers_begin, headers_end - headers_begin);
    while (!headers.empty()) {
      std::size_t eol = headers.find('\n');
      std::string_view line = headers.substr(0, eol);
      headers = eol == std::string_view::npos ? std::string_view{} : headers.substr(eol + 1);
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      const std::string_view name = trim(line.substr(0, colon));
      const std::string_view value = trim(line.substr(colon + 1));
      if (iequals(name, "content-disposition")) {
        part.name = parameter(value, "name");
        part.filename = parameter(value, "filename");
      } else if (iequals(name, "content-type")) {
        part.content_type = value;
      } else if (iequals(name, "content-transfer-encoding")) {
        part.content_encoding = value;
      }
    }
    std::size_t next = body.find(delimiter, body_begin);
    std::size_t body_end = next == std::string_view::npos ? body.size() : next;
    // The CRLF before the delimiter belongs to the delimiter.
    if (body_end >= body_begin + 2 && body.substr(body_end - 2, 2) == "\r\n")
      body_end -= 2;
    else if (body_end >= body_begin + 1 && body[body_end - 1] == '\n')
      body_end -= 1;
    part.body = body.substr(body_begin, body_end - body_begin);
    part.body_offset = body_begin;
    on_part(part);
    ++count;
    pos = next;
  }
  return count;
}

}  // namespace leakguard::decoders
