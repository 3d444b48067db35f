#include "detectors/heuristics/heuristic_detector.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

#include "common/mask.hpp"
#include "detectors/identifiers.hpp"
#include "detectors/heuristics/text_pairs.hpp"
#include "detectors/key_context.hpp"
#include "detectors/matchers/separated_shapes.hpp"

namespace leakguard {
namespace {

// Pairs read from one text at most: a log of thousands of lines is still judged in bounded time.
constexpr std::size_t max_text_pairs = 2000;

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool trimmable(char c) { return c == ' ' || c == '"' || c == '\''; }

std::string_view trim_value(std::string_view text) {
  while (!text.empty() && trimmable(text.front())) text.remove_prefix(1);
  while (!text.empty() && trimmable(text.back())) text.remove_suffix(1);
  return text;
}

bool all_hex(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return ids::is_hex(c); });
}

// An Android ID under a short name ("aid") must look like one: 16 hex digits in one case, with both
// letters and digits (a random 64-bit value has both 99.9% of the time; an app id or a decimal
// counter has no letter).
bool looks_like_android_id(std::string_view value) {
  if (value.size() != 16 || !all_hex(value)) return false;
  bool digit = false, lower = false, upper = false;
  for (const char c : value) {
    digit |= ids::is_digit(c);
    lower |= c >= 'a' && c <= 'f';
    upper |= c >= 'A' && c <= 'F';
  }
  return digit && (lower != upper);
}

bool placeholder_cell(std::string_view value) {
  return value == "0" || value == "-1" || value == "65535" || value == "2147483647" || value == "268435455" ||
         value == "4294967295" || ids::placeholder_digits(value);
}

struct Decimal {
  std::size_t begin;
  std::size_t end;
  double value;
  const FieldSpan* field;
  KeyClass key;
  std::size_t decimals;
  bool used = false;
};

struct CellGroup {
  std::uint32_t group;
  const FieldSpan* mcc = nullptr;
  const FieldSpan* mnc = nullptr;
  const FieldSpan* lac = nullptr;
  const FieldSpan* cid = nullptr;
};

}  // namespace

// One buffer's candidates, checks and findings.
class HeuristicDetector::BufferScan {
 public:
  BufferScan(const HeuristicDetector& detector, const DecodedView& view, const ScanBuffer& buffer,
             const DetectionContext& context, std::vector<Finding>& out)
      : detector_(detector), view_(view), buffer_(buffer), bytes_(buffer.bytes), context_(context), out_(out) {}

  void run(std::vector<matchers::ShapeMatch>& shapes) {
    // Candidate shapes only; every candidate is then checked here (boundaries, checksum, context).
    shapes.clear();
    const matchers::ByteClasses& classes = view_.classes_of(buffer_);
    matchers::find_separated_shapes(bytes_, classes, shapes);
    for (const auto& shape : shapes) {
      switch (shape.shape) {
        case matchers::Shape::dashed_imei: dashed_imei(shape.begin, shape.end); break;
        case matchers::Shape::mac_colon:
        case matchers::Shape::mac_dash: mac(shape.begin, shape.end); break;
        case matchers::Shape::uuid: uuid(shape.begin, shape.end); break;
        case matchers::Shape::decimal: decimal(shape.begin + 1); break;
      }
    }
    // Digit runs and '@' have no separator to find them by: they are read from the byte classes.
    classes.for_each_run<7>([](const matchers::ByteBlock& block) { return block.digit; },
                            [&](std::size_t begin, std::size_t end) { digit_run(begin, end); });
    // An address has a byte before and after its '@'.
    if (bytes_.size() > 2)
      classes.for_each_bit(&matchers::ByteBlock::at, 1, bytes_.size() - 1, [&](std::size_t pos) { email(pos); });
    pair_decimals();
    field_pass();
  }

 private:
  // A candidate whose verdict depends on another field (DetectionNotes): a coordinate under a
  // latitude or longitude name, a part of a cell id's network. A line holding one is never
  // remembered by the HeaderMemo, and a request that leaves lines out is inspected whole.
  void note_cross_field() const {
    if (context_.notes) context_.notes->cross_field_candidate = true;
  }

