// The compiled form of every known value: a Hyperscan literal database of each device's forms
// (compiled on the device's first scan, and shared with the next configuration while its forms
// are the same) and a lookup table of digests, plus what each pattern means. Location and cell
// values become literal prefixes and cell ids that the detector then checks numerically. Learned
// values get a small index of their own, built when a value is learned.
#pragma once

#include <bitset>
#include <cstdint>
#include <utility>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/identifier_kind.hpp"
#include "config/config.hpp"
#include "detectors/known_identifiers/forms.hpp"
#include "detectors/matchers/hyperscan.hpp"

namespace leakguard::known {

enum class Role : std::uint8_t {
  identifier,    // a form of a string value
  latitude,      // "59.913": the start of a latitude within the radius (3 decimals)
  longitude,
  latitude_e7,   // "59913": the start of the latitude times 10^7
  longitude_e7,
  cell_id,       // the cell id in decimal
};

struct PatternInfo {
  std::uint32_t value = 0;  // index into values()
  std::uint16_t length = 0;
  Role role = Role::identifier;
  // Bits: 12 bytes a pattern, 200,000 patterns with 1,000 profiles.
  bool digit_boundary : 1 = false;
  bool hex_boundary : 1 = false;
  bool whole_token : 1 = false;  // a digest: matched as a whole token (match_digest), not in scan()
  FormFamily family = FormFamily::plain;
  std::uint8_t e7_digits = 0;  // E7 roles: digits of the whole number
  std::uint8_t variant = 0;    // KnownIndex::name(): "no-check-digit", ...; 0 is ""
  std::uint8_t transform = 0;  // KnownIndex::name(): "hex", "md5", ...; 0 is ""
};

struct IndexedValue {
  std::uint32_t device = 0;  // index in Config::devices (0 in a learned index)
  IdentifierKind kind = IdentifierKind::imei;
  std::string value;         // canonical; location "lat,lon"; cell "mcc-mnc-lac-cid"
  GeoPoint point;
  CellId cell;
};

// A value that protobuf may carry as a number (numeric_forms.cpp): its integer, as a varint or
// fixed64 field, or its zigzag encoding (sint64) as a varint.
struct NumericValue {
  std::uint64_t number = 0;  // what the field holds
  std::uint32_t value = 0;   // index into values()
  bool zigzag = false;       // number = 2 × the value: only as a varint
};

// A profile location, for coordinates sent as numbers (double, float, E7 integers).
struct NumericPoint {
  std::uint32_t value = 0;
  double lat = 0;
  double lon = 0;
  double dlat = 0;  // the radius in degrees of latitude and of longitude there
  double dlon = 0;
};

struct IndexOptions {
  FormOptions forms;
  double radius_m = 150;
  std::vector<IdentifierKind> kinds;  // looked for; empty = all
};

// Metres between two points (equirectangular: exact enough within a location radius).
double distance_m(double lat1, double lon1, double lat2, double lon2);

class KnownIndex {
 public:
  // Values of every device in `config` (device = index in config.devices). Throws ConfigError for
  // a value that is no identifier of its kind. Compiles no database (scan() does).
  static std::shared_ptr<const KnownIndex> from_devices(const Config& config, const IndexOptions& options);
  // String values learned for one device (device index 0).
  static std::shared_ptr<const KnownIndex> from_values(const std::vector<std::pair<IdentifierKind, std::string>>& values,
                                                       const IndexOptions& options);

