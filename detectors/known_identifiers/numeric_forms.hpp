// The numbers a known value is when protobuf carries it as an integer field: an IMEI, IMSI,
// ICCID (when it fits 64 bits) or MSISDN (its E.164 digits) as its decimal value, plain (varint,
// fixed64) or zigzag (sint64); an Android ID (16 hex digits) and a MAC (12) as the integer they
// spell. Built once per configuration with the rest of the index.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/identifier_kind.hpp"
#include "detectors/known_identifiers/known_index.hpp"

namespace leakguard::known {

std::vector<NumericValue> numeric_forms(IdentifierKind kind, std::string_view canonical, std::uint32_t value_index);

}  // namespace leakguard::known