  bool reportable(std::size_t end) const {
    return end >= buffer_.report_from && (buffer_.complete || end < bytes_.size());
  }
  // The name a candidate at `pos` was sent under: the key of a `key=value` / `key: value` pair it is
  // the value of, in free text or inside a field's text ("log" part: "...IMSI=4600..."), else the
  // field's or buffer's own key, else the word before it.
  KeyClass key_at(const FieldSpan* field, std::size_t pos) const {
    const std::string_view pair = pair_key_before(bytes_, field ? field->begin : 0, pos);
    return classify_key(pair.empty() ? context_key(buffer_, field, pos) : pair);
  }

  // Candidates inside a field (or buffer) whose whole content was decoded (percent, parsed,
  // unescaped) are judged in the decoded child.
  bool covered(const FieldSpan* field) const {
    return (((field ? field->decoded : 0) | buffer_.decoded) & decoded_all) != 0;
  }

  void emit(IdentifierKind kind, std::string value, std::initializer_list<std::pair<std::size_t, std::size_t>> spans,
            const FieldSpan* field) {
    if (!detector_.wants(kind)) return;
    Finding finding;
    finding.kind = kind;
    finding.detector = std::string(detector_name);
    finding.method = DetectionMethod::heuristic;
    finding.encoding = encoding_chain(buffer_.encoding, "");
    finding.where = std::string(where_of(buffer_, field));
    finding.masked_value = mask_value(value);
    finding.value = std::move(value);
    if (context_.device) finding.device = context_.device->name;
    for (const auto& [begin, end] : spans) {
      finding.matched.emplace_back(bytes_.substr(begin, end - begin));
      locator_.locate(buffer_, view_.field_at(buffer_, begin, end), begin, end, finding.locations);
    }
    out_.push_back(std::move(finding));
  }

  void digit_run(std::size_t begin, std::size_t end) {
    const std::size_t n = end - begin;
    if (n > 20 || !reportable(end)) return;
    if (buffer_.report_from > 0 && begin == 0) return;  // may continue before the window
    const char before = begin > 0 ? bytes_[begin - 1] : '\0';
    const char after = end < bytes_.size() ? bytes_[end] : '\0';
    // Part of a decimal number, a version or an address.
    if (before == '.' && begin >= 2 && ids::is_digit(bytes_[begin - 2])) return;
    if (after == '.' && end + 1 < bytes_.size() && ids::is_digit(bytes_[end + 1])) return;
    // Part of a longer token: digits followed by letters, or inside a hash.
    if (is_alpha(after)) return;
    if (is_alpha(before)) {
      std::size_t token = begin;
      while (token > 0 && ids::is_alnum(bytes_[token - 1])) --token;
      const std::string_view word = bytes_.substr(token, begin - token);
      if (all_hex(word) && begin - token + n >= 20) return;
    }
    const FieldSpan* field = view_.field_at(buffer_, begin, end);
    if (covered(field)) return;
    const std::string_view digits = bytes_.substr(begin, n);
    const bool plus = before == '+' && (begin < 2 || !ids::is_alnum(bytes_[begin - 2]));
    const KeyClass key = key_at(field, plus ? begin - 1 : begin);
    if (key & key_other_number) return;  // an order, invoice, ticket... number: no identifier

    if (plus) {
      if (n >= 8 && n <= 15 && ids::e164_country_code_length(digits) && !ids::placeholder_digits(digits))
        emit(IdentifierKind::msisdn, "+" + std::string(digits), {{begin - 1, end}}, field);
      return;
    }
    if (ids::placeholder_digits(digits)) return;
    if ((key & key_imsi) && (n == 14 || n == 15) && ids::valid_mcc(digits)) {
      emit(IdentifierKind::imsi, std::string(digits), {{begin, end}}, field);
      return;
    }
    if ((key & key_iccid) && n >= 18 && n <= 20 && digits.substr(0, 2) == "89") {
      emit(IdentifierKind::iccid, std::string(digits), {{begin, end}}, field);
      return;
    }
    if ((key & key_imei) && ((n == 15 && ids::luhn_valid(digits)) || n == 14)) {
      emit(IdentifierKind::imei, ids::canonical_value(IdentifierKind::imei, digits).value_or(std::string(digits)),
           {{begin, end}}, field);
      return;
    }
    if ((key & key_msisdn) && n >= 6 && n <= 15) {
      emit(IdentifierKind::msisdn, ids::canonical_value(IdentifierKind::msisdn, digits).value_or(std::string(digits)),
           {{begin, end}}, field);
      return;
    }
    if (n == 15 && ids::luhn_valid(digits) && ids::plausible_imei_prefix(digits)) {
      emit(IdentifierKind::imei, std::string(digits), {{begin, end}}, field);
      return;
    }
    if (n >= 18 && n <= 20 && digits.substr(0, 2) == "89" && ids::luhn_valid(digits))
      emit(IdentifierKind::iccid, std::string(digits), {{begin, end}}, field);
  }

