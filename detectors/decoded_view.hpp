// The decoded view of one exchange that every detector reads: a list of buffers (the request head,
// the body, and every value decoded out of them: percent-decoded, base64, decompressed, ...), each
// with its leaf fields (query parameters, headers, cookies, JSON values) and the names, encoding
// chain and request position a finding needs. Built once per request by the RequestDecoder.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "detectors/decoders/url.hpp"
#include "detectors/finding.hpp"
#include "detectors/matchers/byte_classes.hpp"

namespace leakguard {

// Families of transformation a field's content also appears under in a child buffer; a detector
// skips matches of that family inside the field, because the child reports them better placed.
enum DecodedAs : std::uint8_t {
  decoded_none = 0,
  decoded_all = 1,     // the child holds the same content in full (percent-decoded, parsed, unescaped)
  decoded_base64 = 2,  // base64 of the field was decoded into a child
  decoded_hex = 4,
};

// How buffer offsets map back to the bytes of the request as sent (for in-place redaction).
struct Origin {
  enum class Mapping : std::uint8_t { none, identity, percent };
  Mapping mapping = Mapping::none;
  RequestPart part = RequestPart::body;
  std::uint32_t header_index = 0;
  std::uint64_t base = 0;        // offset in the part of the first mapped byte
  std::string_view raw;          // percent: the bytes as sent that the buffer was decoded from
  std::uint32_t decoded_skip = 0;  // percent: buffer byte 0 is decoded byte `decoded_skip` of `raw`
};

// A place in the request, kept as prefix and name and joined only when a finding needs it: most
// fields never appear in a finding, and building "header:x-device-id" for each would cost more
// than scanning it.
class Arena;
struct Place {
  std::string_view prefix;   // "query:", "header:", "body.json:", or a whole place ("head")
  std::string_view name;     // the parameter, header, cookie or path name
  bool lower_name = false;   // header names are reported lower-case
  Place() = default;
  Place(std::string_view whole) : prefix(whole) {}  // NOLINT: a literal place is a place
  Place(const char* whole) : prefix(whole) {}       // NOLINT
  Place(std::string_view p, std::string_view n, bool lower = false) : prefix(p), name(n), lower_name(lower) {}
  std::string str() const;
  // The joined text, stored in `arena` when it must be built.
  std::string_view in(Arena& arena) const;
};

struct FieldSpan {
  std::uint32_t begin = 0;  // offsets in the buffer; fields of a buffer are sorted and disjoint
  std::uint32_t end = 0;
  Place where;              // "query:imei", "body.json:cell.cid"
  std::string_view key;     // the name the value was sent under; empty if none
  std::uint32_t group = 0;  // siblings (one JSON object, one query string) share a group
  std::uint8_t decoded = decoded_none;
  Origin origin;            // per-field mapping (head fields); Mapping::none: use the buffer's
};

// A number in a protobuf message (a varint, fixed32 or fixed64 field, or one of packed varints):
// identifiers travel as numbers too (an Android ID is an int64, a location two doubles), and no
// text scan can see them. The known-identifier detector compares them with the profile's values.
enum class NumberWire : std::uint8_t { varint, fixed32, fixed64 };
struct NumberField {
  std::uint64_t value = 0;   // the varint, or the fixed bytes as a little-endian integer
  std::uint32_t buffer = 0;  // index of the buffer holding the message (its encoding chain)
  std::uint32_t group = 0;   // the numbers and fields of one message share it
  NumberWire wire = NumberWire::varint;
  Place where;               // "body.protobuf:4.2"
};

struct ScanBuffer {
  std::string_view bytes;
  std::string_view encoding;  // decoding layers so far, outermost first: "", "base64>json"
  Place where;                // for matches outside every field: "head", "body", "stream"
  std::string_view key;       // name of the value this buffer was decoded from, if any
  std::uint32_t first_field = 0;
  std::uint32_t field_count = 0;
  std::uint32_t depth = 0;    // decoding layers below the request
  Origin origin;              // identity mapping: offset 0 is part offset origin.base
  std::uint8_t decoded = decoded_none;  // DecodedAs bits for the whole buffer (a base64 body, ...)
  // Raw streams: matches ending before `report_from` were judged in an earlier window, and while
  // the stream is not `complete`, a match touching the window's end waits for the next one.
  std::size_t report_from = 0;
  bool complete = true;
};

// Bump storage for names and decoded bytes: string_views into it stay valid until reset(), and
// capacity is kept between requests so a steady stream of requests allocates nothing.
class Arena {
 public:
  std::string_view copy(std::string_view text);
  std::string_view concat(std::string_view a, std::string_view b, std::string_view c = {});
  // A cleared string that keeps its address until reset(); fill it, then view it.
  std::string& buffer();
  void reset();
  std::size_t bytes_in_buffers() const { return buffer_bytes_; }

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::vector<std::size_t> block_sizes_;
  std::size_t block_ = 0;
  std::size_t used_ = 0;
  std::deque<std::string> buffers_;
  std::size_t buffers_used_ = 0;
  std::size_t buffer_bytes_ = 0;
  char* allocate(std::size_t size);
};

struct DecodedView {
  std::vector<ScanBuffer> buffers;
  std::vector<FieldSpan> fields;
  std::vector<NumberField> numbers;
  // classes[i] is buffers[i]'s once build_classes() ran. Not shrunk by clear(), so that each
  // keeps its storage from one request to the next.
  std::vector<matchers::ByteClasses> classes;

  void clear() {
    buffers.clear();
    fields.clear();
    numbers.clear();
  }
  // Classifies the bytes of every buffer once, for all detectors (run before them).
  void build_classes();
  const matchers::ByteClasses& classes_of(const ScanBuffer& buffer) const {
    return classes[static_cast<std::size_t>(&buffer - buffers.data())];
  }
  std::span<const FieldSpan> fields_of(const ScanBuffer& buffer) const {
    return {fields.data() + buffer.first_field, buffer.field_count};
  }
  // The field that holds bytes [begin, end) of the buffer, or null.
  const FieldSpan* field_at(const ScanBuffer& buffer, std::size_t begin, std::size_t end) const;
};

// The name a value was sent under, for context checks: the field's key, the buffer's key, or, in
// unstructured text ("IMEI:3532...", "<imsi>2420..."), the word just before `pos`.
std::string_view context_key(const ScanBuffer& buffer, const FieldSpan* field, std::size_t pos);
// Where to report a match: the field's place or the buffer's.
std::string where_of(const ScanBuffer& buffer, const FieldSpan* field);
// Finds where buffer bytes are in the request as sent. One per scan of a buffer: the escapes of a
// percent-decoded buffer are indexed once, so that each finding costs a binary search, not a walk.
class Locator {
 public:
  // Appends the location of buffer bytes [begin, end) in the request as sent, if they are there
  // literally or percent-encoded; nothing otherwise.
  void locate(const ScanBuffer& buffer, const FieldSpan* field, std::size_t begin, std::size_t end,
              std::vector<ByteLocation>& out);

 private:
  decoders::PercentOffsets percent_;
};
// "base64>json" + "sha1" -> "base64>json>sha1"; both empty -> "plain".
std::string encoding_chain(std::string_view layers, std::string_view transform);

}  // namespace leakguard
