// The interception CA (GitHub issue 5): `leakguard ca init` creates it once per installation, the
// proxy loads it to sign forged leaves. Its private key is the crown jewel of the lab: it is created
// 0600 from the first byte, never silently replaced, and refused when others could read it.
#pragma once

#include <ctime>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "certs/openssl_ptr.hpp"

namespace leakguard {

// Control-plane failure (bad files, OpenSSL error): the message is meant for the user as is.
class CaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `ca init` found a key and was not told to --force; distinct so the command can say how to proceed.
class CaExistsError : public CaError {
 public:
  using CaError::CaError;
};

enum class CaKeyType { ec_p256, rsa_2048 };

struct CaCreateOptions {
  std::filesystem::path dir = "certs";
  CaKeyType key_type = CaKeyType::ec_p256;
  bool force = false;  // replace an existing ca.key (and the certificate files with it)
};

// The file names inside a CA directory, in one place for the command, the proxy and the tests.
struct CaPaths {
  explicit CaPaths(const std::filesystem::path& dir);
  std::filesystem::path dir;
  std::filesystem::path cert_pem;  // ca.pem
  std::filesystem::path cert_der;  // ca.der (what iOS and some Android settings screens import)
  std::filesystem::path key;       // ca.key (PKCS#8 PEM, mode 0600)
};

class CertificateAuthority {
 public:
  // Creates a new CA in options.dir (made 0700 if missing) and returns it loaded. Writes ca.key,
  // ca.pem, ca.der and <subject_hash_old>.0. Throws CaExistsError when ca.key exists and
  // !options.force, CaError on any other failure. ca.key is published atomically: it either holds
  // the complete new key or is untouched.
  static CertificateAuthority create(const CaCreateOptions& options);

  // Loads ca.pem and ca.key from dir. Throws CaError when the key is missing, readable by group or
  // others (st_mode & 077), does not match the certificate, or the certificate is not a usable CA.
  static CertificateAuthority load(const std::filesystem::path& dir);

  CertificateAuthority(CertificateAuthority&&) noexcept = default;
  CertificateAuthority& operator=(CertificateAuthority&&) noexcept = default;

  // Borrowed pointers, valid as long as this object; callers that keep them take a reference
  // (ossl::share). Treat them as read-only: they are shared with every forged leaf.
  X509* certificate() const { return certificate_.get(); }
  EVP_PKEY* key() const { return key_.get(); }

  const CaPaths& paths() const { return paths_; }
  std::string subject() const;             // RFC 2253, e.g. "O=leakguard,CN=leakguard lab CA host 1a2b3c4d"
  std::string sha256_fingerprint() const;  // "AB:CD:..."
  std::string key_description() const;     // "EC P-256" or "RSA 2048"
  // "<8 hex digits>.0": X509_subject_name_hash_old, the name Android's system store
  // (/system/etc/security/cacerts) looks a CA up by.
  std::string android_file_name() const;
  std::filesystem::path android_path() const { return paths_.dir / android_file_name(); }
  std::time_t not_before() const { return not_before_; }
  std::time_t not_after() const { return not_after_; }

 private:
  CertificateAuthority(CaPaths paths, ossl::X509Ptr certificate, ossl::EvpPkeyPtr key);

  CaPaths paths_;
  ossl::X509Ptr certificate_;
  ossl::EvpPkeyPtr key_;
  std::time_t not_before_ = 0;
  std::time_t not_after_ = 0;
};

}  // namespace leakguard