  void dashed_imei(std::size_t begin, std::size_t end) {
    if (!reportable(end)) return;
    if ((begin > 0 && (ids::is_digit(bytes_[begin - 1]) || bytes_[begin - 1] == '-')) ||
        (end < bytes_.size() && (ids::is_digit(bytes_[end]) || bytes_[end] == '-')))
      return;
    std::string digits;
    for (std::size_t i = begin; i < end; ++i)
      if (ids::is_digit(bytes_[i])) digits.push_back(bytes_[i]);
    if (!ids::luhn_valid(digits) || ids::placeholder_digits(digits)) return;
    const FieldSpan* field = view_.field_at(buffer_, begin, end);
    if (covered(field) || (key_at(field, begin) & key_other_number)) return;
    emit(IdentifierKind::imei, digits, {{begin, end}}, field);
  }

  void mac(std::size_t begin, std::size_t end) {
    if (!reportable(end)) return;
    const auto glued = [&](std::size_t i) {
      return ids::is_hex(bytes_[i]) || bytes_[i] == ':' || bytes_[i] == '-' || bytes_[i] == '.';
    };
    if ((begin > 0 && glued(begin - 1)) || (end < bytes_.size() && glued(end))) return;
    const auto canonical = ids::canonical_value(IdentifierKind::mac, bytes_.substr(begin, end - begin));
    if (!canonical || *canonical == "02:00:00:00:00:00" || *canonical == "00:00:00:00:00:00" ||
        *canonical == "ff:ff:ff:ff:ff:ff")
      return;
    const FieldSpan* field = view_.field_at(buffer_, begin, end);
    if (covered(field)) return;
    emit(IdentifierKind::mac, *canonical, {{begin, end}}, field);
  }

  void uuid(std::size_t begin, std::size_t end) {
    if (!reportable(end)) return;
    if ((begin > 0 && (ids::is_hex(bytes_[begin - 1]) || bytes_[begin - 1] == '-')) ||
        (end < bytes_.size() && (ids::is_hex(bytes_[end]) || bytes_[end] == '-')))
      return;
    const FieldSpan* field = view_.field_at(buffer_, begin, end);
    if (covered(field)) return;
    if (!(key_at(field, begin) & key_gaid)) return;
    const std::string value = to_lower(bytes_.substr(begin, end - begin));
    if (value == "00000000-0000-0000-0000-000000000000") return;
    emit(IdentifierKind::gaid, value, {{begin, end}}, field);
  }

  void email(std::size_t at) {
    const auto local_char = [](char c) {
      return ids::is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
    };
    if (!ids::is_alnum(bytes_[at + 1]) || !local_char(bytes_[at - 1])) return;
    std::size_t begin = at;
    while (begin > 0 && at - begin < 64 && local_char(bytes_[begin - 1])) --begin;
    std::size_t end = at + 1;
    while (end < bytes_.size() && end - at < 254 && (ids::is_alnum(bytes_[end]) || bytes_[end] == '.' || bytes_[end] == '-'))
      ++end;
    while (end > at + 1 && (bytes_[end - 1] == '.' || bytes_[end - 1] == '-')) --end;
    if (!reportable(end) || (!buffer_.complete && end + 1 >= bytes_.size())) return;
    while (begin < at && bytes_[begin] == '.') ++begin;
    if (begin == at) return;
    const std::string_view domain = bytes_.substr(at + 1, end - at - 1);
    const std::size_t dot = domain.rfind('.');
    if (dot == std::string_view::npos || dot == 0) return;
    const std::string tld = to_lower(domain.substr(dot + 1));
    if (tld.size() < 2 || tld.size() > 24 || !std::all_of(tld.begin(), tld.end(), is_alpha)) return;
    static constexpr std::string_view file_types[] = {"png", "jpg", "jpeg", "gif", "webp", "svg", "js", "css",
                                                      "html", "htm", "php", "json", "xml", "txt", "ico", "mp4"};
    if (std::find(std::begin(file_types), std::end(file_types), tld) != std::end(file_types)) return;
    const FieldSpan* field = view_.field_at(buffer_, begin, end);
    if (covered(field)) return;
    emit(IdentifierKind::email, to_lower(bytes_.substr(begin, end - begin)), {{begin, end}}, field);
  }

