#include "certs/leaf_forge.hpp"

#include <algorithm>

#include <boost/asio/ip/address.hpp>
#include <openssl/ec.h>

#include "certs/host_glob.hpp"
#include "certs/x509_util.hpp"

namespace leakguard {

using namespace leakguard::ossl;

namespace {

constexpr std::time_t day = 24 * 3600;
constexpr std::time_t leaf_backdate = day;  // phones with a slow clock still accept the leaf
constexpr std::time_t leaf_lifetime = 30 * day;
constexpr std::time_t refresh_margin = day;  // never hand out a leaf about to expire

bool is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (const char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!allowed || ++label > 63) return false;
  }
  return label != 0;
}

bool set_subject(X509* certificate, std::string_view common_name) {
  X509_NAME* subject = X509_get_subject_name(certificate);
  // CN is bounded at 64 (X.520); clients look at the SAN, which carries the whole name.
  const std::string cn(common_name.substr(0, 64));
  return X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("leakguard"), -1,
                                    -1, 0) == 1 &&
         X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                                    -1, 0) == 1;
}

// Built from typed values rather than "DNS:..." config text, so no byte of a name from the network
// is ever parsed as OpenSSL configuration syntax.
bool add_subject_alt_name(X509* certificate, const LeafName& name) {
  GeneralNamesPtr names(GENERAL_NAMES_new());
  GeneralNamePtr entry(GENERAL_NAME_new());
  if (!names || !entry) return false;
  if (name.kind == LeafName::Kind::ip) {
    boost::system::error_code error;
    const auto address = boost::asio::ip::make_address(name.text, error);
    if (error) return false;
    Asn1OctetStringPtr octets(ASN1_OCTET_STRING_new());
    if (!octets) return false;
    bool ok = false;
    if (address.is_v4()) {
      const auto bytes = address.to_v4().to_bytes();
      ok = ASN1_OCTET_STRING_set(octets.get(), bytes.data(), static_cast<int>(bytes.size())) == 1;
    } else {
      const auto bytes = address.to_v6().to_bytes();
      ok = ASN1_OCTET_STRING_set(octets.get(), bytes.data(), static_cast<int>(bytes.size())) == 1;
    }
    if (!ok) return false;
    GENERAL_NAME_set0_value(entry.get(), GEN_IPADD, octets.release());
  } else {
    ASN1_IA5STRING* text = ASN1_IA5STRING_new();
    if (text == nullptr) return false;
    if (ASN1_STRING_set(text, name.text.data(), static_cast<int>(name.text.size())) != 1) {
      ASN1_IA5STRING_free(text);
      return false;
    }
    GENERAL_NAME_set0_value(entry.get(), GEN_DNS, text);
  }
  if (sk_GENERAL_NAME_push(names.get(), entry.get()) == 0) return false;
  entry.release();  // now owned by `names`
  return X509_add1_ext_i2d(certificate, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) == 1;
}

}  // namespace

ForgedLeaf::ForgedLeaf(std::string name, X509Ptr certificate, EvpPkeyPtr key, X509StackPtr chain,
                       std::time_t not_before, std::time_t not_after, std::time_t refresh_at)
    : name_(std::move(name)),
      certificate_(std::move(certificate)),
      key_(std::move(key)),
      chain_(std::move(chain)),
      not_before_(not_before),
      not_after_(not_after),
      refresh_at_(refresh_at) {}

bool ForgedLeaf::use_on(SSL* ssl) const {
  return SSL_use_cert_and_key(ssl, certificate_.get(), key_.get(), chain_.get(), 1) == 1;
}

std::optional<LeafName> LeafForge::canonical_name(std::string_view host_or_ip) {
  std::string_view text = host_or_ip;
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() > 253 + 1) return std::nullopt;
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address(std::string(text), error);
  if (!error) {
    // A scope id ("%eth0") means nothing to a certificate; the address alone is certified.
    if (address.is_v6()) {
      auto v6 = address.to_v6();
      v6.scope_id(0);
      return LeafName{LeafName::Kind::ip, v6.to_string()};
    }
    return LeafName{LeafName::Kind::ip, address.to_string()};
  }
  std::string name = normalize_host(text);
  if (!is_dns_name(name)) return std::nullopt;
  return LeafName{LeafName::Kind::dns, std::move(name)};
}

LeafForge::LeafForge(const CertificateAuthority& ca, std::size_t cache_capacity, Now now)
    : ca_certificate_(share(ca.certificate())),
      ca_key_(share(ca.key())),
      leaf_key_(EVP_EC_gen("P-256")),
      ca_not_before_(ca.not_before()),
      ca_not_after_(ca.not_after()),
      capacity_(cache_capacity),
      now_(now ? std::move(now) : Now([] { return std::time(nullptr); })) {
  if (!ca_certificate_ || !ca_key_) throw CaError(error_message("cannot reference the CA"));
  if (!leaf_key_) throw CaError(error_message("cannot generate the leaf key"));
  X509V3_CTX context;
  X509V3_set_ctx(&context, ca_certificate_.get(), nullptr, nullptr, nullptr, 0);
  basic_constraints_ = x509_util::make_extension(&context, NID_basic_constraints, "critical,CA:FALSE");
  key_usage_ = x509_util::make_extension(&context, NID_key_usage, "critical,digitalSignature");
  extended_key_usage_ = x509_util::make_extension(&context, NID_ext_key_usage, "serverAuth");
  authority_key_id_ = x509_util::make_extension(&context, NID_authority_key_identifier, "keyid:always");
  if (!basic_constraints_ || !key_usage_ || !extended_key_usage_ || !authority_key_id_)
    throw CaError(error_message("cannot prepare the leaf extensions"));
}

