#include "detectors/key_context.hpp"

#include <algorithm>
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

KeyClass classify_names(const Key& k);

// Where the last word naming another kind of number ends in the key, or npos. "tracking" in
// "trackingareacode" (an LTE TAC) and "adtrackingid" (an advertising id) names none.
std::size_t other_number_end(const Key& k) {
  static constexpr Part words[] = {"order", "invoice", "tracking", "ticket", "booking", "transaction", "txn"};
  std::size_t last = std::string_view::npos;
  for (const Part& word : words) {
    if (!k.may_hold(word)) continue;
    for (std::size_t at = k.text.find(word.text); at != std::string_view::npos; at = k.text.find(word.text, at + 1)) {
      const std::string_view rest = k.text.substr(at + word.text.size());
      if (word.text == "tracking" && (rest.starts_with("area") || k.text.substr(0, at).ends_with("ad"))) continue;
      const std::size_t end = at + word.text.size();
      if (last == std::string_view::npos || end > last) last = end;
    }
  }
  return last;
}

KeyClass classify_normalized(std::string_view text) {
  const Key k{text, char_set(text)};
  const std::size_t vetoed_until = other_number_end(k);
  if (vetoed_until == std::string_view::npos) return classify_names(k);
  // The head of a compound name is its last word: "order_phone" is a phone, "imei_order_no" an order.
  const std::string_view tail = text.substr(vetoed_until);
  const KeyClass after = tail.empty() ? key_none : classify_names(Key{tail, char_set(tail)});
  return after != key_none ? after : key_other_number;
}

KeyClass classify_names(const Key& k) {
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
      is_one_of(k, {"aaid", "idfa", "oaid", "adsid", "maid", "ifa", "rida", "googleadid", "gpsadid", "advid", "googleaid",
                    "gaaid", "afai", "msai", "tifa", "lgudid", "vaid"}))
    c |= key_gaid;
  if (contains(k, "androidid") || k == "ssaid") c |= key_android_id;
  if (is_one_of(k, {"aid", "andid", "anid", "adrid", "andrid", "andrdid", "droidid"})) c |= key_android_id_short;
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

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

bool is_pair_padding(char c) { return c == ' ' || c == '\t' || c == '"' || c == '\''; }

}  // namespace

std::string_view pair_key_before(std::string_view text, std::size_t floor, std::size_t pos) {
  std::size_t i = std::min(pos, text.size());
  const auto skip_padding = [&] {
    for (int n = 0; i > floor && n < 3 && is_pair_padding(text[i - 1]); ++n) --i;
  };
  skip_padding();
  if (i == floor || (text[i - 1] != '=' && text[i - 1] != ':')) return {};
  --i;
  skip_padding();
  const std::size_t end = i;
  // Up to three words: "Android ID: f1e2...", "phone number = 138...". Each must start with a letter
  // or '_': "10:00:01 imei: 35..." keys on "imei", "12:34:56" is a time and no pair at all.
  std::size_t key_start = end;
  for (int words = 0; words < 3; ++words) {
    std::size_t word = key_start;
    if (words > 0) {
      if (word - floor < 2 || text[word - 1] != ' ') break;
      --word;
    }
    const std::size_t word_end = word;
    while (word > floor && end - word < 40 && is_key_char(text[word - 1])) --word;
    if (word == word_end || !is_name_start(text[word])) break;
    key_start = word;
  }
  return text.substr(key_start, end - key_start);
}

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
