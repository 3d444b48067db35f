// Small X.509 building blocks that the CA and the leaf forge both need (serials, times, extensions,
// encodings). Internal to certs/: the proxy talks to CertificateAuthority and LeafForge instead.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "certs/openssl_ptr.hpp"

namespace leakguard::x509_util {

// A fresh random positive 128-bit serial (RFC 5280 allows up to 20 octets; randomness keeps two
// certificates for the same name, or from two installations, from ever sharing issuer+serial).
// Returns nullptr when the RNG fails.
ossl::Asn1IntegerPtr random_serial();

std::optional<std::time_t> to_time_t(const ASN1_TIME* time);
bool set_time(ASN1_TIME* field, std::time_t when);

// Adds one extension given in OpenSSL's configuration syntax ("critical,CA:TRUE"). Only ever called
// with constant strings: names from the network go through typed GENERAL_NAMEs instead.
bool add_extension(X509* certificate, X509V3_CTX* context, int nid, const char* value);
ossl::X509ExtensionPtr make_extension(X509V3_CTX* context, int nid, const char* value);

std::string to_pem(X509* certificate);
std::string to_der(X509* certificate);
std::string private_key_to_pem(EVP_PKEY* key);

// "AB:CD:..." as browsers and `openssl x509 -fingerprint -sha256` print it.
std::string sha256_fingerprint(const X509* certificate);
// One line, RFC 2253 order ("CN=...,O=leakguard").
std::string name_to_string(const X509_NAME* name);
// "2026-11-28 09:00:00 UTC"
std::string format_utc(std::time_t when);

}  // namespace leakguard::x509_util
