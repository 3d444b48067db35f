#include "detectors/decoders/protobuf.hpp"

#include <charconv>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace leakguard::decoders::protobuf {
namespace {

constexpr std::uint64_t max_field_number = (1u << 29) - 1;

std::uint64_t load_le(const char* data, std::size_t size) {
  std::uint64_t value = 0;
  for (std::size_t i = size; i > 0; --i) value = (value << 8) | static_cast<unsigned char>(data[i - 1]);
  return value;
}

// parse_fields, inlined where it runs per byte (the walker, is_message): no call per field.
template <typename Visit>
bool for_each_field(std::string_view bytes, std::size_t max_fields, Visit&& field) {
  std::size_t pos = 0;
  std::size_t count = 0;
  while (pos < bytes.size()) {
    std::uint64_t wide_tag = 0;
    if (!read_varint(bytes, pos, wide_tag)) return false;
    // A tag is a 32-bit varint. libprotobuf and protobuf-java (what the receiving end of a phone's
    // call most likely runs) read a longer one and keep its low 32 bits, so we do too: a message
    // that parses there parses here (fuzz/fuzz_protobuf.cpp checks it against libprotobuf).
    const auto tag = static_cast<std::uint32_t>(wide_tag);
    WireField out;
    out.number = tag >> 3;
    if (out.number == 0 || out.number > max_field_number) return false;
    switch (tag & 7) {
      case 0:
        out.wire = Wire::varint;
        out.offset = pos;
        if (!read_varint(bytes, pos, out.value)) return false;
        out.size = pos - out.offset;
        break;
      case 1:
      case 5: {
        const std::size_t size = (tag & 7) == 1 ? 8 : 4;
        if (bytes.size() - pos < size) return false;
        out.wire = size == 8 ? Wire::fixed64 : Wire::fixed32;
        out.value = load_le(bytes.data() + pos, size);
        out.offset = pos;
        out.size = size;
        pos += size;
        break;
      }
      case 2: {
        std::uint64_t length = 0;
        if (!read_varint(bytes, pos, length) || length > bytes.size() - pos) return false;
        out.wire = Wire::length;
        out.value = length;
        out.offset = pos;
        out.size = static_cast<std::size_t>(length);
        pos += out.size;
        break;
      }
      default:
        return false;  // groups (3, 4) and the unused wire types 6, 7
    }
    if (++count > max_fields) return false;
    field(out);
  }
  return count > 0;
}

// A "protobuf array": varint length, non-empty message, ... to the end.
bool is_array(std::string_view bytes, std::size_t& work, std::size_t max_work) {
  std::size_t pos = 0;
  std::size_t elements = 0;
  while (pos < bytes.size()) {
    std::uint64_t length = 0;
    if (!read_varint(bytes, pos, length) || length == 0 || length > bytes.size() - pos) return false;
    work += length;
    if (work > max_work || !is_message(bytes.substr(pos, length))) return false;
    pos += length;
    ++elements;
  }
  return elements > 0;
}

bool is_packed_varints(std::string_view bytes) {
  // Every varint ends with a byte below 0x80, and no run of 10 continuation bytes.
  if (bytes.empty() || static_cast<unsigned char>(bytes.back()) >= 0x80) return false;
  std::size_t run = 0;
  for (const char c : bytes) {
    run = static_cast<unsigned char>(c) >= 0x80 ? run + 1 : 0;
    if (run >= 10) return false;
  }
  return true;
}

class Walker {
 public:
  Walker(std::string_view root, const WalkLimits& limits, FunctionRef<void(const Leaf&)> leaf, std::string& path,
         std::vector<WireField>& fields)
      : root_(root), limits_(limits), leaf_(leaf), path_(path), fields_(fields) {
    path_.clear();
    fields_.clear();
  }

  WalkResult run() {
    if (!charge(root_.size()) || !try_message(root_, 0)) return {};
    result_.message = true;
    return result_;
  }

 private:
  bool charge(std::size_t bytes) {
    if (work_ + bytes > limits_.max_work) {
      result_.limit = true;
      return false;
    }
    work_ += bytes;
    return true;
  }

  void emit(Leaf leaf) {
    if (leaves_ >= limits_.max_fields) {
      result_.limit = true;
      return;
    }
    ++leaves_;
    leaf.path = path_;
    leaf_(leaf);
  }

