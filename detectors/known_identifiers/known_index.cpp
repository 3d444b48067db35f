#include "detectors/known_identifiers/known_index.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>

#include "common/ascii.hpp"
#include "detectors/identifiers.hpp"
#include "detectors/known_identifiers/numeric_forms.hpp"

namespace leakguard::known {
namespace {

constexpr double metres_per_degree = 111320.0;

bool wanted(const IndexOptions& options, IdentifierKind kind) {
  return options.kinds.empty() || std::find(options.kinds.begin(), options.kinds.end(), kind) != options.kinds.end();
}

// The first eight bytes (zero-padded), as one integer to sort and search by.
std::uint64_t prefix_of(std::string_view text) {
  std::uint64_t prefix = 0;
  std::memcpy(&prefix, text.data(), std::min<std::size_t>(text.size(), sizeof prefix));
  return prefix;
}

// Databases compiled by any index of this process, by what they hold: the index built by a
// SIGHUP reload takes every unchanged device's database from the index it replaces instead of
// compiling it again. Weak: a database lives as long as an index that uses it.
class DatabaseCache {
 public:
  using Key = std::pair<std::uint64_t, std::size_t>;  // hash and length of the literal set's description
  std::shared_ptr<const matchers::Database> find(const Key& key) {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : it->second.lock();
  }
  void add(const Key& key, const std::shared_ptr<const matchers::Database>& database) {
    std::lock_guard lock(mutex_);
    if (entries_.size() >= 2 * live_after_purge_ + 64) {
      std::erase_if(entries_, [](const auto& entry) { return entry.second.expired(); });
      live_after_purge_ = entries_.size();
    }
    entries_[key] = database;
  }

