// What the name a value was sent under says about it ("imsi", "X-Device-IMEI", "SIM1CELLID",
// "latitudeE7"). Heuristics need this context to tell an IMSI from any 15-digit number; the known
// detector uses it for cell ids. Names are compared lower-case with separators removed.
#pragma once

#include <cstddef>
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
  // "aid", "andid", "anid": the Android ID under a short name. The name alone says little (an app
  // id is "aid" too), so only a value that looks like an Android ID (16 hex, letters and digits) counts.
  key_android_id_short = 1u << 16,
  // "order_no", "invoiceId", "tracking_number", "ticket", "booking_ref", "transaction_id": another
  // kind of number. It vetoes every identifier the value would otherwise be taken for (a Luhn-valid
  // 15-digit order number is no IMEI), unless the name ends in an identifier's own name ("order_phone":
  // the phone of the order). Nothing pairs with it: header_memo ignores this bit alone.
  key_other_number = 1u << 17,
};

KeyClass classify_key(std::string_view key);

// The key of a `key=value` or `key: value` pair whose value starts at `pos` in free text ("IMSI=4600...",
// "android_id: f1e2..."), never looking before `floor`; empty when no such pair ends there. Spaces
// and quotes may stand around the separator ("imei" : "35...").
std::string_view pair_key_before(std::string_view text, std::size_t floor, std::size_t pos);

}  // namespace leakguard