  // Appends the matches in `data` of the forms of `device` that can sit anywhere in text (ids
  // are pattern ids). One database per device: a request is only ever matched against its own
  // client's values, and a scan over one device's forms (~120 literals) costs a fraction of one
  // over every device's (6,000 with 50 profiles), which then drops 49/50 of what it found.
  // A device's database is compiled by its first scan (thread-safe, once; ~5 ms that request
  // pays), so that start-up and reload with 1,000 profiles compile nothing (bench/RESULTS.md),
  // unless the previous configuration's index already compiled the same forms: then it is shared.
  void scan(std::size_t device, std::string_view data, std::vector<matchers::Match>& out) const;
  // The device's database if a scan compiled it or the index took it from the previous one, else
  // null. For tests: not synchronised with another thread's first scan of the device.
  const matchers::Database* compiled(std::size_t device) const {
    return device < databases_.size() ? databases_[device]->database.get() : nullptr;
  }
  // Digests (MD5/SHA-1/SHA-256 as hex or base64) are only ever sent whole, as one digest-shaped
  // token (matchers/digest_tokens.hpp): appends a match ending at `end` for every digest whose
  // text is `token`. A lookup, not a scan: no Hyperscan compile for the 60% of the literals that
  // digests are, and a few hundred instructions per token.
  void match_digest(std::string_view token, std::uint32_t end, std::vector<matchers::Match>& out) const;
  bool has_digests() const { return !digests_.entries.empty() || !caseless_digests_.entries.empty(); }
  const PatternInfo& pattern(std::uint32_t id) const { return patterns_[id]; }
  // A pattern's variant or transform name (PatternInfo::variant, ::transform).
  std::string_view name(std::uint8_t index) const { return names_[index]; }
  const IndexedValue& value(std::uint32_t index) const { return values_[index]; }
  std::size_t value_count() const { return values_.size(); }
  std::size_t pattern_count() const { return patterns_.size(); }
  double radius_m() const { return radius_m_; }
  // Protobuf numbers (DecodedView::numbers) of one device: its identifiers as integers sorted
  // by number, its locations, and its cells (indexes into values(), cell ids of 100 and more).
  std::span<const NumericValue> numbers(std::size_t device) const;
  std::span<const NumericPoint> points(std::size_t device) const;
  std::span<const std::uint32_t> cells(std::size_t device) const;

 private:
  void add_string_value(std::uint32_t device, IdentifierKind kind, const std::string& canonical,
                        const FormOptions& options);
  void add_location(std::uint32_t device, const GeoPoint& point);
  void add_cell(std::uint32_t device, const CellId& cell);
  void add_pattern(PatternInfo info, std::string text, bool caseless, std::string_view variant = {},
                   std::string_view transform = {});
  std::uint8_t intern(std::string_view name);
  void compile();

  template <typename T>
  static void append(std::vector<std::vector<T>>& by_device, std::uint32_t device, T item) {
    if (by_device.size() <= device) by_device.resize(device + 1);
    by_device[device].push_back(item);
  }

  std::vector<IndexedValue> values_;
  std::vector<std::vector<NumericValue>> numbers_;
  std::vector<std::vector<NumericPoint>> points_;
  std::vector<std::vector<std::uint32_t>> cells_;
  // One device's scanned literals: patterns [first, end) minus its digests, compiled with ids
  // relative to `first`, so that the same forms in another configuration (or at another device
  // index) compile to the same database, found by `key` (a hash of ids, flags and texts).
  struct DeviceDatabase {
    std::uint32_t first = 0;
    std::uint32_t end = 0;
    std::uint32_t text = 0;  // where the device's first scanned literal starts in literal_text_
    std::uint64_t key = 0;
    std::size_t described = 0;  // bytes hashed into `key`: part of the cache key too
    std::once_flag compiled;
    std::shared_ptr<const matchers::Database> database;  // set once, under `compiled`
  };
  const matchers::Database& database(std::size_t device) const;
  std::shared_ptr<const matchers::Database> compile_device(const DeviceDatabase& slot) const;

  std::vector<PatternInfo> patterns_;
  std::string literal_text_;  // the scanned literals' texts, one after another in pattern order
  std::vector<bool> caseless_;
  std::vector<std::string_view> names_{""};  // static strings from forms.cpp; PatternInfo holds their index
  std::vector<std::unique_ptr<DeviceDatabase>> databases_;  // by device index
  // Digest texts (lower-case when caseless) with their pattern ids, sorted by their first eight
  // bytes: a binary search over integers, then one text compare (digests are random: the first
  // eight bytes of a token almost never match a digest they do not begin). A table holds hex or
  // base64 spellings, so most tokens have a length it lacks and skip it.
  // The texts sit one after another in the table's `text` (a std::string each cost ~80 bytes
  // more: 10 MiB with 1,000 profiles).
  struct Digest {
    std::uint64_t prefix = 0;
    std::uint32_t id = 0;
    std::uint32_t offset = 0;  // in DigestTable::text
    std::uint8_t length = 0;
  };
  struct DigestTable {
    std::vector<Digest> entries;
    std::string text;
    std::bitset<65> lengths;  // digests are 22 to 64 characters
    void find(std::string_view token, std::uint32_t end, std::vector<matchers::Match>& out) const;
  };
  DigestTable digests_;
  DigestTable caseless_digests_;
  double radius_m_ = 150;
};

}  // namespace leakguard::known
