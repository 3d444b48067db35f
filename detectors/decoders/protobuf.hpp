// Protobuf wire format without a schema: a message is a run of (tag, value) pairs, each value a
// varint, 8 bytes (fixed64/double), 4 bytes (fixed32/float) or a length-delimited run of bytes
// (string, bytes, nested message, packed numbers). Groups (wire types 3 and 4, deprecated since
// proto2) are refused, like any tag whose field number is 0 or whose wire type is 6 or 7.
//
// The decoder accepts bytes only when they parse to the very end: text and random bytes rarely
// do (the rate is measured in bench/RESULTS.md), so a body is not taken for a message by chance.
//
// A length-delimited field is tried, in this order, as:
//   1. text: valid UTF-8 without control characters other than tab, CR and LF (then decoded
//      further by the request decoder: JSON, base64, URL, hex, JWT, ...) -- unless it holds a
//      tab, CR or LF and parses as a message: "2\tdeep text" is field 6 = "deep text";
//   2. a nested message that parses to its end;
//   3. a "protobuf array": varint length, message, varint length, message, ... to the end (what
//      batched loggers put inside a bytes field);
//   4. packed varints (a repeated int field), every varint ending exactly at the end -- not gzip
//      data (1f 8b), which would often pass;
//   5. bytes.
// Text comes first because a short string can also parse as a message ("(d" is field 5 = 100);
// a nested message almost always holds a control byte (0x08, 0x0a, 0x10, 0x12, a length below
// 32), which text does not contain. A message made only of printable bytes stays text: its
// strings are still scanned (they are part of the text), only their path and numbers are lost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "detectors/decoders/function_ref.hpp"

namespace leakguard::decoders::protobuf {

enum class Wire : std::uint8_t { varint = 0, fixed64 = 1, length = 2, fixed32 = 5 };

struct WireField {
  std::uint32_t number = 0;
  Wire wire = Wire::varint;
  std::uint64_t value = 0;   // varint value, or the fixed bytes little-endian; length: the length
  std::size_t offset = 0;    // first byte of the value (after the tag, and the length if any)
  std::size_t size = 0;      // bytes of the value
};

// Reads a varint at `pos` (at most 10 bytes, the last with a clear high bit); advances `pos`.
bool read_varint(std::string_view bytes, std::size_t& pos, std::uint64_t& value);
// One message level: every field in order, then true when the bytes parse to their end with at
// least one field and at most `max_fields`. Fields are reported while parsing, so a caller that
// needs the verdict first calls is_message.
bool parse_fields(std::string_view bytes, std::size_t max_fields, FunctionRef<void(const WireField&)> field);
bool is_message(std::string_view bytes, std::size_t max_fields = 100000);
// The text test of the order above.
bool is_text(std::string_view bytes);
enum class TextKind : std::uint8_t { binary, text, text_with_controls };  // controls: tab, CR, LF
TextKind text_kind(std::string_view bytes);

// What a schema-less walk reports, leaf by leaf, in byte order (so string fields come sorted and
// disjoint). `path` is the field numbers from the top ("4.16.6", array elements "4[2].1");
// `message` numbers each message walked (fields of one message share it).
struct Leaf {
  enum class Kind : std::uint8_t { number, text, bytes };
  Kind kind = Kind::number;
  Wire wire = Wire::varint;  // number: varint (also packed), fixed32 or fixed64
  std::uint64_t value = 0;   // number
  std::size_t offset = 0;    // text, bytes: where in the walked bytes
  std::size_t size = 0;
  std::string_view path;     // valid during the callback only
  std::uint32_t message = 0;
  std::uint32_t depth = 0;   // nesting level of the message holding the leaf (0: top)
};

struct WalkLimits {
  std::size_t max_depth = 16;        // nested messages below the top
  std::size_t max_fields = 50000;    // leaves reported
  std::size_t max_work = 8u << 20;   // bytes examined over all attempts (each level re-reads)
};

struct WalkResult {
  bool message = false;       // the bytes parse as one message to the end
  bool limit = false;         // a bound was reached: deeper or later content was left as bytes
  std::uint32_t messages = 0; // messages walked (ids 0 .. messages-1)
};

// Walks `bytes` as a message, reporting leaves; nothing is reported when they do not parse.
// `leaf` must not walk again (the walk's storage is per thread).
WalkResult walk(std::string_view bytes, const WalkLimits& limits, FunctionRef<void(const Leaf&)> leaf);

}  // namespace leakguard::decoders::protobuf