  void decimal(std::size_t dot) {
    std::size_t begin = dot;
    while (begin > 0 && ids::is_digit(bytes_[begin - 1]) && dot - begin < 4) --begin;
    if (dot - begin > 3 || begin == dot) return;
    if (begin > 0 && bytes_[begin - 1] == '-') --begin;
    if (begin > 0 && (ids::is_alnum(bytes_[begin - 1]) || bytes_[begin - 1] == '.')) return;
    std::size_t end = dot + 1;
    while (end < bytes_.size() && ids::is_digit(bytes_[end])) ++end;
    if (end < bytes_.size() && (is_alpha(bytes_[end]) || (bytes_[end] == '.' && end + 1 < bytes_.size() &&
                                                          ids::is_digit(bytes_[end + 1]))))
      return;
    if (!reportable(end)) return;
    double value = 0;
    if (std::from_chars(bytes_.data() + begin, bytes_.data() + end, value).ec != std::errc()) return;
    if (std::fabs(value) > 180) return;
    const FieldSpan* field = view_.field_at(buffer_, begin, end);
    if (covered(field)) return;
    decimals_.push_back({begin, end, value, field, key_at(field, begin), end - dot - 1});
  }

  void location(const Decimal& lat, const Decimal& lon) {
    if (std::fabs(lat.value) > 90 || std::fabs(lon.value) > 180) return;
    if (lat.value == 0 && lon.value == 0) return;
    std::string value(bytes_.substr(lat.begin, lat.end - lat.begin));
    value += ',';
    value.append(bytes_.substr(lon.begin, lon.end - lon.begin));
    emit(IdentifierKind::location, std::move(value), {{lat.begin, lat.end}, {lon.begin, lon.end}}, lat.field);
  }

  static bool same_group(const Decimal& a, const Decimal& b) {
    if (a.field && b.field) return a.field->group == b.field->group;
    return !a.field && !b.field;
  }

  void pair_decimals() {
    for (std::size_t i = 0; i < decimals_.size(); ++i) {
      Decimal& a = decimals_[i];
      if (a.used) continue;
      if (a.key & (key_latitude | key_longitude)) {
        note_cross_field();  // "lat=" in one header line, "lon=" in another: one location
        const KeyClass wanted = (a.key & key_latitude) ? key_longitude : key_latitude;
        for (std::size_t j = 0; j < decimals_.size(); ++j) {
          Decimal& b = decimals_[j];
          if (j == i || b.used || !(b.key & wanted) || !same_group(a, b)) continue;
          a.used = b.used = true;
          if (wanted == key_longitude) location(a, b);
          else location(b, a);
          break;
        }
        if (a.used) continue;
      }
      // "59.913868,10.752245": a pair written together. Without a location name around it, 3
      // decimals is any measurement ("1.250,2.500"); GPS output has at least 4.
      if (i + 1 < decimals_.size()) {
        Decimal& b = decimals_[i + 1];
        const std::size_t needed = (a.key & key_location) ? 3 : 4;
        if (a.decimals < needed || b.decimals < needed) continue;
        const std::string_view gap = bytes_.substr(a.end, b.begin > a.end ? b.begin - a.end : 0);
        if (!b.used && b.begin > a.end && gap.size() <= 2 &&
            std::all_of(gap.begin(), gap.end(), [](char c) { return c == ',' || c == ';' || c == ' ' || c == '/'; })) {
          a.used = b.used = true;
          location(a, b);
        }
      }
    }
  }