LeafForge::~LeafForge() = default;

std::shared_ptr<const ForgedLeaf> LeafForge::make_leaf(const LeafName& name, std::time_t now) const {
  const std::time_t not_before = std::max(now - leaf_backdate, ca_not_before_);
  const std::time_t not_after = std::min(not_before + leaf_lifetime, ca_not_after_);
  if (not_after <= now) return nullptr;  // the CA itself has expired: nothing valid can be signed

  X509Ptr certificate(X509_new());
  Asn1IntegerPtr serial = x509_util::random_serial();
  if (!certificate || !serial) return nullptr;
  X509* leaf = certificate.get();
  const bool ok =
      X509_set_version(leaf, X509_VERSION_3) == 1 && X509_set_serialNumber(leaf, serial.get()) == 1 &&
      X509_set_issuer_name(leaf, X509_get_subject_name(ca_certificate_.get())) == 1 && set_subject(leaf, name.text) &&
      x509_util::set_time(X509_getm_notBefore(leaf), not_before) &&
      x509_util::set_time(X509_getm_notAfter(leaf), not_after) && X509_set_pubkey(leaf, leaf_key_.get()) == 1 &&
      X509_add_ext(leaf, basic_constraints_.get(), -1) == 1 && X509_add_ext(leaf, key_usage_.get(), -1) == 1 &&
      X509_add_ext(leaf, extended_key_usage_.get(), -1) == 1 && add_subject_alt_name(leaf, name) &&
      X509_add_ext(leaf, authority_key_id_.get(), -1) == 1 && X509_sign(leaf, ca_key_.get(), EVP_sha256()) > 0;
  if (!ok) return nullptr;
  // Fills OpenSSL's per-certificate extension cache now, while this thread owns the leaf, instead
  // of on first use by concurrent handshakes.
  X509_check_purpose(leaf, -1, 0);

  X509StackPtr chain(sk_X509_new_null());
  X509Ptr issuer = share(ca_certificate_.get());
  EvpPkeyPtr key = share(leaf_key_.get());
  if (!chain || !issuer || !key || sk_X509_push(chain.get(), issuer.get()) == 0) return nullptr;
  issuer.release();  // now owned by `chain`

  const std::time_t refresh_at = not_after - refresh_margin > now ? not_after - refresh_margin : not_after;
  return std::make_shared<const ForgedLeaf>(name.text, std::move(certificate), std::move(key), std::move(chain),
                                            not_before, not_after, refresh_at);
}

std::shared_ptr<const ForgedLeaf> LeafForge::forge(std::string_view host_or_ip, bool* cache_hit) {
  if (cache_hit != nullptr) *cache_hit = false;
  const std::optional<LeafName> name = canonical_name(host_or_ip);
  if (!name) {
    std::lock_guard lock(mutex_);
    ++failures_;
    return nullptr;
  }
  const std::time_t now = now_();
  {
    std::lock_guard lock(mutex_);
    if (const auto found = index_.find(name->text); found != index_.end()) {
      if (now < (*found->second)->refresh_at()) {
        recent_.splice(recent_.begin(), recent_, found->second);
        ++hits_;
        if (cache_hit != nullptr) *cache_hit = true;
        return *found->second;
      }
      recent_.erase(found->second);
      index_.erase(found);
    }
    ++misses_;
  }

  // Signed outside the lock: a signature takes tens of microseconds, and hits on other names must
  // not queue behind it.
  std::shared_ptr<const ForgedLeaf> leaf = make_leaf(*name, now);
  std::lock_guard lock(mutex_);
  if (!leaf) {
    ossl::clear_errors();
    ++failures_;
    return nullptr;
  }
  if (capacity_ == 0) return leaf;
  if (const auto found = index_.find(name->text); found != index_.end()) {
    // Another thread forged the same name meanwhile: keep one, so every client sees the same leaf.
    recent_.splice(recent_.begin(), recent_, found->second);
    return *found->second;
  }
  recent_.push_front(leaf);
  index_.emplace(leaf->name(), recent_.begin());
  while (recent_.size() > capacity_) {
    index_.erase(recent_.back()->name());
    recent_.pop_back();
    ++evictions_;
  }
  return leaf;
}

LeafForgeStats LeafForge::stats() const {
  std::lock_guard lock(mutex_);
  return LeafForgeStats{hits_, misses_, evictions_, failures_, recent_.size(), capacity_};
}

}  // namespace leakguard