  void append_number(std::uint64_t number) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, number).ptr;
    path_.append(digits, end);
  }

  // Walks `bytes` if they parse as a message: one pass collects the fields (on the stack shared
  // by every level), and only then are they reported.
  bool try_message(std::string_view bytes, std::uint32_t depth) {
    const std::size_t first = fields_.size();
    if (!for_each_field(bytes, std::numeric_limits<std::size_t>::max(),
                        [&](const WireField& field) { fields_.push_back(field); })) {
      fields_.resize(first);
      return false;
    }
    message(bytes, depth, first);
    fields_.resize(first);
    return true;
  }

  // Reports the fields of a message, fields_[first...].
  void message(std::string_view bytes, std::uint32_t depth, std::size_t first) {
    const std::uint32_t id = result_.messages++;
    const std::size_t path_length = path_.size();
    const std::size_t last = fields_.size();
    for (std::size_t i = first; i < last; ++i) {
      const WireField field = fields_[i];
      path_.resize(path_length);
      if (path_length > 0) path_.push_back('.');
      append_number(field.number);
      const std::size_t offset = static_cast<std::size_t>(bytes.data() - root_.data()) + field.offset;
      if (field.wire == Wire::length) {
        content(root_.substr(offset, field.size), depth, id);
      } else {
        Leaf leaf;
        leaf.kind = Leaf::Kind::number;
        leaf.wire = field.wire;
        leaf.value = field.value;
        leaf.offset = offset;
        leaf.size = field.size;
        leaf.message = id;
        leaf.depth = depth;
        emit(leaf);
      }
    }
    path_.resize(path_length);
  }

  void content(std::string_view bytes, std::uint32_t depth, std::uint32_t id) {
    if (bytes.empty()) return;
    Leaf leaf;
    leaf.offset = static_cast<std::size_t>(bytes.data() - root_.data());
    leaf.size = bytes.size();
    leaf.message = id;
    leaf.depth = depth;
    const bool deeper = depth + 1 <= limits_.max_depth;
    const TextKind text = text_kind(bytes);
    if (text == TextKind::text || (text == TextKind::text_with_controls && !(deeper && is_message(bytes)))) {
      leaf.kind = Leaf::Kind::text;
      return emit(leaf);
    }
    if (!deeper) result_.limit = true;
    if (deeper && charge(bytes.size())) {
      if (try_message(bytes, depth + 1)) return;
      std::size_t work = work_;
      if (is_array(bytes, work, limits_.max_work)) {
        work_ = work;
        return array(bytes, depth + 1);
      }
      work_ = std::min(work, limits_.max_work);
    }
    const bool gzip = bytes.size() >= 2 && bytes[0] == '\x1f' && bytes[1] == '\x8b';
    if (!gzip && is_packed_varints(bytes)) {
      std::size_t pos = 0;
      while (pos < bytes.size()) {
        const std::size_t start = pos;
        read_varint(bytes, pos, leaf.value);
        leaf.kind = Leaf::Kind::number;
        leaf.wire = Wire::varint;
        leaf.offset = static_cast<std::size_t>(bytes.data() - root_.data()) + start;
        leaf.size = pos - start;
        emit(leaf);
      }
      return;
    }
    leaf.kind = Leaf::Kind::bytes;
    emit(leaf);
  }

  void array(std::string_view bytes, std::uint32_t depth) {
    const std::size_t path_length = path_.size();
    std::size_t pos = 0;
    for (std::uint64_t element = 0; pos < bytes.size(); ++element) {
      std::uint64_t length = 0;
      read_varint(bytes, pos, length);
      path_.resize(path_length);
      path_.push_back('[');
      append_number(element);
      path_.push_back(']');
      try_message(bytes.substr(pos, length), depth);  // parses: is_array checked it
      pos += length;
    }
    path_.resize(path_length);
  }

  std::string_view root_;
  const WalkLimits& limits_;
  FunctionRef<void(const Leaf&)> leaf_;
  std::string& path_;
  std::vector<WireField>& fields_;  // fields of the messages being walked, outermost first
  std::size_t work_ = 0;
  std::size_t leaves_ = 0;
  WalkResult result_;
};

}  // namespace

bool read_varint(std::string_view bytes, std::size_t& pos, std::uint64_t& value) {
  value = 0;
  for (unsigned shift = 0; shift < 70 && pos < bytes.size(); shift += 7) {
    const auto byte = static_cast<unsigned char>(bytes[pos++]);
    if (shift < 64) value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) return true;
  }
  return false;  // ran off the end, or an eleventh byte
}

bool parse_fields(std::string_view bytes, std::size_t max_fields, FunctionRef<void(const WireField&)> field) {
  return for_each_field(bytes, max_fields, field);
}

bool is_message(std::string_view bytes, std::size_t max_fields) {
  return for_each_field(bytes, max_fields, [](const WireField&) {});
}

bool is_text(std::string_view bytes) { return text_kind(bytes) != TextKind::binary; }

TextKind text_kind(std::string_view bytes) {
  bool controls = false;
  std::size_t i = 0;
  // Eight bytes at a time while they are all printable ASCII (most of a string field): a byte
  // below 0x20 or from 0x7f up sets a high bit in one of these two words (exact, no false
  // negatives); the byte loop then judges the word.
  constexpr std::uint64_t ones = 0x0101010101010101ull;
  constexpr std::uint64_t highs = 0x8080808080808080ull;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    if ((((word - ones * 0x20) & ~word) | (word + ones) | word) & highs) break;
  }
  for (; i < bytes.size(); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x80) {
      if (c < 0x20) {
        if (c != '\t' && c != '\n' && c != '\r') return TextKind::binary;
        controls = true;
      }
      if (c == 0x7f) return TextKind::binary;
      continue;
    }
    const std::size_t continuation = c >= 0xf0 && c < 0xf5 ? 3 : c >= 0xe0 && c < 0xf0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : 0;
    if (continuation == 0 || bytes.size() - i - 1 < continuation) return TextKind::binary;
    for (std::size_t k = 1; k <= continuation; ++k)
      if ((static_cast<unsigned char>(bytes[i + k]) & 0xc0) != 0x80) return TextKind::binary;
    i += continuation;
  }
  if (bytes.empty()) return TextKind::binary;
  return controls ? TextKind::text_with_controls : TextKind::text;
}

WalkResult walk(std::string_view bytes, const WalkLimits& limits, FunctionRef<void(const Leaf&)> leaf) {
  // Storage kept from one walk to the next: a walk allocates nothing once warm. (The callback
  // must not start another walk; the request decoder's only records what it is given.)
  thread_local std::string path;
  thread_local std::vector<WireField> fields;
  return Walker(bytes, limits, leaf, path, fields).run();
}

}  // namespace leakguard::decoders::protobuf