  // Fields whose value only means something under its name: Android ID, a MAC without
  // separators, cell ids, E7 coordinates. Then the same for the pairs of free text: a body or a
  // value without fields, and text inside a field (a log file part, a string of "k=v" pairs).
  void field_pass() {
    if (!buffer_.complete) return;
    const auto fields = view_.fields_of(buffer_);
    thread_local std::vector<TextPair> pairs;
    thread_local std::vector<FieldSpan> pair_fields;
    const auto judge_text = [&](std::size_t begin, std::size_t end, const FieldSpan* container) {
      if (!may_hold_text_pairs(bytes_.substr(begin, end - begin))) return;
      pairs.clear();
      find_text_pairs(bytes_, begin, end, 0, max_text_pairs, pairs);
      pair_fields.clear();
      for (const TextPair& pair : pairs) {
        FieldSpan field;
        field.begin = pair.begin;
        field.end = pair.end;
        field.key = pair.key;
        field.group = pair.record;
        pair_fields.push_back(field);
      }
      judge_fields(pair_fields, container, false);
    };
    if (!fields.empty()) {
      judge_fields(fields, nullptr, true);
      for (const FieldSpan& field : fields)
        if (!((field.decoded | buffer_.decoded) & decoded_all)) judge_text(field.begin, field.end, &field);
      return;
    }
    if (buffer_.decoded & decoded_all) return;
    if (!buffer_.key.empty()) {
      FieldSpan whole;
      whole.begin = 0;
      whole.end = static_cast<std::uint32_t>(bytes_.size());
      whole.where = buffer_.where;
      whole.key = buffer_.key;
      judge_fields(std::span<const FieldSpan>(&whole, 1), nullptr, false);
    }
    judge_text(0, bytes_.size(), nullptr);
  }

  // `list` are fields of this buffer (`real_fields`: reported as themselves) or values found in
  // text (reported as `container`, the field or, when null, the buffer they are in).
  void judge_fields(std::span<const FieldSpan> list, const FieldSpan* container, bool real_fields) {
    std::vector<CellGroup> cells;
    std::vector<const FieldSpan*> self_cells;  // "SIM1CELLID": a cell id that needs no network keys
    std::vector<std::pair<const FieldSpan*, double>> e7_lat;
    std::vector<std::pair<const FieldSpan*, double>> e7_lon;
    for (const FieldSpan& field : list) {
      if ((field.decoded | buffer_.decoded) & decoded_all) continue;
      const std::string_view raw = bytes_.substr(field.begin, field.end - field.begin);
      // Most values are longer than any id judged here and have nothing to trim: no closer look.
      if (raw.size() > 20 && !trimmable(raw.front()) && !trimmable(raw.back())) continue;
      const std::string_view value = trim_value(raw);
      if (value.empty() || value.size() > 20) continue;
      const bool hex = all_hex(value);
      const bool number = ids::all_digits(value) || (value[0] == '-' && ids::all_digits(value.substr(1)));
      if (!hex && !number) continue;
      const KeyClass key = classify_key(field.key);
      if (key == key_none || key == key_other_number) continue;
      const FieldSpan* real = real_fields ? &field : container;
      const std::size_t begin = static_cast<std::size_t>(value.data() - bytes_.data());
      const std::size_t end = begin + value.size();
      if ((key & key_android_id) && hex && value.size() == 16 && !ids::placeholder_digits(value) &&
          value != "0000000000000000")
        emit(IdentifierKind::android_id, to_lower(value), {{begin, end}}, real);
      else if ((key & key_android_id_short) && looks_like_android_id(value))
        emit(IdentifierKind::android_id, to_lower(value), {{begin, end}}, real);
      if ((key & key_mac) && hex && value.size() == 12 && value != "000000000000" && value != "020000000000" &&
          to_lower(value) != "ffffffffffff")
        emit(IdentifierKind::mac, ids::canonical_value(IdentifierKind::mac, value).value_or(std::string(value)),
             {{begin, end}}, real);
      if (key & (key_mcc | key_mnc | key_lac | key_cell_id | key_cell_self)) {
        if (key & (key_mcc | key_mnc | key_lac | key_cell_id)) note_cross_field();
        auto it = std::find_if(cells.begin(), cells.end(), [&](const CellGroup& g) { return g.group == field.group; });
        if (it == cells.end()) {
          cells.push_back({field.group});
          it = cells.end() - 1;
        }
        if ((key & key_mcc) && number) it->mcc = &field;
        else if ((key & key_mnc) && number) it->mnc = &field;
        else if (key & key_lac) it->lac = &field;
        else if ((key & key_cell_self) && !placeholder_cell(value)) self_cells.push_back(&field);
        else if ((key & key_cell_id) && !it->cid) it->cid = &field;
      }
      if ((key & (key_latitude | key_longitude)) && number) {
        const std::size_t digits = value.size() - (value[0] == '-' ? 1 : 0);
        double coordinate = 0;
        if (digits >= 7 && digits <= 10 && std::from_chars(value.data(), value.data() + value.size(), coordinate).ec == std::errc()) {
          coordinate /= 1e7;
          note_cross_field();
          if (key & key_latitude) e7_lat.emplace_back(&field, coordinate);
          else e7_lon.emplace_back(&field, coordinate);
        }
      }
    }
    const auto text = [&](const FieldSpan* f) {
      return f ? trim_value(bytes_.substr(f->begin, f->end - f->begin)) : std::string_view{};
    };
    for (const CellGroup& group : cells) {
      if (!group.cid || !group.mcc || !group.lac || !ids::valid_mcc(text(group.mcc))) continue;
      const std::string_view cid = text(group.cid);
      if (placeholder_cell(cid)) continue;
      const std::size_t begin = static_cast<std::size_t>(cid.data() - bytes_.data());
      std::string value(text(group.mcc));
      value += '-';
      value.append(text(group.mnc));
      value += '-';
      value.append(text(group.lac));
      value += '-';
      value.append(cid);
      emit(IdentifierKind::cell, std::move(value), {{begin, begin + cid.size()}}, real_fields ? group.cid : container);
    }
    for (const FieldSpan* field : self_cells) {
      const std::string_view cid = text(field);
      const std::size_t begin = static_cast<std::size_t>(cid.data() - bytes_.data());
      emit(IdentifierKind::cell, std::string(cid), {{begin, begin + cid.size()}}, real_fields ? field : container);
    }
    for (const auto& [lat_field, lat] : e7_lat)
      for (const auto& [lon_field, lon] : e7_lon) {
        if (lat_field->group != lon_field->group || std::fabs(lat) > 90 || std::fabs(lon) > 180 || (lat == 0 && lon == 0))
          continue;
        const std::string_view lat_text = trim_value(bytes_.substr(lat_field->begin, lat_field->end - lat_field->begin));
        const std::string_view lon_text = trim_value(bytes_.substr(lon_field->begin, lon_field->end - lon_field->begin));
        const std::size_t lat_begin = static_cast<std::size_t>(lat_text.data() - bytes_.data());
        const std::size_t lon_begin = static_cast<std::size_t>(lon_text.data() - bytes_.data());
        std::string value(lat_text);
        value += ',';
        value.append(lon_text);
        emit(IdentifierKind::location, std::move(value),
             {{lat_begin, lat_begin + lat_text.size()}, {lon_begin, lon_begin + lon_text.size()}},
             real_fields ? lat_field : container);
        return;
      }
  }

