#include "detectors/known_identifiers/known_identifier_detector.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/mask.hpp"
#include "detectors/identifiers.hpp"
#include "detectors/key_context.hpp"
#include "detectors/matchers/digest_tokens.hpp"

namespace leakguard {
namespace {

using known::FormFamily;
using known::Role;

bool suppressed(const FieldSpan* field, const ScanBuffer& buffer, FormFamily family) {
  const std::uint8_t decoded = static_cast<std::uint8_t>((field ? field->decoded : 0) | buffer.decoded);
  if (decoded & decoded_all) return true;
  if (family == FormFamily::base64 && (decoded & decoded_base64)) return true;
  if (family == FormFamily::hex && (decoded & decoded_hex)) return true;
  return false;
}

struct CoordinateHit {
  std::uint32_t value;
  double coordinate;
  std::size_t begin;
  std::size_t end;
  bool e7;
};

// A number that starts at `begin` (after an optional '-' just before it): its extent and value.
// False if it is glued to other digits or dots (a version, an IP address, a longer number).
bool read_coordinate(std::string_view bytes, std::size_t begin, bool e7, std::uint8_t e7_digits, CoordinateHit& hit) {
  std::size_t start = begin;
  if (start > 0 && bytes[start - 1] == '-') --start;
  if (start > 0 && (ids::is_digit(bytes[start - 1]) || bytes[start - 1] == '.')) return false;
  std::size_t end = begin;
  while (end < bytes.size() && ids::is_digit(bytes[end])) ++end;
  if (e7) {
    if (end - begin != e7_digits) return false;
    if (end < bytes.size() && bytes[end] == '.') return false;
  } else {
    if (end >= bytes.size() || bytes[end] != '.') return false;
    ++end;
    const std::size_t decimals_begin = end;
    while (end < bytes.size() && ids::is_digit(bytes[end])) ++end;
    if (end - decimals_begin < 3) return false;
    if (end + 1 < bytes.size() && bytes[end] == '.' && ids::is_digit(bytes[end + 1])) return false;
  }
  double value = 0;
  const auto result = std::from_chars(bytes.data() + start, bytes.data() + end, value);
  if (result.ec != std::errc()) return false;
  hit.coordinate = e7 ? value / 1e7 : value;
  hit.begin = start;
  hit.end = end;
  hit.e7 = e7;
  return true;
}


// The number `number` alone somewhere in `bytes` (not part of a longer number).
bool has_number(std::string_view bytes, std::string_view number) {
  for (std::size_t pos = bytes.find(number); pos != std::string_view::npos; pos = bytes.find(number, pos + 1)) {
    const bool left = pos == 0 || !ids::is_digit(bytes[pos - 1]);
    const bool right = pos + number.size() >= bytes.size() || !ids::is_digit(bytes[pos + number.size()]);
    if (left && right) return true;
  }
  return false;
}

}  // namespace

Finding known_finding(IdentifierKind kind, const known::IndexedValue& value, bool learned, const ScanBuffer& buffer,
                     const FieldSpan* field, std::string_view transform, std::string_view variant,
                     const DetectionContext& context) {
  Finding finding;
  finding.kind = kind;
  finding.detector = std::string(KnownIdentifierDetector::detector_name);
  finding.method = DetectionMethod::known;
  finding.encoding = encoding_chain(buffer.encoding, transform);
  finding.form = std::string(variant);
  finding.where = std::string(where_of(buffer, field));
  finding.value = value.value;
  finding.masked_value = mask_value(value.value);
  if (context.device) finding.device = context.device->name;
  finding.learned = learned;
  return finding;
}

KnownIdentifierDetector::KnownIdentifierDetector(std::shared_ptr<const known::KnownIndex> index)
    : index_(std::move(index)) {}

void KnownIdentifierDetector::inspect(const DecodedView& view, const DetectionContext& context,
                                      std::vector<Finding>& out) const {
  const bool profiled = context.device_index != static_cast<std::size_t>(-1) && index_->pattern_count() > 0;
  const bool learned = context.learned && context.learned->pattern_count() > 0;
  if (!profiled && !learned) return;
  // Hyperscan costs ~33 ns a call whatever the length: for a small decoded value (a cookie, a
  // JWT's claims) that is most of its scan. Buffers under `joined_below` bytes are scanned in one
  // call, joined by '\n' (the head too: copying it costs less than its own call; the detector took
  // 597-609 ns on the benchmark's request, 621-641 ns when only values under 256 bytes were
  // joined). A match is then given to the buffer holding its last byte, and one that began in the
  // buffer before (across the '\n') is dropped by report()'s length check.
  constexpr std::size_t joined_below = 4096;
  constexpr std::size_t alone = static_cast<std::size_t>(-1);
  thread_local std::string joined;
  thread_local std::vector<std::size_t> starts;  // offset of each buffer in `joined`, or `alone`
  joined.clear();
  starts.assign(view.buffers.size(), alone);
  for (std::size_t i = 0; i < view.buffers.size(); ++i) {
    const std::string_view bytes = view.buffers[i].bytes;
    if (bytes.empty() || bytes.size() >= joined_below) continue;
    starts[i] = joined.size();
    joined.append(bytes);
    joined.push_back('\n');
  }
  // The device's own values, then the values learned for it so far.
  struct Pass {
    const known::KnownIndex* index;
    std::size_t device;
    bool learned;
    std::vector<matchers::Match>* joined_matches;  // by end offset in `joined`
  };
  thread_local std::vector<matchers::Match> joined_matches[2];
  Pass passes[2];
  std::size_t pass_count = 0;
  if (profiled) passes[pass_count++] = {index_.get(), context.device_index, false, &joined_matches[0]};
  if (learned) passes[pass_count++] = {context.learned, 0, true, &joined_matches[1]};
  for (std::size_t p = 0; p < pass_count; ++p) {
    std::vector<matchers::Match>& found = *passes[p].joined_matches;
    found.clear();
    if (joined.empty()) continue;
    passes[p].index->scan(passes[p].device, joined, found);
    // Hyperscan reports literals by end offset already; sorting (no stable_sort: it allocates) is
    // the fallback, not the rule.
    const auto by_end = [](const matchers::Match& a, const matchers::Match& b) {
      return a.end < b.end || (a.end == b.end && a.id < b.id);
    };
    if (!std::is_sorted(found.begin(), found.end(), by_end)) std::sort(found.begin(), found.end(), by_end);
  }

  thread_local std::vector<matchers::Match> matches;
  thread_local std::vector<matchers::Token> tokens;
  const bool digests = (profiled && index_->has_digests()) || (learned && context.learned->has_digests());
  for (std::size_t i = 0; i < view.buffers.size(); ++i) {
    const ScanBuffer& buffer = view.buffers[i];
    tokens.clear();
    if (digests) matchers::find_digest_tokens(view.classes_of(buffer), tokens);
    for (std::size_t p = 0; p < pass_count; ++p) {
      const Pass& pass = passes[p];
      matches.clear();
      if (starts[i] == alone) {
        pass.index->scan(pass.device, buffer.bytes, matches);
      } else {
        const std::size_t start = starts[i];
        const std::vector<matchers::Match>& found = *pass.joined_matches;
        auto it = std::lower_bound(found.begin(), found.end(), start + 1,
                                   [](const matchers::Match& m, std::size_t end) { return m.end < end; });
        for (; it != found.end() && it->end <= start + buffer.bytes.size(); ++it)
          matches.push_back({it->id, static_cast<std::uint32_t>(it->end - start)});
      }
      for (const auto& token : tokens)
        pass.index->match_digest(buffer.bytes.substr(token.begin, token.end - token.begin),
                                 static_cast<std::uint32_t>(token.end), matches);
      if (!matches.empty()) report(*pass.index, pass.learned, view, buffer, matches, context, out);
    }
  }
  if (view.numbers.empty()) return;
  for (std::size_t p = 0; p < pass_count; ++p)
    report_numbers(*passes[p].index, passes[p].device, passes[p].learned, view, context, out);
}

void KnownIdentifierDetector::report(const known::KnownIndex& index, bool learned, const DecodedView& view,
                                     const ScanBuffer& buffer, const std::vector<matchers::Match>& matches,
                                     const DetectionContext& context, std::vector<Finding>& out) {
  const std::string_view bytes = buffer.bytes;
  std::vector<CoordinateHit> latitudes;
  std::vector<CoordinateHit> longitudes;
  Locator locator;
  for (const matchers::Match& match : matches) {
    const known::PatternInfo& pattern = index.pattern(match.id);
    const known::IndexedValue& value = index.value(pattern.value);
    if (!learned && value.device != context.device_index) continue;  // digests of every device share a table
    const std::size_t end = match.end;
    if (end < pattern.length) continue;
    const std::size_t begin = end - pattern.length;
    // Raw streams: judged in an earlier window, or waiting for the byte after it.
    if (end < buffer.report_from || (!buffer.complete && end >= bytes.size())) continue;

    switch (pattern.role) {
      case Role::identifier: {
        if (pattern.digit_boundary &&
            ((begin > 0 && ids::is_digit(bytes[begin - 1])) || (end < bytes.size() && ids::is_digit(bytes[end]))))
          continue;
        if (pattern.hex_boundary &&
            ((begin > 0 && ids::is_hex(bytes[begin - 1])) || (end < bytes.size() && ids::is_hex(bytes[end]))))
          continue;
        const FieldSpan* field = view.field_at(buffer, begin, end);
        if (suppressed(field, buffer, pattern.family)) continue;
        Finding finding = known_finding(value.kind, value, learned, buffer, field, index.name(pattern.transform),
                                        index.name(pattern.variant), context);
        finding.matched.emplace_back(bytes.substr(begin, end - begin));
        locator.locate(buffer, field, begin, end, finding.locations);
        out.push_back(std::move(finding));
        break;
      }
      case Role::latitude:
      case Role::longitude:
      case Role::latitude_e7:
      case Role::longitude_e7: {
        const bool e7 = pattern.role == Role::latitude_e7 || pattern.role == Role::longitude_e7;
        CoordinateHit hit{pattern.value, 0, 0, 0, e7};
        if (!read_coordinate(bytes, begin, e7, pattern.e7_digits, hit)) continue;
        if (suppressed(view.field_at(buffer, hit.begin, hit.end), buffer, FormFamily::plain)) continue;
        if (context.notes) context.notes->cross_field_candidate = true;  // its partner may be in another field
        (pattern.role == Role::latitude || pattern.role == Role::latitude_e7 ? latitudes : longitudes).push_back(hit);
        break;
      }
      case Role::cell_id: {
        if ((begin > 0 && ids::is_digit(bytes[begin - 1])) || (end < bytes.size() && ids::is_digit(bytes[end]))) continue;
        const FieldSpan* field = view.field_at(buffer, begin, end);
        if (suppressed(field, buffer, FormFamily::plain)) continue;
        if (context.notes) context.notes->cross_field_candidate = true;  // its network may be in another field
        // A cell id alone is a number like any other: it needs a cell key or its network beside it.
        const KeyClass key = classify_key(context_key(buffer, field, begin));
        const CellId& cell = value.cell;
        const std::string mnc = std::to_string(cell.mnc);
        const bool network = has_number(bytes, std::to_string(cell.mcc)) &&
                             (has_number(bytes, mnc) || has_number(bytes, mnc.size() == 1 ? "0" + mnc : mnc) ||
                              has_number(bytes, std::to_string(cell.lac)));
        if (!(key & (key_cell_id | key_cell_self)) && !network) continue;
        Finding finding = known_finding(IdentifierKind::cell, value, learned, buffer, field, "", "", context);
        finding.matched.emplace_back(bytes.substr(begin, end - begin));
        locator.locate(buffer, field, begin, end, finding.locations);
        out.push_back(std::move(finding));
        break;
      }
    }
  }
  // A location is a latitude and a longitude, in one buffer, together within the radius.
  for (std::size_t i = 0; i < latitudes.size(); ++i) {
    const CoordinateHit& lat = latitudes[i];
    bool reported = false;
    for (std::size_t j = 0; j < i && !reported; ++j) reported = latitudes[j].value == lat.value;
    if (reported) continue;
    const known::IndexedValue& value = index.value(lat.value);
    for (const CoordinateHit& lon : longitudes) {
      if (lon.value != lat.value || lon.begin == lat.begin) continue;
      if (known::distance_m(lat.coordinate, lon.coordinate, value.point.lat, value.point.lon) > index.radius_m()) continue;
      const FieldSpan* field = view.field_at(buffer, lat.begin, lat.end);
      Finding finding = known_finding(IdentifierKind::location, value, learned, buffer, field, lat.e7 ? "e7" : "", "", context);
      finding.matched.emplace_back(bytes.substr(lat.begin, lat.end - lat.begin));
      finding.matched.emplace_back(bytes.substr(lon.begin, lon.end - lon.begin));
      locator.locate(buffer, field, lat.begin, lat.end, finding.locations);
      locator.locate(buffer, view.field_at(buffer, lon.begin, lon.end), lon.begin, lon.end, finding.locations);
      out.push_back(std::move(finding));
      break;
    }
  }
}

}  // namespace leakguard

