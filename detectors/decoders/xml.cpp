#include "detectors/decoders/xml.hpp"

#include <string>

namespace leakguard::decoders {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || c == ':' || static_cast<unsigned char>(c) >= 0x80;
}
std::string_view local_name(std::string_view name) {
  const std::size_t colon = name.rfind(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}
void append_utf8(std::string& out, unsigned long code) {
  if (code < 0x80) {
    out.push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (code >> 6)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
  } else if (code < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (code >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
  } else if (code < 0x110000) {
    out.push_back(static_cast<char>(0xf0 | (code >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
  }
}

}  // namespace

bool looks_like_xml(std::string_view text) {
  std::size_t i = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // UTF-8 byte order mark
  while (i < text.size() && is_space(text[i])) ++i;
  return i + 1 < text.size() && text[i] == '<' &&
         (text[i + 1] == '?' || text[i + 1] == '!' || (is_name_char(text[i + 1]) && text[i + 1] != '-'));
}

std::size_t parse_xml_values(std::string_view text, std::size_t max_values,
                             FunctionRef<void(const XmlValue&)> on_value) {
  std::size_t count = 0;
  std::string current;    // the innermost open element (name only: enough for a key)
  std::string attribute;  // "element@attribute" for the callback
  std::size_t i = 0;
  auto emit = [&](std::string_view name, std::string_view key, std::size_t begin, std::size_t end) {
    std::string_view raw = text.substr(begin, end - begin);
    std::size_t lead = 0;
    while (lead < raw.size() && is_space(raw[lead])) ++lead;
    std::size_t trail = raw.size();
    while (trail > lead && is_space(raw[trail - 1])) --trail;
    if (trail == lead) return;
    XmlValue value;
    value.name = name;
    value.key = key;
    value.raw = raw.substr(lead, trail - lead);
    value.offset = begin + lead;
    value.has_entities = value.raw.find('&') != std::string_view::npos;
    on_value(value);
    ++count;
  };
  while (i < text.size() && count < max_values) {
    if (text[i] != '<') {
      const std::size_t end = std::min(text.find('<', i), text.size());
      emit(current, local_name(current), i, end);
      i = end;
      continue;
    }
    if (text.compare(i, 9, "<![CDATA[") == 0) {
      const std::size_t end = std::min(text.find("]]>", i + 9), text.size());
      emit(current, local_name(current), i + 9, end);
      i = end == text.size() ? end : end + 3;
      continue;
    }
    if (text.compare(i, 4, "<!--") == 0) {
      const std::size_t end = text.find("-->", i + 4);
      i = end == std::string_view::npos ? text.size() : end + 3;
      continue;
    }
    if (i + 1 < text.size() && (text[i + 1] == '?' || text[i + 1] == '!' || text[i + 1] == '/')) {
      const std::size_t end = text.find('>', i);
      i = end == std::string_view::npos ? text.size() : end + 1;
      continue;
    }
    // Start tag: name, then attributes up to '>'.
    std::size_t j = i + 1;
    while (j < text.size() && is_name_char(text[j])) ++j;
    current.assign(text.substr(i + 1, j - i - 1));
    while (j < text.size() && text[j] != '>' && count < max_values) {
      while (j < text.size() && (is_space(text[j]) || text[j] == '/')) ++j;
      const std::size_t name_begin = j;
      while (j < text.size() && is_name_char(text[j])) ++j;
      const std::string_view name = text.substr(name_begin, j - name_begin);
      while (j < text.size() && is_space(text[j])) ++j;
      if (name.empty() || j >= text.size() || text[j] != '=') {
        if (j < text.size() && text[j] != '>') ++j;
        continue;
      }
      ++j;
      while (j < text.size() && is_space(text[j])) ++j;
      if (j >= text.size() || (text[j] != '"' && text[j] != '\'')) continue;
      const char quote = text[j];
      const std::size_t value_begin = j + 1;
      const std::size_t value_end = std::min(text.find(quote, value_begin), text.size());
      attribute = current;
      attribute += '@';
      attribute.append(name);
      emit(attribute, local_name(name), value_begin, value_end);
      j = value_end + 1;
    }
    i = j < text.size() ? j + 1 : text.size();
  }
  return count;
}

void xml_unescape(std::string_view raw, std::string& out) {
  std::size_t i = 0;
  while (i < raw.size()) {
    const std::size_t amp = raw.find('&', i);
    if (amp == std::string_view::npos) {
      out.append(raw.substr(i));
      return;
    }
    out.append(raw.substr(i, amp - i));
    const std::size_t semicolon = raw.find(';', amp);
    if (semicolon == std::string_view::npos || semicolon - amp > 10) {
      out.push_back('&');
      i = amp + 1;
      continue;
    }
    const std::string_view entity = raw.substr(amp + 1, semicolon - amp - 1);
    if (entity == "amp") out.push_back('&');
    else if (entity == "lt") out.push_back('<');
    else if (entity == "gt") out.push_back('>');
    else if (entity == "quot") out.push_back('"');
    else if (entity == "apos") out.push_back('\'');
    else if (entity.size() > 1 && entity[0] == '#') {
      unsigned long code = 0;
      const bool hex = entity[1] == 'x' || entity[1] == 'X';
      bool ok = entity.size() > (hex ? 2u : 1u);
      for (std::size_t k = hex ? 2 : 1; k < entity.size() && ok; ++k) {
        const char c = entity[k];
        int digit = -1;
        if (c >= '0' && c <= '9') digit = c - '0';
        else if (hex && c >= 'a' && c <= 'f') digit = c - 'a' + 10;
        else if (hex && c >= 'A' && c <= 'F') digit = c - 'A' + 10;
        if (digit < 0) ok = false;
        else code = code * (hex ? 16 : 10) + static_cast<unsigned long>(digit);
        if (code > 0x10ffff) ok = false;
      }
      if (ok) append_utf8(out, code);
      else out.append(raw.substr(amp, semicolon - amp + 1));
    } else {
      out.append(raw.substr(amp, semicolon - amp + 1));
    }
    i = semicolon + 1;
  }
}

}  // namespace leakguard::decoders
