#include "certs/certificate_authority.hpp"

#include <doctest/doctest.h>

#include <ctime>

#include <sys/stat.h>

#include <openssl/pem.h>

#include "tests/certs/test_support.hpp"

using namespace leakguard;
using leakguard::test::file_mode;
using leakguard::test::read_file;
using leakguard::test::run_command_output;
using leakguard::test::TempDir;

namespace {

ossl::X509Ptr read_pem_certificate(const std::filesystem::path& path) {
  ossl::BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return nullptr;
  return ossl::X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

bool extension_is_critical(X509* cert, int nid) {
  const int index = X509_get_ext_by_NID(cert, nid, -1);
  return index >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, index)) == 1;
}

std::string ec_group(EVP_PKEY* key) {
  char group[64] = {};
  std::size_t length = 0;
  if (EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &length) != 1) return {};
  return group;
}

void check_ca_certificate(X509* cert) {
  CHECK(X509_get_version(cert) == X509_VERSION_3);
  CHECK(X509_check_ca(cert) == 1);
  CHECK(extension_is_critical(cert, NID_basic_constraints));
  CHECK(extension_is_critical(cert, NID_key_usage));
  CHECK(X509_get_key_usage(cert) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert);
  REQUIRE(ski != nullptr);
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(cert);
  REQUIRE(aki != nullptr);
  CHECK(ASN1_OCTET_STRING_cmp(ski, aki) == 0);

  // Self-signed, and the signature holds.
  EVP_PKEY* public_key = X509_get0_pubkey(cert);
  CHECK(X509_verify(cert, public_key) == 1);
  CHECK(X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) == 0);

  // Random serial of 128 bits, positive.
  ossl::BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  REQUIRE(serial);
  CHECK(BN_num_bits(serial.get()) == 128);
  CHECK_FALSE(BN_is_negative(serial.get()));

  // Two years of validity, starting a little in the past.
  int days = 0, seconds = 0;
  REQUIRE(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert), X509_get0_notAfter(cert)) == 1);
  CHECK(days == 730);
  CHECK(seconds == 3600);
  std::time_t now = std::time(nullptr);
  CHECK(X509_cmp_time(X509_get0_notBefore(cert), &now) < 0);
}

}  // namespace

