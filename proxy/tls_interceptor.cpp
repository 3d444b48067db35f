#include "proxy/tls_interceptor.hpp"

#include <cstring>
#include <filesystem>

#include <openssl/err.h>

#include "common/ip_network.hpp"

namespace leakguard {

namespace {

// ALPN on both legs (issue 14): the origin is offered what the phone offered, in the phone's order,
// of the protocols leakguard relays (h2, http/1.1); the phone then gets what the origin chose. An
// origin that chose nothing speaks HTTP/1.1 (RFC 7301: no ALPN means the protocol the port implies).
constexpr unsigned char http11_alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
constexpr unsigned char h2_alpn[] = {2, 'h', '2'};

// Where a client-facing SSL keeps the protocol the origin chose (a pointer to a constant above).
int alpn_choice_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int select_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_length, const unsigned char* offered,
                unsigned offered_length, void*) {
  const auto* choice = static_cast<const unsigned char*>(SSL_get_ex_data(ssl, alpn_choice_index()));
  if (choice == nullptr) choice = http11_alpn;
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, choice, choice[0] + 1u, offered, offered_length) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// Where an upstream SSL keeps the key its session is stored under (a heap string freed with the SSL).
int session_key_index() {
  static const int index = SSL_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* pointer, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<std::string*>(pointer);
      });
  return index;
}

// Where the client SSL_CTX keeps its UpstreamSessions (index 0, "app data", is Asio's).
int sessions_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// OpenSSL hands over each new session of an upstream connection (TLS 1.3: each ticket, after the
// handshake). Only verified connections get this far: a failed verification ends the handshake.
int store_new_session(SSL* ssl, SSL_SESSION* session) {
  const auto* key = static_cast<const std::string*>(SSL_get_ex_data(ssl, session_key_index()));
  auto* sessions = static_cast<UpstreamSessions*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), sessions_index()));
  if (key == nullptr || sessions == nullptr || !SSL_SESSION_is_resumable(session)) return 0;
  // A copy: OpenSSL marks the connection's own session object unresumable when the connection is
  // freed without a close_notify, which is how relayed connections usually end.
  if (SSL_SESSION* copy = SSL_SESSION_dup(session)) sessions->store(*key, copy);
  return 0;  // OpenSSL keeps (and frees) its own
}

std::string session_key(const tcp::endpoint& destination, const LeafName& name) {
  return unmap_v4(destination.address()).to_string() + " " + std::to_string(destination.port()) + " " + name.text;
}

[[noreturn]] void fail(const std::string& what) { throw CaError(ossl::error_message(what)); }

CertificateAuthority load_ca(const TlsSettings& settings) {
  try {
    return CertificateAuthority::load(settings.ca_dir);
  } catch (const CaError& error) {
    throw CaError(std::string("tls.intercept is on but the CA cannot be used: ") + error.what());
  }
}

}  // namespace

