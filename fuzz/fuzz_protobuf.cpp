// The protobuf walker (decoders/protobuf.hpp) and the request paths that use it.
//
// Differential: one message level as the walker's field parser reads it must be what libprotobuf
// reads (UnknownFieldSet, the schema-less parse of protobuf's own runtime): the same verdict, and
// when both accept, the same fields in the same order with the same values. The intended
// differences: groups (wire types 3 and 4, deprecated) and empty input, which we refuse and
// libprotobuf accepts.
//
// Invariants: every leaf inside the input; string and bytes leaves sorted and disjoint (the
// decoded view's fields must be); text leaves are text; depth within the bound. Then the input
// goes through the Inspector as a protobuf, gRPC, gRPC-web-text and octet-stream body.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <google/protobuf/unknown_field_set.h>

#include "detectors/decoders/protobuf.hpp"
#include "fuzz/fuzz_support.hpp"

namespace {

namespace gpb = google::protobuf;

bool same_field(const leakguard::decoders::protobuf::WireField& ours, const gpb::UnknownField& theirs,
                std::string_view bytes) {
  using leakguard::decoders::protobuf::Wire;
  if (ours.number != static_cast<std::uint32_t>(theirs.number())) return false;
  switch (theirs.type()) {
    case gpb::UnknownField::TYPE_VARINT: return ours.wire == Wire::varint && ours.value == theirs.varint();
    case gpb::UnknownField::TYPE_FIXED32: return ours.wire == Wire::fixed32 && ours.value == theirs.fixed32();
    case gpb::UnknownField::TYPE_FIXED64: return ours.wire == Wire::fixed64 && ours.value == theirs.fixed64();
    case gpb::UnknownField::TYPE_LENGTH_DELIMITED:
      return ours.wire == Wire::length && bytes.substr(ours.offset, ours.size) == theirs.length_delimited();
    default: return false;
  }
}

// Our parse of one message level against libprotobuf's; traps on any difference.
void differential(std::string_view bytes) {
  namespace wire = leakguard::decoders::protobuf;
  std::vector<wire::WireField> ours;
  const bool ours_ok = wire::parse_fields(bytes, 1u << 20, [&](const wire::WireField& field) { ours.push_back(field); });
  gpb::UnknownFieldSet theirs;
  const bool theirs_ok = theirs.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  bool group = false;
  for (int i = 0; theirs_ok && i < theirs.field_count(); ++i) group = group || theirs.field(i).type() == gpb::UnknownField::TYPE_GROUP;
  if (ours_ok != (theirs_ok && !group && theirs.field_count() > 0)) __builtin_trap();
  if (!ours_ok) return;
  if (ours.size() != static_cast<std::size_t>(theirs.field_count())) __builtin_trap();
  for (std::size_t i = 0; i < ours.size(); ++i)
    if (!same_field(ours[i], theirs.field(static_cast<int>(i)), bytes)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leakguard;
  namespace wire = decoders::protobuf;
  if (size < 1) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  differential(bytes);
  const bool message = wire::is_message(bytes);
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
