// Forged server certificates for intercepted TLS (issue 5): one leaf per host name or IP, signed by
// the lab CA, kept in a bounded LRU cache because phones open many connections to few hosts and a
// signature per handshake would cost more than the handshake itself.
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "certs/certificate_authority.hpp"
#include "certs/openssl_ptr.hpp"

namespace leakguard {

// An immutable forged leaf: certificate, the (shared) leaf key and the chain to send (the CA).
//
// How to use it: one server SSL_CTX for all intercepted connections (protocol versions, ALPN
// callback), and per connection, before the handshake, `leaf->use_on(ssl)`. That costs a few
// reference-count bumps and a public-key comparison. An SSL_CTX per leaf was the alternative; it
// would not make handshakes cheaper (SSL_set_SSL_CTX copies the certificate state just the same),
// while SSL_CTX_new is slow in OpenSSL 3 (provider lookups) and each one carries kilobytes of state.
// Measured on the lab VM (OpenSSL 3.0): SSL_new + use_on 2 us, SSL_CTX_new 110 us; a cache hit
// 0.15 us, a miss 0.25 ms, mostly OpenSSL 3.0 encoding and decoding the public key rather than the
// signature (a template copied per leaf was tried: parsing a certificate costs as much).
// The pointers it hands out are shared by every connection: never modify them.
class ForgedLeaf {
 public:
  ForgedLeaf(std::string name, ossl::X509Ptr certificate, ossl::EvpPkeyPtr key, ossl::X509StackPtr chain,
             std::time_t not_before, std::time_t not_after, std::time_t refresh_at);

  const std::string& name() const { return name_; }  // normalized: lower case, or canonical IP text
  X509* certificate() const { return certificate_.get(); }
  EVP_PKEY* key() const { return key_.get(); }
  STACK_OF(X509) * chain() const { return chain_.get(); }
  std::time_t not_before() const { return not_before_; }
  std::time_t not_after() const { return not_after_; }
  // The cache forges a new leaf from this point on, well before not_after.
  std::time_t refresh_at() const { return refresh_at_; }

  // Installs certificate, key and chain on a server-side SSL before its handshake (each SSL takes
  // its own references). False on failure, with the reason on OpenSSL's error queue.
  bool use_on(SSL* ssl) const;

 private:
  std::string name_;
  ossl::X509Ptr certificate_;
  ossl::EvpPkeyPtr key_;
  ossl::X509StackPtr chain_;
  std::time_t not_before_;
  std::time_t not_after_;
  std::time_t refresh_at_;
};

struct LeafName {
  enum class Kind { dns, ip };
  Kind kind = Kind::dns;
  std::string text;  // lower-case DNS name without trailing dot, or the canonical address text
};

struct LeafForgeStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;     // each one forged (or tried to forge) a leaf
  std::uint64_t evictions = 0;  // dropped for capacity
  std::uint64_t failures = 0;   // invalid names and OpenSSL errors
  std::size_t size = 0;
  std::size_t capacity = 0;
};

class LeafForge {
 public:
  using Now = std::function<std::time_t()>;

  // Takes its own references to the CA's certificate and key and generates the one EC P-256 key all
  // leaves share (a key per leaf would double the cost of a miss and buy nothing: the CA is the
  // trust anchor, and the key never leaves this process). cache_capacity is
  // TlsSettings::leaf_cache_size; 0 disables caching. `now` is for tests. Throws CaError.
  LeafForge(const CertificateAuthority& ca, std::size_t cache_capacity, Now now = {});
  ~LeafForge();
  LeafForge(const LeafForge&) = delete;
  LeafForge& operator=(const LeafForge&) = delete;

  // The leaf for a host name (the SNI) or an IPv4/IPv6 literal (the destination, when there is no
  // SNI; "[::1]" brackets allowed). nullptr when the name is not one a certificate can carry (see
  // canonical_name) or OpenSSL fails: the caller then passes the connection through. Thread-safe;
  // two threads missing on the same name at once may both forge, and one leaf wins the cache.
  // `cache_hit`, when given, tells whether the leaf came from the cache (the proxy reports it per
  // connection; comparing stats() before and after would race with other threads).
  std::shared_ptr<const ForgedLeaf> forge(std::string_view host_or_ip, bool* cache_hit = nullptr);

  // The name a leaf is forged and cached under, or nullopt when it cannot be certified: empty,
  // longer than 253, a label longer than 63 or empty, characters other than letters, digits, '-',
  // '_' and '.', and wildcards. SNI carries a literal host (RFC 6066), so a '*' there is a client's
  // mistake or a probe; minting a wildcard leaf for it would only widen what the forgery covers.
  static std::optional<LeafName> canonical_name(std::string_view host_or_ip);

  LeafForgeStats stats() const;

 private:
  std::shared_ptr<const ForgedLeaf> make_leaf(const LeafName& name, std::time_t now) const;

  ossl::X509Ptr ca_certificate_;
  ossl::EvpPkeyPtr ca_key_;
  ossl::EvpPkeyPtr leaf_key_;
  std::time_t ca_not_before_;
  std::time_t ca_not_after_;
  // Built once: the same for every leaf, and X509_add_ext copies them.
  ossl::X509ExtensionPtr basic_constraints_;
  ossl::X509ExtensionPtr key_usage_;
  ossl::X509ExtensionPtr extended_key_usage_;
  ossl::X509ExtensionPtr authority_key_id_;
  const std::size_t capacity_;
  const Now now_;

  mutable std::mutex mutex_;
  std::list<std::shared_ptr<const ForgedLeaf>> recent_;  // front: most recently used
  std::unordered_map<std::string, std::list<std::shared_ptr<const ForgedLeaf>>::iterator> index_;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
  std::uint64_t evictions_ = 0;
  std::uint64_t failures_ = 0;
};

}  // namespace leakguard