TEST_CASE("ca init writes the certificate, DER copy, Android file and a 0600 key") {
  TempDir temp;
  const auto dir = temp.path() / "certs";
  CertificateAuthority ca = CertificateAuthority::create({.dir = dir});

  CHECK(std::filesystem::is_regular_file(dir / "ca.pem"));
  CHECK(std::filesystem::is_regular_file(dir / "ca.der"));
  CHECK(std::filesystem::is_regular_file(dir / "ca.key"));
  CHECK(file_mode(dir / "ca.key") == 0600);
  CHECK(file_mode(dir / "ca.pem") == 0644);
  CHECK(file_mode(dir) == 0700);
  CHECK(ca.paths().key == dir / "ca.key");

  // Nothing but the four files: no temporary left behind.
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++count;
  CHECK(count == 4);

  ossl::X509Ptr cert = read_pem_certificate(dir / "ca.pem");
  REQUIRE(cert);
  check_ca_certificate(cert.get());
  CHECK(X509_cmp(cert.get(), ca.certificate()) == 0);

  EVP_PKEY* key = ca.key();
  CHECK(EVP_PKEY_is_a(key, "EC"));
  CHECK(ec_group(key) == "prime256v1");
  CHECK(ca.key_description() == "EC P-256");

  const std::string subject = ca.subject();
  CHECK(subject.find("CN=leakguard lab CA ") != std::string::npos);
  CHECK(subject.find("O=leakguard") != std::string::npos);

  // The DER file is the same certificate.
  const std::string der = read_file(dir / "ca.der");
  const unsigned char* cursor = reinterpret_cast<const unsigned char*>(der.data());
  ossl::X509Ptr from_der(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
  REQUIRE(from_der);
  CHECK(X509_cmp(from_der.get(), cert.get()) == 0);

  // The Android file holds the PEM under the old-style subject hash, as `openssl x509` computes it.
  const std::string expected_hash =
      run_command_output("openssl x509 -noout -subject_hash_old -in '" + (dir / "ca.pem").string() + "'");
  REQUIRE(expected_hash.size() == 8);
  CHECK(ca.android_file_name() == expected_hash + ".0");
  CHECK(read_file(dir / (expected_hash + ".0")) == read_file(dir / "ca.pem"));

  const std::string expected_fingerprint =
      run_command_output("openssl x509 -noout -fingerprint -sha256 -in '" + (dir / "ca.pem").string() + "'");
  CHECK(expected_fingerprint == "sha256 Fingerprint=" + ca.sha256_fingerprint());
}

TEST_CASE("ca init with --rsa makes an RSA-2048 CA with the same extensions") {
  TempDir temp;
  CertificateAuthority ca = CertificateAuthority::create({.dir = temp.path(), .key_type = CaKeyType::rsa_2048});
  CHECK(EVP_PKEY_is_a(ca.key(), "RSA"));
  CHECK(EVP_PKEY_get_bits(ca.key()) == 2048);
  CHECK(ca.key_description() == "RSA 2048");
  check_ca_certificate(ca.certificate());
  CHECK(file_mode(temp.path() / "ca.key") == 0600);
  const std::string expected_hash =
      run_command_output("openssl x509 -noout -subject_hash_old -in '" + (temp.path() / "ca.pem").string() + "'");
  CHECK(ca.android_file_name() == expected_hash + ".0");
}

TEST_CASE("the key is 0600 even under a permissive umask") {
  TempDir temp;
  const mode_t previous = ::umask(0);
  CertificateAuthority::create({.dir = temp.path()});
  ::umask(previous);
  CHECK(file_mode(temp.path() / "ca.key") == 0600);
}

TEST_CASE("every installation gets its own CA name") {
  TempDir first, second;
  const auto a = CertificateAuthority::create({.dir = first.path()});
  const auto b = CertificateAuthority::create({.dir = second.path()});
  CHECK(a.subject() != b.subject());
  CHECK(a.android_file_name() != b.android_file_name());
}

TEST_CASE("an existing key is never overwritten without force") {
  TempDir temp;
  const auto first = CertificateAuthority::create({.dir = temp.path()});
  const std::string key_before = read_file(temp.path() / "ca.key");
  const std::string cert_before = read_file(temp.path() / "ca.pem");

  CHECK_THROWS_AS(CertificateAuthority::create({.dir = temp.path()}), CaExistsError);
  CHECK_THROWS_WITH(CertificateAuthority::create({.dir = temp.path()}), doctest::Contains("--force"));
  CHECK(read_file(temp.path() / "ca.key") == key_before);
  CHECK(read_file(temp.path() / "ca.pem") == cert_before);
  CHECK(std::filesystem::exists(first.android_path()));

  // A key file alone (say, certificates deleted by hand) is protected just the same.
  std::filesystem::remove(temp.path() / "ca.pem");
  CHECK_THROWS_AS(CertificateAuthority::create({.dir = temp.path()}), CaExistsError);
  CHECK(read_file(temp.path() / "ca.key") == key_before);
}

TEST_CASE("force replaces the CA and drops the old Android file") {
  TempDir temp;
  const auto first = CertificateAuthority::create({.dir = temp.path()});
  const std::string key_before = read_file(temp.path() / "ca.key");
  const auto second = CertificateAuthority::create({.dir = temp.path(), .force = true});
  CHECK(read_file(temp.path() / "ca.key") != key_before);
  CHECK(file_mode(temp.path() / "ca.key") == 0600);
  CHECK(std::filesystem::exists(second.android_path()));
  CHECK_FALSE(std::filesystem::exists(first.android_path()));
  const auto loaded = CertificateAuthority::load(temp.path());
  CHECK(X509_cmp(loaded.certificate(), second.certificate()) == 0);
}

TEST_CASE("load returns the CA that create wrote") {
  TempDir temp;
  const auto created = CertificateAuthority::create({.dir = temp.path()});
  const auto loaded = CertificateAuthority::load(temp.path());
  CHECK(X509_cmp(loaded.certificate(), created.certificate()) == 0);
  CHECK(EVP_PKEY_eq(loaded.key(), created.key()) == 1);
  CHECK(loaded.not_before() == created.not_before());
  CHECK(loaded.not_after() - loaded.not_before() == 730 * 24 * 3600 + 3600);
  CHECK(loaded.sha256_fingerprint() == created.sha256_fingerprint());
}

TEST_CASE("load refuses a key that group or others can read") {
  TempDir temp;
  CertificateAuthority::create({.dir = temp.path()});
  const auto key = temp.path() / "ca.key";
  for (const mode_t loose : {0644, 0640, 0604, 0660, 0602}) {
    CAPTURE(loose);
    REQUIRE(::chmod(key.c_str(), loose) == 0);
    CHECK_THROWS_AS(CertificateAuthority::load(temp.path()), CaError);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(loose));
    CHECK_THROWS_WITH(CertificateAuthority::load(temp.path()), doctest::Contains(mode));
  }
  REQUIRE(::chmod(key.c_str(), 0400) == 0);
  CHECK_NOTHROW(CertificateAuthority::load(temp.path()));
  REQUIRE(::chmod(key.c_str(), 0600) == 0);
  CHECK_NOTHROW(CertificateAuthority::load(temp.path()));
}

TEST_CASE("load explains a missing key, a missing certificate and a mismatched pair") {
  TempDir empty;
  CHECK_THROWS_WITH(CertificateAuthority::load(empty.path()), doctest::Contains("ca init"));

  TempDir one, two;
  CertificateAuthority::create({.dir = one.path()});
  CertificateAuthority::create({.dir = two.path()});
  std::filesystem::copy_file(two.path() / "ca.pem", one.path() / "ca.pem",
                             std::filesystem::copy_options::overwrite_existing);
  CHECK_THROWS_WITH(CertificateAuthority::load(one.path()), doctest::Contains("does not belong"));

  std::filesystem::remove(one.path() / "ca.pem");
  CHECK_THROWS_WITH(CertificateAuthority::load(one.path()), doctest::Contains("ca.pem"));
}

TEST_CASE("load refuses a certificate that is not a CA") {
  TempDir temp;
  const auto ca = CertificateAuthority::create({.dir = temp.path()});
  // Re-sign a copy without basicConstraints, with the same key: it matches but cannot issue.
  ossl::X509Ptr plain(X509_dup(ca.certificate()));
  REQUIRE(plain);
  ossl::X509ExtensionPtr removed(
      X509_delete_ext(plain.get(), X509_get_ext_by_NID(plain.get(), NID_basic_constraints, -1)));
  REQUIRE(removed);
  REQUIRE(X509_sign(plain.get(), ca.key(), EVP_sha256()) > 0);
  {
    ossl::BioPtr bio(BIO_new_file((temp.path() / "ca.pem").c_str(), "w"));
    REQUIRE(bio);
    REQUIRE(PEM_write_bio_X509(bio.get(), plain.get()) == 1);
  }
  CHECK_THROWS_WITH(CertificateAuthority::load(temp.path()), doctest::Contains("not a CA"));
}
