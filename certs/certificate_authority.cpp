#include "certs/certificate_authority.hpp"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "certs/x509_util.hpp"

namespace leakguard {

using namespace leakguard::ossl;

namespace {

constexpr long ca_validity_days = 730;
constexpr long ca_backdate_seconds = 3600;  // tolerate phones whose clock runs a little behind
constexpr std::size_t max_key_file_bytes = 1 << 20;

std::string errno_text(int error) { return std::generic_category().message(error); }

std::string random_hex(std::size_t bytes) {
  unsigned char buffer[16];
  if (bytes > sizeof buffer || RAND_bytes(buffer, static_cast<int>(bytes)) != 1)
    throw CaError(error_message("random number generator failed"));
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", buffer[i]);
    out += hex;
  }
  return out;
}

// The CN names the machine so a phone's certificate list shows which lab box it trusts; the random
// suffix makes every installation's CA distinct even on identically named hosts.
std::string ca_common_name() {
  char host[HOST_NAME_MAX + 1] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "unknown");
  std::string clean;
  for (const char* p = host; *p != '\0'; ++p) {
    const unsigned char c = static_cast<unsigned char>(*p);
    if (c > 0x20 && c < 0x7f) clean += static_cast<char>(c);
  }
  if (clean.empty()) clean = "unknown";
  const std::string prefix = "leakguard lab CA ";
  const std::string suffix = " " + random_hex(4);
  const std::size_t room = 64 - prefix.size() - suffix.size();  // X.520 ub-common-name
  if (clean.size() > room) clean.resize(room);
  return prefix + clean + suffix;
}

EvpPkeyPtr generate_key(CaKeyType type) {
  EvpPkeyPtr key(type == CaKeyType::rsa_2048 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256"));
  if (!key) throw CaError(error_message("cannot generate the CA key"));
  return key;
}

X509Ptr build_certificate(EVP_PKEY* key) {
  X509Ptr cert(X509_new());
  if (!cert) throw CaError(error_message("X509_new"));
  Asn1IntegerPtr serial = x509_util::random_serial();
  const std::time_t now = std::time(nullptr);
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string common_name = ca_common_name();
  const bool ok =
      X509_set_version(cert.get(), X509_VERSION_3) == 1 && serial &&
      X509_set_serialNumber(cert.get(), serial.get()) == 1 &&
      x509_util::set_time(X509_getm_notBefore(cert.get()), now - ca_backdate_seconds) &&
      x509_util::set_time(X509_getm_notAfter(cert.get()), now + ca_validity_days * 24 * 3600) &&
      X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("leakguard"), -1, -1,
                                 0) == 1 &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                 -1, -1, 0) == 1 &&
      X509_set_issuer_name(cert.get(), name) == 1 && X509_set_pubkey(cert.get(), key) == 1;
  if (!ok) throw CaError(error_message("cannot fill in the CA certificate"));

  X509V3_CTX context;
  X509V3_set_ctx(&context, cert.get(), cert.get(), nullptr, nullptr, 0);
  // pathlen:0: this CA signs leaves only, so a leaked leaf key can never mint further certificates.
  // The subject key identifier goes first: the self-signed authority key identifier copies it.
  const bool extensions_ok =
      x509_util::add_extension(cert.get(), &context, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
      x509_util::add_extension(cert.get(), &context, NID_key_usage, "critical,keyCertSign,cRLSign") &&
      x509_util::add_extension(cert.get(), &context, NID_subject_key_identifier, "hash") &&
      x509_util::add_extension(cert.get(), &context, NID_authority_key_identifier, "keyid:always");
  if (!extensions_ok) throw CaError(error_message("cannot add the CA extensions"));
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) throw CaError(error_message("cannot sign the CA certificate"));
  return cert;
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

