#include "detectors/known_identifiers/forms.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include <openssl/evp.h>

#include "detectors/decoders/base64.hpp"
#include "detectors/decoders/hex.hpp"
#include "detectors/identifiers.hpp"

namespace leakguard::known {
namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}
std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string digest(const EVP_MD* md, std::string_view input) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(input.data(), input.size(), out, &size, md, nullptr) != 1) return {};
  return std::string(reinterpret_cast<const char*>(out), size);
}

// Kinds whose text is case-insensitive in practice (hex, addresses): matched caseless, but hashed
// in both cases, because a hash of "A4:50:..." is not a hash of "a4:50:...".
bool case_varies(IdentifierKind kind) {
  switch (kind) {
    case IdentifierKind::mac:
    case IdentifierKind::android_id:
    case IdentifierKind::gaid:
    case IdentifierKind::serial:
    case IdentifierKind::email:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::vector<Variant> value_variants(IdentifierKind kind, std::string_view canonical) {
  std::vector<Variant> out;
  const std::string value(canonical);
  switch (kind) {
    case IdentifierKind::imei:
      out.push_back({value, "", true, false});
      if (value.size() >= 15) {
        out.push_back({value.substr(0, 14), "no-check-digit", true, false, false});
        // The label form: TAC split as reporting body + type, serial, check digit.
        if (value.size() == 15)
          out.push_back({value.substr(0, 2) + "-" + value.substr(2, 6) + "-" + value.substr(8, 6) + "-" + value.substr(14),
                         "dashed", true, false, false});
      }
      break;
    case IdentifierKind::imsi:
      out.push_back({value, "", true, false});
      break;
    case IdentifierKind::iccid:
      out.push_back({value, "", true, false});
      if (value.size() >= 19) out.push_back({value.substr(0, value.size() - 1), "no-check-digit", true, false, false});
      break;
    case IdentifierKind::msisdn:
      if (!value.empty() && value[0] == '+') {
        const std::string digits = value.substr(1);
        out.push_back({value, "", true, false});
        out.push_back({"00" + digits, "00", true, false, false});
        out.push_back({digits, "digits", true, false});
        const std::size_t cc = ids::e164_country_code_length(digits);
        if (cc && digits.size() > cc + 5) {
          const std::string national = digits.substr(cc);
          out.push_back({national, "national", true, false});
          if (national[0] != '0') out.push_back({"0" + national, "national", true, false, false});
        }
      } else {
        out.push_back({value, "", true, false});
      }
      break;
    case IdentifierKind::mac: {
      std::string bare;
      for (const char c : value)
        if (c != ':') bare.push_back(c);
      out.push_back({value, "", false, true});
      std::string dashed = value;
      std::replace(dashed.begin(), dashed.end(), ':', '-');
      out.push_back({dashed, "dashes", false, true, false});
      out.push_back({bare, "bare", false, true});
      if (bare.size() == 12)
        out.push_back({bare.substr(0, 4) + "." + bare.substr(4, 4) + "." + bare.substr(8, 4), "dotted", false, true, false});
      break;
    }
    case IdentifierKind::android_id:
      out.push_back({value, "", false, true});
      break;
    case IdentifierKind::gaid: {
      out.push_back({value, "", false, true});
      std::string bare;
      for (const char c : value)
        if (c != '-') bare.push_back(c);
      if (bare != value) out.push_back({bare, "bare", false, true, false});
      break;
    }
    case IdentifierKind::serial:
    case IdentifierKind::email:
      out.push_back({value, "", false, false});
      break;
    case IdentifierKind::location:
    case IdentifierKind::cell:
      break;
  }
  return out;
}

std::vector<std::string> base64_fragments(std::string_view value, bool url_safe) {
  std::vector<std::string> out;
  const std::size_t n = value.size();
  for (std::size_t k = 0; k < 3; ++k) {
    std::string padded(k, '\0');
    padded.append(value);
    padded.append(2, '\0');
    const std::string encoded = decoders::base64_encode(padded, url_safe, false);
    // Character i encodes bits [6i, 6i+6); keep those entirely inside the value's bits.
    const std::size_t first = (8 * k + 5) / 6;
    const std::size_t last_end = (8 * (k + n)) / 6;  // one past the last whole character
    if (last_end > first) out.push_back(encoded.substr(first, last_end - first));
  }
  return out;
}

std::vector<KnownForm> derive_forms(IdentifierKind kind, std::string_view canonical, const FormOptions& options) {
  std::vector<KnownForm> out;
  std::set<std::pair<bool, std::string>> keys;  // (caseless, text as compared)
  auto add = [&](std::string text, bool caseless, bool digit_boundary, bool hex_boundary, std::string_view variant,
                 std::string_view transform, FormFamily family, bool whole_token = false) {
    const std::size_t min = digit_boundary ? options.min_length : std::max<std::size_t>(options.min_length, 8);
    if (text.size() < min) return;
    if (!keys.emplace(caseless, caseless ? lower(text) : text).second) return;
    out.push_back({std::move(text), caseless, digit_boundary, hex_boundary, whole_token, variant, transform, family});
  };
  struct Hash {
    bool enabled;
    const EVP_MD* md;
    std::string_view hex_name;
    std::string_view base64_name;
  };
  const Hash hashes[] = {{options.md5, EVP_md5(), "md5", "md5-base64"},
                         {options.sha1, EVP_sha1(), "sha1", "sha1-base64"},
                         {options.sha256, EVP_sha256(), "sha256", "sha256-base64"}};

  for (const Variant& variant : value_variants(kind, canonical)) {
    const bool caseless = case_varies(kind) || !ids::all_digits(variant.text);
    add(variant.text, caseless, variant.digit_boundary, variant.hex_boundary, variant.name, "", FormFamily::plain);
    if (!variant.encoded) continue;
    std::vector<std::string> spellings{variant.text};
    if (case_varies(kind)) {
      for (std::string s : {lower(variant.text), upper(variant.text)})
        if (std::find(spellings.begin(), spellings.end(), s) == spellings.end()) spellings.push_back(std::move(s));
    }
    for (const std::string& spelling : spellings) {
      if (options.hex) add(decoders::hex_encode(spelling), true, false, false, variant.name, "hex", FormFamily::hex);
      if (options.base64)
        for (bool url : {false, true})
          for (std::string& fragment : base64_fragments(spelling, url))
            add(std::move(fragment), false, false, false, variant.name, "base64", FormFamily::base64);
      for (const Hash& hash : hashes) {
        if (!hash.enabled) continue;
        const std::string raw = digest(hash.md, spelling);
        if (raw.empty()) continue;
        add(decoders::hex_encode(raw), true, false, false, variant.name, hash.hex_name, FormFamily::hash, true);
        add(decoders::base64_encode(raw, false, false), false, false, false, variant.name, hash.base64_name,
            FormFamily::hash, true);
        add(decoders::base64_encode(raw, true, false), false, false, false, variant.name, hash.base64_name,
            FormFamily::hash, true);
      }
    }
  }
  return out;
}

}  // namespace leakguard::known