  const HeuristicDetector& detector_;
  const DecodedView& view_;
  const ScanBuffer& buffer_;
  std::string_view bytes_;
  const DetectionContext& context_;
  std::vector<Finding>& out_;
  Locator locator_;  // for this buffer: indexes a percent-decoded buffer's escapes once
  std::vector<Decimal> decimals_;
};

HeuristicDetector::HeuristicDetector(std::vector<IdentifierKind> kinds, bool learn) : learn_(learn) {
  for (const IdentifierKind kind : kinds) enabled_[static_cast<std::size_t>(kind)] = true;
}

void HeuristicDetector::inspect(const DecodedView& view, const DetectionContext& context, std::vector<Finding>& out) const {
  thread_local std::vector<matchers::ShapeMatch> shapes;
  for (const ScanBuffer& buffer : view.buffers) BufferScan(*this, view, buffer, context, out).run(shapes);
}

std::unique_ptr<const Detector> HeuristicDetector::create(const DetectorBuildContext& context) {
  DetectorOptions options(context.config, context.settings, detector_name);
  std::vector<IdentifierKind> kinds = options.get_kinds("kinds");
  if (kinds.empty())
    kinds = {IdentifierKind::imei, IdentifierKind::imsi,       IdentifierKind::iccid, IdentifierKind::msisdn,
             IdentifierKind::mac,  IdentifierKind::android_id, IdentifierKind::gaid,  IdentifierKind::email,
             IdentifierKind::location, IdentifierKind::cell};
  const bool learn = options.get_bool("learn", true);
  options.finish();
  return std::make_unique<HeuristicDetector>(std::move(kinds), learn);
}

}  // namespace leakguard
