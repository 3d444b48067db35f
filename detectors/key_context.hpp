// What the name a value was sent under says about it ("imsi", "X-Device-IMEI", "SIM1CELLID",
// "latitudeE7"). Heuristics need this context to tell an IMSI from any 15-digit number; the known
// detector uses it for cell ids. Names are compared lower-case with separators removed.
#pragma once

#include <cstdint>
#include <string_view>

namespace leakguard {

using KeyClass = std::uint32_t;
enum : KeyClass {
  key_none = 0,
  key_imei = 1u << 0,
  key_imsi = 1u << 1,
  key_iccid = 1u << 2,
  key_msisdn = 1u << 3,
  key_mac = 1u << 4,
  key_gaid = 1u << 5,
  key_android_id = 1u << 6,
  key_latitude = 1u << 7,
  key_longitude = 1u << 8,
  key_e7 = 1u << 9,
  key_mcc = 1u << 10,
  key_mnc = 1u << 11,
  key_lac = 1u << 12,
  key_cell_id = 1u << 13,
  key_cell_self = 1u << 14,  // "SIM1CELLID", "cellid": a cell id on its own
  key_location = 1u << 15,   // "location", "geo", "gps", "coords": a lat,lon pair inside
};

KeyClass classify_key(std::string_view key);

}  // namespace leakguard
