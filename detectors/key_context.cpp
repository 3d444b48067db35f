#include "detectors/key_context.hpp"

#include <array>
#include <cstdint>
#include <cstring>

namespace leakguard {
namespace {

// A key name's letters and digits as a set (bit per a-z, one bit for all digits). A pattern whose
// set is not inside the key's cannot occur in it: most keys ("field12", "session") are then
// rejected by one AND per pattern instead of a substring search (forms with hundreds of distinct
// keys made these searches a quarter of the inspection).
constexpr std::uint32_t char_set(std::string_view text) {
  std::uint32_t set = 0;
  for (const char c : text) {
    if (c >= 'a' && c <= 'z') set |= 1u << (c - 'a');
    else if (c >= '0' && c <= '9') set |= 1u << 26;
  }
  return set;
}

struct Part {
  std::string_view text;
  std::uint32_t set;
  template <std::size_t N>
  consteval Part(const char (&literal)[N]) : text(literal, N - 1), set(char_set(std::string_view(literal, N - 1))) {}
};

struct Key {
  std::string_view text;
  std::uint32_t set;
  bool may_hold(const Part& part) const { return (part.set & ~set) == 0 && part.text.size() <= text.size(); }
};

bool contains(const Key& k, const Part& part) { return k.may_hold(part) && k.text.find(part.text) != std::string_view::npos; }
bool ends(const Key& k, const Part& part) {
  return k.may_hold(part) && k.text.substr(k.text.size() - part.text.size()) == part.text;
}
bool starts(const Key& k, const Part& part) { return k.may_hold(part) && k.text.substr(0, part.text.size()) == part.text; }
bool operator==(const Key& k, const Part& part) { return k.set == part.set && k.text == part.text; }
bool is_one_of(const Key& k, std::initializer_list<Part> list) {
  for (const auto& item : list)
    if (k == item) return true;
  return false;
}

KeyClass classify_normalized(std::string_view text) {
  const Key k{text, char_set(text)};
  KeyClass c = key_none;
  if (contains(k, "imei")) c |= key_imei;
  if (contains(k, "imsi") || contains(k, "subscriberid")) c |= key_imsi;
  if (contains(k, "iccid") || contains(k, "simserial") || contains(k, "simsn") || k == "icc") c |= key_iccid;
  if (contains(k, "msisdn") || contains(k, "phone") || contains(k, "mobilenum") || contains(k, "mobileno") ||
      k == "mobile" || k == "tel" || contains(k, "telnum") || contains(k, "telephone") || k == "mdn" ||
      contains(k, "linenumber") || contains(k, "cellnumber") || contains(k, "callernum"))
    c |= key_msisdn;
  if (k == "mac" || ends(k, "mac") || starts(k, "macaddr") || starts(k, "macid") || contains(k, "macaddress") ||
      contains(k, "wifimac") || contains(k, "wlanmac") || contains(k, "btmac"))
    c |= key_mac;
  if (contains(k, "advertisingid") || contains(k, "advertiserid") || contains(k, "gaid") || starts(k, "adid") ||
      ends(k, "adid") || contains(k, "adtrackingid") ||
      is_one_of(k, {"aaid", "idfa", "oaid", "adsid", "maid", "ifa", "rida", "googleadid", "gpsadid"}))
    c |= key_gaid;
  if (contains(k, "androidid") || k == "ssaid") c |= key_android_id;
  if (is_one_of(k, {"lat", "late7", "latitude", "latitudee7"}) || ends(k, "lat") || contains(k, "latitude"))
    c |= key_latitude;
  if (is_one_of(k, {"lon", "lng", "long", "lone7", "lnge7", "longitude", "longitudee7"}) || ends(k, "lon") ||
      ends(k, "lng") || contains(k, "longitude"))
    c |= key_longitude;
  if (ends(k, "e7")) c |= key_e7;
  if (k == "mcc" || ends(k, "mcc") || contains(k, "mobilecountrycode")) c |= key_mcc;
  if (k == "mnc" || ends(k, "mnc") || contains(k, "mobilenetworkcode")) c |= key_mnc;
  if (is_one_of(k, {"lac", "tac", "lacid", "tacid"}) || ends(k, "lac") || contains(k, "locationareacode") ||
      contains(k, "trackingareacode"))
    c |= key_lac;
  if (is_one_of(k, {"cid", "ci", "eci", "nci", "cellid", "cellidentity", "cgi", "ecgi"}) || ends(k, "cellid") ||
      (ends(k, "cid") && !ends(k, "macid")))
    c |= key_cell_id;
  if (contains(k, "cellid")) c |= key_cell_self;
  if (is_one_of(k, {"loc", "ll", "latlng", "latlon", "coords", "coord", "position", "pos", "gps", "geo"}) ||
      contains(k, "location") || starts(k, "geo") || contains(k, "coordinate") || contains(k, "gps"))
    c |= key_location;
  return c;
}

}  // namespace

KeyClass classify_key(std::string_view key) {
  if (key.empty()) return key_none;
  std::array<char, 48> buffer;
  std::size_t size = 0;
  for (const char ch : key) {
    char c = ch;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) continue;
    if (size == buffer.size()) break;
    buffer[size++] = c;
  }
  if (size == 0) return key_none;
  // Keys repeat (the same JSON schema, the same headers); a tiny per-thread cache skips the string
  // tests for them.
  struct Slot {
    std::array<char, 48> key;
    std::uint8_t size = 0;
    KeyClass value = 0;
    bool used = false;
  };
  thread_local std::array<Slot, 1024> cache{};
  std::uint32_t hash = 2166136261u;
  for (std::size_t i = 0; i < size; ++i) hash = (hash ^ static_cast<unsigned char>(buffer[i])) * 16777619u;
  Slot& slot = cache[hash & 1023];
  if (slot.used && slot.size == size && std::memcmp(slot.key.data(), buffer.data(), size) == 0) return slot.value;
  const KeyClass value = classify_normalized(std::string_view(buffer.data(), size));
  std::memcpy(slot.key.data(), buffer.data(), size);
  slot.size = static_cast<std::uint8_t>(size);
  slot.value = value;
  slot.used = true;
  return value;
}

}  // namespace leakguard
