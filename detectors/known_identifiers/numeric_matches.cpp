// KnownIdentifierDetector::report_numbers: a device's values among the numbers of protobuf
// messages (DecodedView::numbers). Numbers have no bytes in any text buffer, so a finding has no
// location: a number cannot be masked in place (the rule's `otherwise` applies).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/mask.hpp"
#include "detectors/known_identifiers/known_identifier_detector.hpp"

namespace leakguard {
namespace {

// A number read as a coordinate: a double (fixed64), a float (fixed32), or degrees × 10^7 as an
// int32/int64 varint, a zigzag (sint32/sint64) varint or an sfixed32.
struct Coordinate {
  double degrees = 0;
  std::string_view transform;
};

std::size_t coordinates_of(const NumberField& number, Coordinate out[2]) {
  std::size_t count = 0;
  switch (number.wire) {
    case NumberWire::fixed64:
      out[count++] = {std::bit_cast<double>(number.value), "double"};
      break;
    case NumberWire::fixed32: {
      const auto bits = static_cast<std::uint32_t>(number.value);
      out[count++] = {static_cast<double>(std::bit_cast<float>(bits)), "float"};
      out[count++] = {static_cast<std::int32_t>(bits) / 1e7, "fixed32-e7"};
      break;
    }
    case NumberWire::varint: {
      // int32 fields sign-extend negative values to 64 bits, so one reading covers both.
      const auto plain = static_cast<std::int64_t>(number.value);
      if (plain >= -1800000000 && plain <= 1800000000) out[count++] = {plain / 1e7, "e7"};
      const std::int64_t zigzag = static_cast<std::int64_t>(number.value >> 1) ^ -static_cast<std::int64_t>(number.value & 1);
      if (zigzag >= -1800000000 && zigzag <= 1800000000 && number.value > 1) out[count++] = {zigzag / 1e7, "zigzag-e7"};
      break;
    }
  }
  return count;
}

struct CoordinateHit {
  std::size_t number;  // index in view.numbers
  std::size_t point;   // index in index.points(device)
  double degrees;
  std::string_view transform;
};

std::string decimal(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6f", value);
  return text;
}

bool in_message(const NumberField& a, const NumberField& b) { return a.buffer == b.buffer && a.group == b.group; }

}  // namespace

void KnownIdentifierDetector::report_numbers(const known::KnownIndex& index, std::size_t device, bool learned,
                                             const DecodedView& view, const DetectionContext& context,
                                             std::vector<Finding>& out) {
  const auto values = index.numbers(device);
  const auto points = index.points(device);
  const auto cells = index.cells(device);
  std::vector<CoordinateHit> latitudes;
  std::vector<CoordinateHit> longitudes;
  for (std::size_t n = 0; n < view.numbers.size(); ++n) {
    const NumberField& number = view.numbers[n];
    const ScanBuffer& buffer = view.buffers[number.buffer];
    // Identifiers: the exact integer, so the next IMEI or an Android ID off by one is nothing.
    if (number.wire != NumberWire::fixed32 && !values.empty()) {
      auto it = std::lower_bound(values.begin(), values.end(), number.value,
                                 [](const known::NumericValue& v, std::uint64_t key) { return v.number < key; });
      for (; it != values.end() && it->number == number.value; ++it) {
        if (it->zigzag && number.wire != NumberWire::varint) continue;
        const std::string_view transform = it->zigzag ? "zigzag" : number.wire == NumberWire::varint ? "varint" : "fixed64";
        const known::IndexedValue& value = index.value(it->value);
        Finding finding = known_finding(value.kind, value, learned, buffer, nullptr, transform, "", context);
        finding.where = number.where.str();
        finding.matched.push_back(std::to_string(number.value));
        out.push_back(std::move(finding));
      }
    }
    // Coordinates: candidates here, paired below within one message.
    Coordinate readings[2];
    const std::size_t count = points.empty() ? 0 : coordinates_of(number, readings);
    for (std::size_t r = 0; r < count; ++r) {
      const double degrees = readings[r].degrees;
      if (!std::isfinite(degrees)) continue;
      for (std::size_t p = 0; p < points.size(); ++p) {
        if (std::fabs(degrees - points[p].lat) <= points[p].dlat) latitudes.push_back({n, p, degrees, readings[r].transform});
        if (std::fabs(degrees - points[p].lon) <= points[p].dlon) longitudes.push_back({n, p, degrees, readings[r].transform});
      }
    }
    // Cells: the id, with the network's mcc and its mnc or lac, in the same message.
    if (number.wire != NumberWire::varint) continue;
    for (const std::uint32_t cell_value : cells) {
      const known::IndexedValue& value = index.value(cell_value);
      const CellId& cell = value.cell;
      if (number.value != static_cast<std::uint64_t>(cell.cid)) continue;
      if (context.notes) context.notes->cross_field_candidate = true;
      bool mcc = false;
      bool network = false;
      for (const NumberField& other : view.numbers) {
        if (&other == &number || other.wire != NumberWire::varint || !in_message(other, number)) continue;
        mcc = mcc || other.value == static_cast<std::uint64_t>(cell.mcc);
        network = network || other.value == static_cast<std::uint64_t>(cell.mnc) ||
                  other.value == static_cast<std::uint64_t>(cell.lac);
      }
      if (!mcc || !network) continue;
      Finding finding = known_finding(IdentifierKind::cell, value, learned, buffer, nullptr, "varint", "", context);
      finding.where = number.where.str();
      finding.matched.push_back(std::to_string(number.value));
      out.push_back(std::move(finding));
    }
  }
  if (!latitudes.empty() || !longitudes.empty()) {
    if (context.notes) context.notes->cross_field_candidate = true;
  }
  // A location: a latitude and a longitude of one message, read the same way, within the radius.
  std::vector<std::size_t> reported;
  for (const CoordinateHit& lat : latitudes) {
    if (std::find(reported.begin(), reported.end(), lat.point) != reported.end()) continue;
    const known::NumericPoint& point = points[lat.point];
    for (const CoordinateHit& lon : longitudes) {
      if (lon.point != lat.point || lon.number == lat.number || lon.transform != lat.transform) continue;
      const NumberField& lat_number = view.numbers[lat.number];
      if (!in_message(lat_number, view.numbers[lon.number])) continue;
      if (known::distance_m(lat.degrees, lon.degrees, point.lat, point.lon) > index.radius_m()) continue;
      const known::IndexedValue& value = index.value(point.value);
      Finding finding = known_finding(IdentifierKind::location, value, learned, view.buffers[lat_number.buffer], nullptr,
                                      lat.transform, "", context);
      finding.where = lat_number.where.str();
      finding.matched.push_back(decimal(lat.degrees));
      finding.matched.push_back(decimal(lon.degrees));
      out.push_back(std::move(finding));
      reported.push_back(lat.point);
      break;
    }
  }
}

}  // namespace leakguard
