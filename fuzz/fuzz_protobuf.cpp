// The protobuf walker (decoders/protobuf.hpp) and the request paths that use it.
//
// Differential: the walker's verdict (parses to the end, or not) must equal that of a second,
// deliberately plain reading of the wire format below (one byte at a time, no shared code). The
// brief asked for libprotobuf's UnknownFieldSet as the reference; Debian's libprotobuf-dev could
// not be installed on the build machine (apt's state needs --fix-broken, which would replace
// installed packages), so the second reading stands in for it. Groups are the one intended
// difference from libprotobuf: we refuse them, it accepts them.
//
// Invariants: every leaf inside the input; string and bytes leaves sorted and disjoint (the
// decoded view's fields must be); text leaves are text; depth within the bound. Then the input
// goes through the Inspector as a protobuf, gRPC, gRPC-web-text and octet-stream body.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "detectors/decoders/protobuf.hpp"
#include "fuzz/fuzz_support.hpp"

namespace {

// A varint of at most ten bytes; false if the input ends first.
bool reference_varint(std::string_view bytes, std::size_t& pos, unsigned __int128& value) {
  value = 0;
  for (int count = 0; count < 10; ++count) {
    if (pos >= bytes.size()) return false;
    const unsigned byte = static_cast<unsigned char>(bytes[pos]);
    ++pos;
    value |= static_cast<unsigned __int128>(byte & 0x7f) << (7 * count);
    if (byte < 0x80) return true;
  }
  return false;
}

bool reference_is_message(std::string_view bytes) {
  std::size_t pos = 0;
  int fields = 0;
  while (pos < bytes.size()) {
    unsigned __int128 tag = 0;
    if (!reference_varint(bytes, pos, tag)) return false;
    if (tag > 0xffffffffu) return false;
    const unsigned wire = static_cast<unsigned>(tag & 7);
    const unsigned long long number = static_cast<unsigned long long>(tag >> 3);
    if (number < 1 || number > 536870911ull) return false;
    unsigned __int128 skip = 0;
    if (wire == 0) {
      if (!reference_varint(bytes, pos, skip)) return false;
      skip = 0;
    } else if (wire == 1) {
      skip = 8;
    } else if (wire == 5) {
      skip = 4;
    } else if (wire == 2) {
      if (!reference_varint(bytes, pos, skip)) return false;
    } else {
      return false;
    }
    if (skip > bytes.size() - pos) return false;
    pos += static_cast<std::size_t>(skip);
    ++fields;
  }
  return fields > 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leakguard;
  namespace wire = decoders::protobuf;
  if (size < 1) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  const bool message = wire::is_message(bytes);
  if (message != reference_is_message(bytes)) __builtin_trap();
  wire::WalkLimits limits;
  limits.max_depth = 8;
  limits.max_fields = 2000;
  std::size_t text_end = 0;
  std::size_t leaves = 0;
  const auto walked = wire::walk(bytes, limits, [&](const wire::Leaf& leaf) {
    ++leaves;
    if (leaf.offset > bytes.size() || leaf.size > bytes.size() - leaf.offset) __builtin_trap();
    if (leaf.depth > limits.max_depth) __builtin_trap();
    if (leaf.kind == wire::Leaf::Kind::number) return;
    if (leaf.offset < text_end) __builtin_trap();
    text_end = leaf.offset + leaf.size;
    if (leaf.kind == wire::Leaf::Kind::text && !wire::is_text(bytes.substr(leaf.offset, leaf.size))) __builtin_trap();
  });
  if (walked.message != message || leaves > limits.max_fields) __builtin_trap();

  static constexpr std::string_view types[] = {"application/x-protobuf", "application/grpc-web+proto",
                                                "application/grpc-web-text", "application/octet-stream"};
  LearnedValues learned;
  InspectionResult result;
  fuzz::inspector().inspect_body(bytes, types[data[0] & 3], (data[0] & 4) ? "gzip" : "", fuzz::context(learned), result);
  fuzz::check(result);
  return 0;
}