 private:
  std::mutex mutex_;
  std::map<Key, std::weak_ptr<const matchers::Database>> entries_;
  std::size_t live_after_purge_ = 0;
};

DatabaseCache& database_cache() {
  static DatabaseCache cache;
  return cache;
}

std::string format_fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

}  // namespace

double distance_m(double lat1, double lon1, double lat2, double lon2) {
  const double dy = (lat1 - lat2) * metres_per_degree;
  const double dx = (lon1 - lon2) * metres_per_degree * std::cos((lat1 + lat2) / 2 * M_PI / 180.0);
  return std::sqrt(dx * dx + dy * dy);
}

std::shared_ptr<const KnownIndex> KnownIndex::from_devices(const Config& config, const IndexOptions& options) {
  auto index = std::make_shared<KnownIndex>();
  index->radius_m_ = options.radius_m;
  for (std::uint32_t d = 0; d < config.devices.size(); ++d) {
    const DeviceProfile& device = config.devices[d];
    for (const auto& [kind, list] : device.values) {
      if (!wanted(options, kind)) continue;
      for (const auto& raw : list) {
        const auto canonical = ids::canonical_value(kind, raw);
        if (!canonical)
          throw ConfigError(config.source, 0, 0,
                            "device '" + device.name + "': " + std::string(to_string(kind)) + " value is not a valid " +
                                std::string(to_string(kind)));
        index->add_string_value(d, kind, *canonical, options.forms);
      }
    }
    if (wanted(options, IdentifierKind::location))
      for (const auto& point : device.locations) index->add_location(d, point);
    if (wanted(options, IdentifierKind::cell))
      for (const auto& cell : device.cells) index->add_cell(d, cell);
  }
  index->compile();
  return index;
}

std::shared_ptr<const KnownIndex> KnownIndex::from_values(
    const std::vector<std::pair<IdentifierKind, std::string>>& values, const IndexOptions& options) {
  auto index = std::make_shared<KnownIndex>();
  index->radius_m_ = options.radius_m;
  for (const auto& [kind, value] : values)
    if (auto canonical = ids::canonical_value(kind, value)) index->add_string_value(0, kind, *canonical, options.forms);
  index->compile();
  return index;
}

void KnownIndex::add_string_value(std::uint32_t device, IdentifierKind kind, const std::string& canonical,
                                  const FormOptions& options) {
  const auto value_index = static_cast<std::uint32_t>(values_.size());
  values_.push_back({device, kind, canonical, {}, {}});
  for (const NumericValue& number : numeric_forms(kind, canonical, value_index)) append(numbers_, device, number);
  for (auto& form : derive_forms(kind, canonical, options)) {
    PatternInfo info;
    info.value = value_index;
    info.length = static_cast<std::uint16_t>(form.text.size());
    info.role = Role::identifier;
    info.digit_boundary = form.digit_boundary;
    info.hex_boundary = form.hex_boundary;
    info.whole_token = form.whole_token;
    info.family = form.family;
    add_pattern(info, std::move(form.text), form.caseless, form.variant, form.transform);
  }
}

std::uint8_t KnownIndex::intern(std::string_view name) {
  const auto at = std::find(names_.begin(), names_.end(), name);
  if (at != names_.end()) return static_cast<std::uint8_t>(at - names_.begin());
  if (names_.size() == 255) throw std::logic_error("known_index: more than 255 form names");
  names_.push_back(name);
  return static_cast<std::uint8_t>(names_.size() - 1);
}

void KnownIndex::add_pattern(PatternInfo info, std::string text, bool caseless, std::string_view variant,
                             std::string_view transform) {
  const auto id = static_cast<std::uint32_t>(patterns_.size());
  info.variant = intern(variant);
  info.transform = intern(transform);
  patterns_.push_back(info);
  caseless_.push_back(caseless);
  if (!info.whole_token) {
    literal_text_ += text;
    return;
  }
  if (caseless)
    for (char& c : text) c = ascii_lower(c);
  DigestTable& table = caseless ? caseless_digests_ : digests_;
  if (text.size() < table.lengths.size()) table.lengths.set(text.size());
  table.entries.push_back({prefix_of(text), id, static_cast<std::uint32_t>(table.text.size()),
                           static_cast<std::uint8_t>(text.size())});
  table.text += text;
}

void KnownIndex::add_location(std::uint32_t device, const GeoPoint& point) {
  const auto value_index = static_cast<std::uint32_t>(values_.size());
  values_.push_back({device, IdentifierKind::location, format_fixed(point.lat, 6) + "," + format_fixed(point.lon, 6),
                     point, {}});
  // Every number within the radius starts with one of a few 3-decimal prefixes ("59.912".."59.915")
  // or, times 10^7, with one of a few leading-digit prefixes: literals for Hyperscan, checked
  // numerically by the detector. The sign is checked there too.
  const double dlat = radius_m_ / metres_per_degree;
  const double dlon = radius_m_ / (metres_per_degree * std::max(0.01, std::cos(point.lat * M_PI / 180.0)));
  append(points_, device, NumericPoint{value_index, point.lat, point.lon, dlat, dlon});
  auto add_prefixes = [&](double coordinate, double delta, Role decimal_role, Role e7_role) {
    const double low = std::max(0.0, std::fabs(coordinate) - delta);
    const double high = std::fabs(coordinate) + delta;
    for (long bin = static_cast<long>(std::floor(low * 1000)); bin <= static_cast<long>(std::floor(high * 1000)); ++bin) {
      PatternInfo info;
      info.value = value_index;
      info.role = decimal_role;
      info.family = FormFamily::plain;
      std::string text = std::to_string(bin / 1000) + "." + format_fixed(static_cast<double>(bin % 1000) / 1000, 3).substr(2);
      info.length = static_cast<std::uint16_t>(text.size());
      add_pattern(info, std::move(text), false);
    }
    const long long e7_low = static_cast<long long>(std::floor(low * 1e7));
    const long long e7_high = static_cast<long long>(std::floor(high * 1e7));
    const std::size_t digits = std::to_string(static_cast<long long>(std::fabs(coordinate) * 1e7)).size();
    if (digits < 8 || std::to_string(e7_low).size() != digits || std::to_string(e7_high).size() != digits) return;
    for (long long bin = e7_low / 10000; bin <= e7_high / 10000; ++bin) {
      PatternInfo info;
      info.value = value_index;
      info.role = e7_role;
      info.family = FormFamily::plain;
      info.e7_digits = static_cast<std::uint8_t>(digits);
      std::string text = std::to_string(bin);
      info.length = static_cast<std::uint16_t>(text.size());
      add_pattern(info, std::move(text), false);
    }
  };
  add_prefixes(point.lat, dlat, Role::latitude, Role::latitude_e7);
  add_prefixes(point.lon, dlon, Role::longitude, Role::longitude_e7);
}

void KnownIndex::add_cell(std::uint32_t device, const CellId& cell) {
  if (cell.cid < 100) return;  // a two-digit cell id would match every small number
  const auto value_index = static_cast<std::uint32_t>(values_.size());
  values_.push_back({device, IdentifierKind::cell,
                     std::to_string(cell.mcc) + "-" + std::to_string(cell.mnc) + "-" + std::to_string(cell.lac) + "-" +
                         std::to_string(cell.cid),
                     {}, cell});
  append(cells_, device, value_index);
  PatternInfo info;
  info.value = value_index;
  info.role = Role::cell_id;
  info.digit_boundary = true;
  std::string text = std::to_string(cell.cid);
  info.length = static_cast<std::uint16_t>(text.size());
  add_pattern(info, std::move(text), false);
}

void KnownIndex::compile() {
  std::size_t devices = 0;
  for (const auto& value : values_) devices = std::max<std::size_t>(devices, value.device + 1);
  for (auto* table : {&digests_, &caseless_digests_}) {
    std::sort(table->entries.begin(), table->entries.end(),
              [](const Digest& a, const Digest& b) { return a.prefix < b.prefix; });
    table->entries.shrink_to_fit();
    table->text.shrink_to_fit();
  }
  for (auto& list : numbers_)
    std::sort(list.begin(), list.end(), [](const NumericValue& a, const NumericValue& b) { return a.number < b.number; });
  // Grown by doubling: with 1,000 profiles the spare capacity alone was several MiB.
  values_.shrink_to_fit();
  patterns_.shrink_to_fit();
  literal_text_.shrink_to_fit();
  caseless_.shrink_to_fit();
  // Patterns were added device by device: each device's are one range.
  databases_.reserve(devices);
  for (std::size_t d = 0; d < devices; ++d) databases_.push_back(std::make_unique<DeviceDatabase>());
  for (std::uint32_t i = 0; i < patterns_.size(); ++i) {
    DeviceDatabase& slot = *databases_[values_[patterns_[i].value].device];
    if (slot.end == 0) slot.first = i;
    slot.end = i + 1;
  }
  std::string description;
  std::uint32_t text = 0;
  for (auto& slot : databases_) {
    description.clear();
    slot->text = text;
    for (std::uint32_t i = slot->first; i < slot->end; ++i) {
      if (patterns_[i].whole_token) continue;
      const std::uint32_t head[3] = {i - slot->first, caseless_[i] ? 1u : 0u, patterns_[i].length};
      description.append(reinterpret_cast<const char*>(head), sizeof head);
      description.append(literal_text_, text, patterns_[i].length);
      text += patterns_[i].length;
    }
    slot->key = std::hash<std::string>{}(description);
    slot->described = description.size();
    slot->database = database_cache().find({slot->key, slot->described});
  }
}

std::shared_ptr<const matchers::Database> KnownIndex::compile_device(const DeviceDatabase& slot) const {
  std::vector<matchers::Literal> literals;
  std::uint32_t text = slot.text;
  for (std::uint32_t i = slot.first; i < slot.end; ++i) {
    if (patterns_[i].whole_token) continue;
    literals.push_back({std::string_view(literal_text_).substr(text, patterns_[i].length), caseless_[i], i - slot.first});
    text += patterns_[i].length;
  }
  try {
    auto database = std::make_shared<const matchers::Database>(matchers::Database::compile_literals(literals));
    database_cache().add({slot.key, slot.described}, database);
    return database;
  } catch (const std::exception& error) {
    // Literals of validated values always compile; if Hyperscan still refuses (out of memory),
    // the request is inspected by the other detectors rather than failed, and it is said.
    std::fprintf(stderr, "leakguard: known identifiers of one device are not matched: %s\n", error.what());
    return std::make_shared<const matchers::Database>();
  }
}

void KnownIndex::DigestTable::find(std::string_view token, std::uint32_t end, std::vector<matchers::Match>& out) const {
  const std::uint64_t prefix = prefix_of(token);
  auto it = std::lower_bound(entries.begin(), entries.end(), prefix,
                             [](const Digest& entry, std::uint64_t key) { return entry.prefix < key; });
  for (; it != entries.end() && it->prefix == prefix; ++it)
    if (it->length == token.size() && std::string_view(text).substr(it->offset, it->length) == token)
      out.push_back({it->id, end});
}

void KnownIndex::match_digest(std::string_view token, std::uint32_t end, std::vector<matchers::Match>& out) const {
  if (token.size() >= digests_.lengths.size()) return;
  if (digests_.lengths.test(token.size())) digests_.find(token, end, out);
  if (!caseless_digests_.lengths.test(token.size())) return;
  char lowered[64] = {};
  for (std::size_t i = 0; i < token.size(); ++i) lowered[i] = ascii_lower(token[i]);
  caseless_digests_.find(std::string_view(lowered, token.size()), end, out);
}

std::span<const NumericValue> KnownIndex::numbers(std::size_t device) const {
  return device < numbers_.size() ? std::span<const NumericValue>(numbers_[device]) : std::span<const NumericValue>();
}

std::span<const NumericPoint> KnownIndex::points(std::size_t device) const {
  return device < points_.size() ? std::span<const NumericPoint>(points_[device]) : std::span<const NumericPoint>();
}

std::span<const std::uint32_t> KnownIndex::cells(std::size_t device) const {
  return device < cells_.size() ? std::span<const std::uint32_t>(cells_[device]) : std::span<const std::uint32_t>();
}

const matchers::Database& KnownIndex::database(std::size_t device) const {
  static const matchers::Database none;
  if (device >= databases_.size()) return none;
  DeviceDatabase& slot = *databases_[device];
  std::call_once(slot.compiled, [&] {
    if (!slot.database) slot.database = compile_device(slot);
  });
  return *slot.database;
}

void KnownIndex::scan(std::size_t device, std::string_view data, std::vector<matchers::Match>& out) const {
  const std::size_t from = out.size();
  database(device).scan(data, out);
  if (out.size() == from) return;
  const std::uint32_t first = databases_[device]->first;  // in range: database() found matches
  for (std::size_t i = from; i < out.size(); ++i) out[i].id += first;
}

}  // namespace leakguard::known
