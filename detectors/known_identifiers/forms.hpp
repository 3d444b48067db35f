// Derivation of the forms a known identifier travels in: spelling variants (separators, case,
// check digit, national number), then hex, base64 at every alignment, and MD5/SHA-1/SHA-256 as hex
// and base64. Each form becomes one literal in the known-identifier Hyperscan database.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/identifier_kind.hpp"

namespace leakguard::known {

// What a form's bytes are, so a match inside a field that was also decoded as base64 (or hex) can
// be left to the decoded child, which reports it better placed.
enum class FormFamily : std::uint8_t { plain, hex, base64, hash };

struct KnownForm {
  std::string text;
  bool caseless = false;
  bool digit_boundary = false;  // must not touch another digit (a 14-digit IMEI inside 15 digits)
  bool hex_boundary = false;    // must not touch another hex digit (a bare MAC inside a hash)
  bool whole_token = false;     // a digest: matched only as a whole hex or base64 token
  std::string_view variant;     // "" for the canonical spelling, else "no-check-digit", "dashed", ...
  std::string_view transform;   // "" plain, "hex", "base64", "md5", "sha1-base64", ...
  FormFamily family = FormFamily::plain;
};

struct FormOptions {
  bool md5 = true;
  bool sha1 = true;
  bool sha256 = true;
  bool hex = true;
  bool base64 = true;
  std::size_t min_length = 7;  // shorter forms match too much by chance
};

struct Variant {
  std::string text;
  std::string_view name;  // "" canonical
  bool digit_boundary = false;
  bool hex_boundary = false;
  // Whether apps hash and encode this spelling (an IMEI, yes; its dashed label, no). Keeping
  // the unlikely ones out keeps the literal set, and so the scan, lean.
  bool encoded = true;
};

// The spellings of a canonical value (ids::canonical_value) before any encoding.
std::vector<Variant> value_variants(IdentifierKind kind, std::string_view canonical);
// Every form of a canonical value; duplicates removed.
std::vector<KnownForm> derive_forms(IdentifierKind kind, std::string_view canonical, const FormOptions& options);
// The base64 characters that encode `value` whatever bytes surround it, for each of the three
// alignments of its first byte; std or URL-safe alphabet.
std::vector<std::string> base64_fragments(std::string_view value, bool url_safe);

}  // namespace leakguard::known