void write_all(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw CaError("cannot write " + path.string() + ": " + errno_text(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
}

// Writes a new file that nobody else can have opened: O_EXCL refuses an existing name (and a planted
// symlink), and the mode is set at creation, so the file never exists with looser permissions.
void write_exclusive(const std::filesystem::path& path, std::string_view data, mode_t mode) {
  FileDescriptor fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (fd.get() < 0) {
    const int error = errno;
    if (error == EEXIST) throw CaExistsError(path.string() + " already exists");
    throw CaError("cannot create " + path.string() + ": " + errno_text(error));
  }
  try {
    // The umask may only have removed bits; make the mode exact.
    if (::fchmod(fd.get(), mode) != 0) throw CaError("cannot chmod " + path.string() + ": " + errno_text(errno));
    write_all(fd.get(), data, path);
    if (::fsync(fd.get()) != 0) throw CaError("cannot sync " + path.string() + ": " + errno_text(errno));
    if (::close(fd.release()) != 0) throw CaError("cannot close " + path.string() + ": " + errno_text(errno));
  } catch (...) {
    ::unlink(path.c_str());
    throw;
  }
}

// Replaces `path` atomically: readers see the old file or the complete new one, never a mix.
void replace_file(const std::filesystem::path& path, std::string_view data, mode_t mode) {
  std::filesystem::path temporary = path;
  temporary += ".tmp-" + random_hex(6);
  write_exclusive(temporary, data, mode);
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    throw CaError("cannot replace " + path.string() + ": " + errno_text(error));
  }
}

void ensure_directory(const std::filesystem::path& dir) {
  std::error_code error;
  if (std::filesystem::is_directory(dir, error)) return;
  if (!dir.parent_path().empty()) std::filesystem::create_directories(dir.parent_path(), error);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw CaError("cannot create directory " + dir.string() + ": " + errno_text(errno));
  if (!std::filesystem::is_directory(dir, error)) throw CaError(dir.string() + " is not a directory");
}

std::string android_name_of(X509* certificate) {
  char name[32];
  std::snprintf(name, sizeof name, "%08lx.0", X509_subject_name_hash_old(certificate));
  return name;
}

X509Ptr read_certificate(const std::filesystem::path& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    clear_errors();
    return nullptr;
  }
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) clear_errors();
  return cert;
}

// Never prompt on the terminal for an encrypted key: the proxy may be a service with no terminal.
int no_password(char*, int, int, void*) { return -1; }

std::string read_private_key_file(const std::filesystem::path& path, const std::filesystem::path& dir) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int error = errno;
    if (error == ENOENT)
      throw CaError("no CA key at " + path.string() + ": create one with `leakguard ca init --dir " + dir.string() +
                    "`");
    throw CaError("cannot open CA key " + path.string() + ": " + errno_text(error));
  }
  // fstat on the opened descriptor, so the mode we check belongs to the file we read.
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0) throw CaError("cannot stat " + path.string() + ": " + errno_text(errno));
  if (!S_ISREG(status.st_mode)) throw CaError("CA key " + path.string() + " is not a regular file");
  if ((status.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(status.st_mode & 07777));
    throw CaError("CA key " + path.string() + " has mode " + mode +
                  ": group or others can access it; refusing to use it (chmod 600 " + path.string() + ")");
  }
  if (status.st_size < 0 || static_cast<std::size_t>(status.st_size) > max_key_file_bytes)
    throw CaError("CA key " + path.string() + " is too large");
  std::string data(static_cast<std::size_t>(status.st_size), '\0');
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t got = ::read(fd.get(), data.data() + done, data.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw CaError("cannot read " + path.string() + ": " + errno_text(errno));
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  data.resize(done);
  return data;
}

// Wipes key material from memory when it goes out of scope, whatever the exit path.
struct Cleansed {
  std::string& text;
  ~Cleansed() { OPENSSL_cleanse(text.data(), text.size()); }
};

}  // namespace

CaPaths::CaPaths(const std::filesystem::path& directory)
    : dir(directory), cert_pem(directory / "ca.pem"), cert_der(directory / "ca.der"), key(directory / "ca.key") {}

CertificateAuthority::CertificateAuthority(CaPaths paths, X509Ptr certificate, EvpPkeyPtr key)
    : paths_(std::move(paths)), certificate_(std::move(certificate)), key_(std::move(key)) {
  not_before_ = x509_util::to_time_t(X509_get0_notBefore(certificate_.get())).value_or(0);
  not_after_ = x509_util::to_time_t(X509_get0_notAfter(certificate_.get())).value_or(0);
}

