#include "certs/x509_util.hpp"

#include <cstdio>

#include <openssl/pem.h>
#include <openssl/rand.h>

namespace leakguard::x509_util {

using namespace leakguard::ossl;

Asn1IntegerPtr random_serial() {
  BignumPtr number(BN_new());
  if (!number) return nullptr;
  // Top bit forced so every serial has the same length; a BIGNUM is non-negative, so the DER
  // INTEGER is positive (OpenSSL prepends the 0x00 octet).
  do {
    if (BN_rand(number.get(), 128, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1) return nullptr;
  } while (BN_is_zero(number.get()));
  return Asn1IntegerPtr(BN_to_ASN1_INTEGER(number.get(), nullptr));
}

std::optional<std::time_t> to_time_t(const ASN1_TIME* time) {
  std::tm parts{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) return std::nullopt;
  return timegm(&parts);
}

bool set_time(ASN1_TIME* field, std::time_t when) { return ASN1_TIME_set(field, when) != nullptr; }

X509ExtensionPtr make_extension(X509V3_CTX* context, int nid, const char* value) {
  return X509ExtensionPtr(X509V3_EXT_nconf_nid(nullptr, context, nid, value));
}

bool add_extension(X509* certificate, X509V3_CTX* context, int nid, const char* value) {
  X509ExtensionPtr extension = make_extension(context, nid, value);
  return extension && X509_add_ext(certificate, extension.get(), -1) == 1;
}

namespace {
std::string drain(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}
}  // namespace

std::string to_pem(X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1) return {};
  return drain(bio.get());
}

std::string to_der(X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || i2d_X509_bio(bio.get(), certificate) != 1) return {};
  return drain(bio.get());
}

std::string private_key_to_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) return {};
  return drain(bio.get());
}

std::string sha256_fingerprint(const X509* certificate) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(certificate, EVP_sha256(), digest, &length) != 1) return {};
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    char hex[4];
    std::snprintf(hex, sizeof hex, i == 0 ? "%02X" : ":%02X", digest[i]);
    out += hex;
  }
  return out;
}

std::string name_to_string(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  return drain(bio.get());
}

std::string format_utc(std::time_t when) {
  std::tm parts{};
  gmtime_r(&when, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &parts);
  return text;
}

}  // namespace leakguard::x509_util