namespace leakguard {

std::unique_ptr<const Detector> KnownIdentifierDetector::create(const DetectorBuildContext& context) {
  DetectorOptions options(context.config, context.settings, detector_name);
  known::IndexOptions index_options;
  const auto hashes = options.get_strings("hashes", {"md5", "sha1", "sha256"});
  index_options.forms.md5 = index_options.forms.sha1 = index_options.forms.sha256 = false;
  for (const auto& hash : hashes) {
    if (hash == "md5") index_options.forms.md5 = true;
    else if (hash == "sha1") index_options.forms.sha1 = true;
    else if (hash == "sha256") index_options.forms.sha256 = true;
    else options.fail(context.settings.options["hashes"], "unknown hash '" + hash + "' (md5, sha1, sha256)");
  }
  const auto encodings = options.get_strings("encodings", {"hex", "base64"});
  index_options.forms.hex = index_options.forms.base64 = false;
  for (const auto& encoding : encodings) {
    if (encoding == "hex") index_options.forms.hex = true;
    else if (encoding == "base64") index_options.forms.base64 = true;
    else options.fail(context.settings.options["encodings"], "unknown encoding '" + encoding + "' (hex, base64)");
  }
  index_options.kinds = options.get_kinds("kinds");
  index_options.radius_m = options.get_number("location_radius_m", 150, 1, 100000);
  options.finish();
  return std::make_unique<KnownIdentifierDetector>(known::KnownIndex::from_devices(context.config, index_options));
}

}  // namespace leakguard