TlsInterceptor::TlsInterceptor(const TlsSettings& settings)
    : settings_(settings),
      ca_(load_ca(settings)),
      leaves_(ca_, settings.leaf_cache_size),
      pinned_(settings.pinned_ttl),
      sessions_(4096),
      server_(asio::ssl::context::tls_server),
      client_(asio::ssl::context::tls_client) {
  // Towards the phone: TLS 1.2 and 1.3 only, no renegotiation (a client could otherwise make us
  // redo handshakes at will), http/1.1 through ALPN. The certificate is set per connection. The
  // client's cipher order is kept: a phone without AES instructions puts ChaCha20 first.
  SSL_CTX* server = server_.native_handle();
  if (SSL_CTX_set_min_proto_version(server, TLS1_2_VERSION) != 1) fail("cannot set the TLS version floor");
  SSL_CTX_set_options(server, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_alpn_select_cb(server, select_alpn, nullptr);
  // One ticket per handshake instead of OpenSSL's two: a phone resumes with one.
  SSL_CTX_set_num_tickets(server, 1);
  // Records come through Asio's memory BIO: read ahead, OpenSSL takes all that is buffered in one
  // read instead of a record header, then its body.
  SSL_CTX_set_read_ahead(server, 1);

  // Towards the origin: TLS 1.2+, the whole chain verified against tls.upstream_ca, the name
  // checked per connection (prepare_client). Never a fallback to an unverified connection.
  SSL_CTX* client = client_.native_handle();
  if (SSL_CTX_set_min_proto_version(client, TLS1_2_VERSION) != 1) fail("cannot set the TLS version floor");
  SSL_CTX_set_options(client, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_read_ahead(client, 1);
  if (SSL_CTX_set_alpn_protos(client, http11_alpn, sizeof http11_alpn) != 0) fail("cannot set ALPN");
  std::error_code fs_error;
  const bool is_directory = std::filesystem::is_directory(settings.upstream_ca, fs_error);
  if (!is_directory && !std::filesystem::is_regular_file(settings.upstream_ca, fs_error))
    throw CaError("tls.upstream_ca: " + settings.upstream_ca + " is neither a file nor a directory");
  const int loaded = is_directory
                         ? SSL_CTX_load_verify_locations(client, nullptr, settings.upstream_ca.c_str())
                         : SSL_CTX_load_verify_locations(client, settings.upstream_ca.c_str(), nullptr);
  if (loaded != 1) fail("tls.upstream_ca: cannot load " + settings.upstream_ca);
  SSL_CTX_set_verify(client, SSL_VERIFY_PEER, nullptr);
  // Sessions go to sessions_ (keyed by destination and name), never to OpenSSL's own client cache.
  SSL_CTX_set_session_cache_mode(client, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  if (SSL_CTX_set_ex_data(client, sessions_index(), &sessions_) != 1) fail("cannot attach the session cache");
  SSL_CTX_sess_set_new_cb(client, store_new_session);
  session_key_index();
}

UpstreamSessions::~UpstreamSessions() {
  for (auto& [key, entry] : entries_) SSL_SESSION_free(entry.session);
}

void UpstreamSessions::store(const std::string& key, SSL_SESSION* session) {
  SSL_SESSION* dropped = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (const auto found = entries_.find(key); found != entries_.end()) {
      dropped = found->second.session;
      found->second.session = session;
      order_.splice(order_.begin(), order_, found->second.position);
    } else {
      order_.push_front(key);
      entries_.emplace(key, Entry{session, order_.begin()});
      if (entries_.size() > capacity_) {
        const auto oldest = entries_.find(order_.back());
        dropped = oldest->second.session;
        entries_.erase(oldest);
        order_.pop_back();
      }
    }
  }
  if (dropped != nullptr) SSL_SESSION_free(dropped);
}

SSL_SESSION* UpstreamSessions::find(const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto found = entries_.find(key);
  if (found == entries_.end()) return nullptr;
  SSL_SESSION_up_ref(found->second.session);
  return found->second.session;
}

void UpstreamSessions::forget(const std::string& key) {
  SSL_SESSION* dropped = nullptr;
  {
    std::lock_guard lock(mutex_);
    const auto found = entries_.find(key);
    if (found == entries_.end()) return;
    dropped = found->second.session;
    order_.erase(found->second.position);
    entries_.erase(found);
  }
  SSL_SESSION_free(dropped);
}

std::size_t UpstreamSessions::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

bool TlsInterceptor::built_from(const TlsSettings& settings) const {
  return settings.ca_dir == settings_.ca_dir && settings.upstream_ca == settings_.upstream_ca &&
         settings.leaf_cache_size == settings_.leaf_cache_size && settings.pinned_ttl == settings_.pinned_ttl;
}

bool TlsInterceptor::prepare_server(SSL* ssl, const ForgedLeaf& leaf) {
  return SSL_use_cert_and_key(ssl, leaf.certificate(), leaf.key(), nullptr, 1) == 1;
}

bool TlsInterceptor::prepare_client(SSL* ssl, const tcp::endpoint& destination, const LeafName& name,
                                    const std::vector<std::string>& client_alpn) {
  std::basic_string<unsigned char> alpn;
  for (const auto& protocol : client_alpn) {
    if (protocol == "h2") alpn.append(h2_alpn, sizeof h2_alpn);
    if (protocol == "http/1.1") alpn.append(http11_alpn, sizeof http11_alpn);
  }
  // A phone that offered neither (or no ALPN at all) gets HTTP/1.1 as before: the context's list.
  if (!alpn.empty() && SSL_set_alpn_protos(ssl, alpn.data(), static_cast<unsigned>(alpn.size())) != 0) return false;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (name.kind == LeafName::Kind::ip) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, name.text.c_str()) != 1) return false;
  } else {
    // A wildcard stands for one whole label, as browsers read it ("*.example.com", never "a*.example.com").
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set_tlsext_host_name(ssl, name.text.c_str()) != 1 ||
        X509_VERIFY_PARAM_set1_host(param, name.text.c_str(), name.text.size()) != 1)
      return false;
  }
  auto key = std::make_unique<std::string>(session_key(destination, name));
  if (SSL_SESSION* session = sessions_.find(*key)) {
    // Each connection gets its own copy: OpenSSL marks the session object of a connection that
    // ends without close_notify unresumable, and the cached one must outlive such endings.
    SSL_SESSION* copy = SSL_SESSION_dup(session);
    SSL_SESSION_free(session);
    if (copy != nullptr) {
      SSL_set_session(ssl, copy);  // takes its own reference
      SSL_SESSION_free(copy);
    }
  }
  if (SSL_set_ex_data(ssl, session_key_index(), key.get()) != 1) return false;
  key.release();  // freed with the SSL
  return true;
}

void TlsInterceptor::forget_session(SSL* ssl) {
  if (const auto* key = static_cast<const std::string*>(SSL_get_ex_data(ssl, session_key_index())))
    sessions_.forget(*key);
}

ClientTlsFailure classify_client_failure(const error_code& ec) {
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated || ec == asio::error::connection_reset ||
      ec == asio::error::broken_pipe)
    return ClientTlsFailure::rejected_certificate;
  if (ec.category() == asio::error::get_ssl_category()) {
    const auto code = static_cast<unsigned long>(ec.value());
    if (ERR_GET_LIB(code) != ERR_LIB_SSL) return ClientTlsFailure::other;
    switch (ERR_GET_REASON(code)) {
      case SSL_R_UNEXPECTED_EOF_WHILE_READING:
      case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
      case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
      case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
      case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
      case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
      case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
      case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
        return ClientTlsFailure::rejected_certificate;
      default:
        return ClientTlsFailure::other;
    }
  }
  return ClientTlsFailure::other;
}

std::string tls_version_name(SSL* ssl) {
  if (!SSL_is_init_finished(ssl)) return "";
  return SSL_get_version(ssl);
}

std::string upstream_verify_error(SSL* ssl) {
  const long result = SSL_get_verify_result(ssl);
  if (result == X509_V_OK) return "";
  return X509_verify_cert_error_string(result);
}

std::string selected_alpn(SSL* ssl) {
  const unsigned char* alpn = nullptr;
  unsigned length = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &length);
  return std::string(reinterpret_cast<const char*>(alpn), length);
}

void TlsInterceptor::offer_client_alpn(SSL* ssl, std::string_view origin_choice) {
  SSL_set_ex_data(ssl, alpn_choice_index(),
                  const_cast<unsigned char*>(origin_choice == "h2" ? h2_alpn : http11_alpn));
}

}  // namespace leakguard
