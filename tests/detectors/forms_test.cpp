// Known-form derivation and the identifier facts behind it: Luhn, E.164, MCC, canonical values;
// IMEI without check digit and dashed; MAC and phone variants; hashes as hex and base64; base64 of
// the value at every alignment inside a larger blob.
#include <doctest/doctest.h>

#include <algorithm>

#include <openssl/evp.h>

#include "detectors/decoders/base64.hpp"
#include "detectors/decoders/hex.hpp"
#include "detectors/identifiers.hpp"
#include "detectors/known_identifiers/forms.hpp"

using namespace leakguard;
using leakguard::known::derive_forms;
using leakguard::known::FormOptions;
using leakguard::known::KnownForm;

namespace {
bool has_form(const std::vector<KnownForm>& forms, std::string_view text, std::string_view transform = {},
              std::string_view variant = {}) {
  for (const auto& form : forms)
    if (form.text == text && (transform.empty() || form.transform == transform) &&
        (variant.empty() || form.variant == variant))
      return true;
  return false;
}
std::string digest(const EVP_MD* md, std::string_view text) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), out, &size, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), size);
}
}  // namespace

TEST_CASE("identifier facts") {
  CHECK(ids::luhn_valid("353209091234567"));
  CHECK_FALSE(ids::luhn_valid("353209091234568"));
  CHECK(ids::luhn_digit("35320909123456") == '7');
  CHECK(ids::e164_country_code_length("4791234567") == 2);
  CHECK(ids::e164_country_code_length("15551234567") == 1);
  CHECK(ids::e164_country_code_length("3545551234") == 3);
  CHECK(ids::e164_country_code_length("0123") == 0);
  CHECK(ids::valid_mcc("242"));
  CHECK(ids::valid_mcc("460"));
  CHECK_FALSE(ids::valid_mcc("123"));
  CHECK(ids::plausible_imei_prefix("35"));
  CHECK_FALSE(ids::plausible_imei_prefix("12"));
  CHECK(ids::placeholder_digits("000000000000000"));
  CHECK(ids::placeholder_digits("123456789012345"));
  CHECK_FALSE(ids::placeholder_digits("56789"));
  CHECK(ids::canonical_value(IdentifierKind::imei, "35-320909-123456-7") == "353209091234567");
  CHECK(ids::canonical_value(IdentifierKind::imei, "35320909123456") == "353209091234567");
  CHECK(ids::canonical_value(IdentifierKind::mac, "A4-50-46-12-34-56") == "a4:50:46:12:34:56");
  CHECK(ids::canonical_value(IdentifierKind::msisdn, "0047 91234567") == "+4791234567");
  CHECK(ids::canonical_value(IdentifierKind::gaid, "384000008CF011BDB23E10B96E40000D") ==
        "38400000-8cf0-11bd-b23e-10b96e40000d");
  CHECK_FALSE(ids::canonical_value(IdentifierKind::imei, "12345"));
}

TEST_CASE("IMEI: with and without check digit, dashed label form") {
  const auto forms = derive_forms(IdentifierKind::imei, "353209091234567", {});
  CHECK(has_form(forms, "353209091234567", "", ""));
  CHECK(has_form(forms, "35320909123456", "", "no-check-digit"));
  CHECK(has_form(forms, "35-320909-123456-7", "", "dashed"));
  for (const auto& form : forms)
    if (form.transform.empty() && form.variant != "dashed") CHECK(form.digit_boundary);
}

TEST_CASE("MAC: separators and case") {
  const auto forms = derive_forms(IdentifierKind::mac, "a4:50:46:12:34:56", {});
  CHECK(has_form(forms, "a4:50:46:12:34:56"));
  CHECK(has_form(forms, "a4-50-46-12-34-56", "", "dashes"));
  CHECK(has_form(forms, "a45046123456", "", "bare"));
  CHECK(has_form(forms, "a450.4612.3456", "", "dotted"));
  for (const auto& form : forms)
    if (form.transform.empty()) CHECK(form.caseless);
  // Hashes of the upper-case spelling are different values and must be there too.
  const std::string upper_sha1 = decoders::hex_encode(digest(EVP_sha1(), "A4:50:46:12:34:56"));
  CHECK(has_form(forms, upper_sha1, "sha1"));
}

TEST_CASE("phone number: E.164, 00, digits, national significant number") {
  const auto forms = derive_forms(IdentifierKind::msisdn, "+4791234567", {});
  CHECK(has_form(forms, "+4791234567"));
  CHECK(has_form(forms, "004791234567", "", "00"));
  CHECK(has_form(forms, "4791234567", "", "digits"));
  CHECK(has_form(forms, "91234567", "", "national"));
}

TEST_CASE("MD5, SHA-1, SHA-256 as hex (any case) and as base64 of the digest") {
  const auto forms = derive_forms(IdentifierKind::imei, "353209091234567", {});
  CHECK(has_form(forms, "bddd39b3cfca46dbae3b9450283f5917", "md5"));
  for (const auto& form : forms)
    if (form.transform == "md5" || form.transform == "sha1" || form.transform == "sha256") CHECK(form.caseless);
  for (const EVP_MD* md : {EVP_md5(), EVP_sha1(), EVP_sha256()}) {
    const std::string raw = digest(md, "353209091234567");
    CHECK(has_form(forms, decoders::hex_encode(raw)));
    CHECK(has_form(forms, decoders::base64_encode(raw, false, false)));
    CHECK(has_form(forms, decoders::base64_encode(raw, true, false)));
  }
  FormOptions no_md5;
  no_md5.md5 = false;
  CHECK_FALSE(has_form(derive_forms(IdentifierKind::imei, "353209091234567", no_md5), "bddd39b3cfca46dbae3b9450283f5917"));
}

TEST_CASE("base64 of the value is found at every alignment inside a larger blob") {
  const std::string value = "353209091234567";
  for (bool url : {false, true}) {
    const auto fragments = known::base64_fragments(value, url);
    REQUIRE(fragments.size() == 3);
    for (std::size_t before = 0; before < 9; ++before) {
      std::string blob(before, '\xfb');
      blob += value;
      blob += std::string(7, '\xff');
      const std::string encoded = decoders::base64_encode(blob, url);
      const bool found = std::any_of(fragments.begin(), fragments.end(),
                                     [&](const std::string& f) { return encoded.find(f) != std::string::npos; });
      CHECK_MESSAGE(found, "offset " << before << (url ? " url-safe" : " standard"));
    }
  }
}

TEST_CASE("email and Android ID hash both spellings; GAID without dashes") {
  const auto gaid = derive_forms(IdentifierKind::gaid, "38400000-8cf0-11bd-b23e-10b96e40000d", {});
  CHECK(has_form(gaid, "384000008cf011bdb23e10b96e40000d", "", "bare"));
  const auto android = derive_forms(IdentifierKind::android_id, "9774d56d682e549c", {});
  CHECK(has_form(android, "41e29575c7361b2924f701502ca6d932b45b9e51", "sha1"));
  CHECK(has_form(android, decoders::hex_encode(digest(EVP_sha1(), "9774D56D682E549C")), "sha1"));
}
