// What TLS interception (issue 5) shares across connections: the lab CA, the leaf forge, the memory
// of clients that pin, and the two OpenSSL contexts (server side towards the phone, client side
// towards the origin). Built once from `tls:` when interception is on; sessions use it read-only.
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/ssl.hpp>

#include "certs/certificate_authority.hpp"
#include "certs/leaf_forge.hpp"
#include "certs/pinned_hosts.hpp"
#include "common/asio.hpp"
#include "config/config.hpp"

namespace leakguard {

// TLS sessions of verified upstream connections, so the next connection to the same origin resumes
// instead of doing a full handshake: a resumed handshake skips the origin's certificate chain, whose
// parsing and verification are most of a client handshake's cost in OpenSSL 3.0 (about 1 ms here).
// Every proxy does this towards origins (nginx's proxy_ssl_session_reuse is on by default).
// Keyed by destination address, port and the verified name: a session verified for one name is
// never offered for another. Bounded; least recently stored goes first. Thread-safe.
class UpstreamSessions {
 public:
  explicit UpstreamSessions(std::size_t capacity) : capacity_(capacity) {}
  UpstreamSessions(const UpstreamSessions&) = delete;
  UpstreamSessions& operator=(const UpstreamSessions&) = delete;
  ~UpstreamSessions();

  // Takes the caller's reference.
  void store(const std::string& key, SSL_SESSION* session);
  // A new reference (the caller frees it), or nullptr.
  SSL_SESSION* find(const std::string& key);
  void forget(const std::string& key);
  std::size_t size() const;

 private:
  struct Entry {
    SSL_SESSION* session;
    std::list<std::string>::iterator position;
  };
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::list<std::string> order_;  // front: most recently stored
  std::unordered_map<std::string, Entry> entries_;
};

class TlsInterceptor {
 public:
  // Loads the CA from settings.ca_dir (refusing a key that group or others can read) and the
  // upstream trust store (a file or a directory of hashed certificates). Throws CaError with a
  // message for the user: this is the control plane, `leakguard run` exits non-zero on it.
  explicit TlsInterceptor(const TlsSettings& settings);
  TlsInterceptor(const TlsInterceptor&) = delete;
  TlsInterceptor& operator=(const TlsInterceptor&) = delete;

  // Whether this interceptor was built from the same start-time settings (CA directory, trust
  // store, cache size, pinned ttl). The intercept/passthrough lists are not among them: sessions
  // read those from their own configuration snapshot, so a reload changes them without a rebuild.
  bool built_from(const TlsSettings& settings) const;

  asio::ssl::context& server_context() { return server_; }
  asio::ssl::context& client_context() { return client_; }
  LeafForge& leaves() { return leaves_; }
  PinnedHosts& pinned() { return pinned_; }
  const CertificateAuthority& ca() const { return ca_; }

  // Per connection, before the client's handshake: the forged leaf alone. The CA is not sent: a
  // client that trusts it has it already (RFC 8446 4.4.2 lets the trust anchor be omitted), and
  // every certificate sent is one more for the phone to parse on every full handshake.
  static bool prepare_server(SSL* ssl, const ForgedLeaf& leaf);
  // Per connection, before the upstream handshake: SNI for a DNS name (never for an address, RFC
  // 6066), the name or address the origin's certificate must carry, and a session to resume from an
  // earlier verified connection to the same destination and name. False on OpenSSL failure.
  // `client_alpn`: the phone's ALPN list; the origin is offered its h2 and http/1.1, in its order.
  bool prepare_client(SSL* ssl, const tcp::endpoint& destination, const LeafName& name,
                      const std::vector<std::string>& client_alpn);
  // Per connection, before the phone's handshake: the protocol the origin chose ("h2", "http/1.1",
  // or "" for none, which is HTTP/1.1). The phone gets it if it offered it, else no ALPN.
  static void offer_client_alpn(SSL* ssl, std::string_view origin_choice);
  // After a failed upstream handshake: that session (if one was offered) is not offered again.
  void forget_session(SSL* ssl);
  UpstreamSessions& upstream_sessions() { return sessions_; }

 private:
  TlsSettings settings_;
  CertificateAuthority ca_;
  LeafForge leaves_;
  PinnedHosts pinned_;
  UpstreamSessions sessions_;
  asio::ssl::context server_;
  asio::ssl::context client_;
};

// Why a client's handshake with our leaf failed, as far as the auto-passthrough rule cares.
enum class ClientTlsFailure {
  // The client refused our certificate: a certificate alert (bad_certificate, unsupported,
  // revoked, expired, certificate_unknown, unknown_ca, access_denied), or the connection closed
  // or reset while we waited for the client's answer to our certificate.
  rejected_certificate,
  // Anything else (no common version or cipher, a protocol error, a timeout): not about the
  // certificate, so nothing is remembered.
  other,
};
ClientTlsFailure classify_client_failure(const error_code& ec);

// The ALPN protocol a handshake settled on, or "".
std::string selected_alpn(SSL* ssl);
// "TLSv1.3" and the like, or "" before a handshake.
std::string tls_version_name(SSL* ssl);
// The origin's certificate problem as OpenSSL names it ("unable to get local issuer certificate",
// "hostname mismatch"), or "" when the chain verified and the failure lies elsewhere.
std::string upstream_verify_error(SSL* ssl);

}  // namespace leakguard
