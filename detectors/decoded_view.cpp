#include "detectors/decoded_view.hpp"

#include <algorithm>
#include <cstring>

#include "common/ascii.hpp"
#include "detectors/decoders/url.hpp"

namespace leakguard {

namespace {
constexpr std::size_t block_size = 16 * 1024;

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}
}  // namespace

char* Arena::allocate(std::size_t size) {
  while (block_ < blocks_.size()) {
    if (used_ + size <= block_sizes_[block_]) {
      char* out = blocks_[block_].get() + used_;
      used_ += size;
      return out;
    }
    ++block_;
    used_ = 0;
  }
  const std::size_t capacity = std::max(block_size, size);
  blocks_.push_back(std::make_unique<char[]>(capacity));
  block_sizes_.push_back(capacity);
  block_ = blocks_.size() - 1;
  used_ = size;
  return blocks_.back().get();
}

std::string_view Arena::copy(std::string_view text) {
  if (text.empty()) return {};
  char* out = allocate(text.size());
  std::memcpy(out, text.data(), text.size());
  return {out, text.size()};
}

std::string_view Arena::concat(std::string_view a, std::string_view b, std::string_view c) {
  const std::size_t size = a.size() + b.size() + c.size();
  if (size == 0) return {};
  char* out = allocate(size);
  std::memcpy(out, a.data(), a.size());
  if (!b.empty()) std::memcpy(out + a.size(), b.data(), b.size());
  if (!c.empty()) std::memcpy(out + a.size() + b.size(), c.data(), c.size());
  return {out, size};
}

std::string& Arena::buffer() {
  if (buffers_used_ == buffers_.size()) buffers_.emplace_back();
  std::string& out = buffers_[buffers_used_++];
  out.clear();
  return out;
}

void Arena::reset() {
  block_ = 0;
  used_ = 0;
  // Keep a bounded amount of decoded-buffer capacity: one huge body must not pin memory forever.
  for (std::size_t i = 0; i < buffers_used_; ++i)
    if (buffers_[i].capacity() > (1u << 20)) std::string().swap(buffers_[i]);
  buffers_used_ = 0;
  buffer_bytes_ = 0;
  if (blocks_.size() > 16) {
    blocks_.resize(16);
    block_sizes_.resize(16);
  }
}

const FieldSpan* DecodedView::field_at(const ScanBuffer& buffer, std::size_t begin, std::size_t end) const {
  const auto span = fields_of(buffer);
  auto it = std::upper_bound(span.begin(), span.end(), begin,
                             [](std::size_t offset, const FieldSpan& field) { return offset < field.begin; });
  if (it == span.begin()) return nullptr;
  --it;
  if (begin >= it->begin && end <= it->end) return &*it;
  return nullptr;
}

std::string_view context_key(const ScanBuffer& buffer, const FieldSpan* field, std::size_t pos) {
  if (field && !field->key.empty()) return field->key;
  if (!field && !buffer.key.empty() && buffer.field_count == 0) return buffer.key;
  // Unstructured text ("IMEI:3532...", "<imsi>2420...", "/imei/3532..."): skip a few separators
  // back, then take the word before them, without leaving the field.
  const std::size_t floor = field ? field->begin : 0;
  const std::string_view bytes = buffer.bytes;
  std::size_t i = std::min(pos, bytes.size());
  std::size_t skipped = 0;
  while (i > floor && skipped < 4) {
    const char c = bytes[i - 1];
    if (c == ':' || c == '=' || c == '"' || c == '\'' || c == ' ' || c == '\t' || c == '>' || c == ',' || c == '/') {
      --i;
      ++skipped;
    } else {
      break;
    }
  }
  const std::size_t end = i;
  while (i > floor && end - i < 40 && is_word_char(bytes[i - 1])) --i;
  if (i == end && field && !buffer.key.empty()) return buffer.key;
  return bytes.substr(i, end - i);
}

std::string Place::str() const {
  std::string out(prefix);
  const std::size_t start = out.size();
  out.append(name);
  if (lower_name)
    for (std::size_t i = start; i < out.size(); ++i)
      if (out[i] >= 'A' && out[i] <= 'Z') out[i] = static_cast<char>(out[i] - 'A' + 'a');
  return out;
}

std::string_view Place::in(Arena& arena) const {
  if (name.empty()) return prefix;
  const std::string_view joined = arena.concat(prefix, name);
  if (lower_name) {
    // The arena's own bytes, lower-cased where they lie (no string on the heap for each header).
    char* tail = const_cast<char*>(joined.data()) + prefix.size();
    for (std::size_t i = 0; i < name.size(); ++i) tail[i] = ascii_lower(tail[i]);
  }
  return joined;
}

std::string where_of(const ScanBuffer& buffer, const FieldSpan* field) {
  return (field ? field->where : buffer.where).str();
}

void Locator::locate(const ScanBuffer& buffer, const FieldSpan* field, std::size_t begin, std::size_t end,
                     std::vector<ByteLocation>& out) {
  if (field && field->origin.mapping == Origin::Mapping::identity) {
    const Origin& o = field->origin;
    out.push_back({o.part, o.header_index, o.base + (begin - field->begin), end - begin});
    return;
  }
  const Origin& o = buffer.origin;
  switch (o.mapping) {
    case Origin::Mapping::none:
      return;
    case Origin::Mapping::identity:
      out.push_back({o.part, o.header_index, o.base + begin, end - begin});
      return;
    case Origin::Mapping::percent: {
      percent_.index(o.raw);
      const std::size_t raw_begin = percent_.raw_offset(o.decoded_skip + begin);
      const std::size_t raw_end = percent_.raw_offset(o.decoded_skip + end);
      if (raw_end > raw_begin) out.push_back({o.part, o.header_index, o.base + raw_begin, raw_end - raw_begin});
      return;
    }
  }
}

std::string encoding_chain(std::string_view layers, std::string_view transform) {
  if (layers.empty() && transform.empty()) return "plain";
  std::string out(layers);
  if (!transform.empty()) {
    if (!out.empty()) out.push_back('>');
    out.append(transform);
  }
  return out;
}

void DecodedView::build_classes() {
  if (classes.size() < buffers.size()) classes.resize(buffers.size());
  for (std::size_t i = 0; i < buffers.size(); ++i) classes[i].build(buffers[i].bytes);
}

}  // namespace leakguard