CertificateAuthority CertificateAuthority::create(const CaCreateOptions& options) {
  CaPaths paths(options.dir);
  const auto exists_message = [&] {
    return paths.key.string() + " already exists; use --force to replace this CA (every phone that trusts it " +
           "must then be given the new certificate)";
  };
  std::error_code error;
  // Checked before the slow key generation for a quick answer; write_exclusive is the real guard.
  if (!options.force &&
      std::filesystem::symlink_status(paths.key, error).type() != std::filesystem::file_type::not_found)
    throw CaExistsError(exists_message());
  ensure_directory(paths.dir);

  EvpPkeyPtr key = generate_key(options.key_type);
  X509Ptr cert = build_certificate(key.get());
  std::string key_pem = x509_util::private_key_to_pem(key.get());
  Cleansed wipe{key_pem};
  const std::string cert_pem = x509_util::to_pem(cert.get());
  const std::string cert_der = x509_util::to_der(cert.get());
  if (key_pem.empty() || cert_pem.empty() || cert_der.empty()) throw CaError(error_message("cannot encode the CA"));

  // A previous CA's Android file has another hash name; remember it so --force leaves no stale copy.
  std::string previous_android_name;
  if (options.force)
    if (X509Ptr previous = read_certificate(paths.cert_pem)) previous_android_name = android_name_of(previous.get());

  // The key goes first: it decides whether this run may proceed at all.
  try {
    if (options.force)
      replace_file(paths.key, key_pem, 0600);
    else
      write_exclusive(paths.key, key_pem, 0600);
  } catch (const CaExistsError&) {
    throw CaExistsError(exists_message());
  }
  const std::string android_name = android_name_of(cert.get());
  replace_file(paths.cert_pem, cert_pem, 0644);
  replace_file(paths.cert_der, cert_der, 0644);
  replace_file(paths.dir / android_name, cert_pem, 0644);
  if (!previous_android_name.empty() && previous_android_name != android_name)
    std::filesystem::remove(paths.dir / previous_android_name, error);

  return CertificateAuthority(std::move(paths), std::move(cert), std::move(key));
}

CertificateAuthority CertificateAuthority::load(const std::filesystem::path& dir) {
  CaPaths paths(dir);
  std::string key_pem = read_private_key_file(paths.key, dir);
  Cleansed wipe{key_pem};
  BioPtr key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  EvpPkeyPtr key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_password, nullptr) : nullptr);
  if (!key) throw CaError(error_message("cannot parse CA key " + paths.key.string() + " (unencrypted PEM expected)"));

  X509Ptr cert = read_certificate(paths.cert_pem);
  if (!cert) throw CaError("cannot read CA certificate " + paths.cert_pem.string());
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    clear_errors();
    throw CaError("CA key " + paths.key.string() + " does not belong to the certificate " + paths.cert_pem.string());
  }
  if (X509_check_ca(cert.get()) != 1 || (X509_get_key_usage(cert.get()) & KU_KEY_CERT_SIGN) == 0)
    throw CaError(paths.cert_pem.string() +
                  " is not a CA certificate (basicConstraints CA:TRUE and keyCertSign needed)");

  CertificateAuthority ca(std::move(paths), std::move(cert), std::move(key));
  const std::time_t now = std::time(nullptr);
  if (ca.not_after() <= now)
    throw CaError("CA certificate " + ca.paths().cert_pem.string() + " expired on " +
                  x509_util::format_utc(ca.not_after()) + ": create a new one with `leakguard ca init --force`");
  return ca;
}

std::string CertificateAuthority::subject() const {
  return x509_util::name_to_string(X509_get_subject_name(certificate_.get()));
}

std::string CertificateAuthority::sha256_fingerprint() const {
  return x509_util::sha256_fingerprint(certificate_.get());
}

std::string CertificateAuthority::key_description() const {
  const int bits = EVP_PKEY_get_bits(key_.get());
  if (EVP_PKEY_is_a(key_.get(), "EC")) {
    char group[64] = {};
    std::size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key_.get(), "group", group, sizeof group, &length) == 1)
      return std::string("EC ") + (std::string_view(group) == "prime256v1" ? "P-256" : group);
    return "EC " + std::to_string(bits);
  }
  if (EVP_PKEY_is_a(key_.get(), "RSA")) return "RSA " + std::to_string(bits);
  return std::string(EVP_PKEY_get0_type_name(key_.get())) + " " + std::to_string(bits);
}

std::string CertificateAuthority::android_file_name() const { return android_name_of(certificate_.get()); }

}  // namespace leakguard
