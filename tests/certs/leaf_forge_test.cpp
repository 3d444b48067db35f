#include "certs/leaf_forge.hpp"

#include <doctest/doctest.h>

#include <set>
#include <thread>
#include <vector>

#include <openssl/err.h>

#include "tests/certs/test_support.hpp"

using namespace leakguard;
using leakguard::test::TempDir;

namespace {

constexpr std::time_t day = 24 * 3600;

// Verifies the leaf the way a phone would: chain to the CA as the only anchor, TLS server purpose,
// and the host name or IP address checked against the SAN. Returns an X509_V_* code.
int verify_leaf(const CertificateAuthority& ca, const ForgedLeaf& leaf, const std::string& name, bool is_ip,
                std::time_t at = 0) {
  ossl::X509StorePtr store(X509_STORE_new());
  ossl::X509StoreCtxPtr context(X509_STORE_CTX_new());
  REQUIRE(store);
  REQUIRE(context);
  REQUIRE(X509_STORE_add_cert(store.get(), ca.certificate()) == 1);
  REQUIRE(X509_STORE_CTX_init(context.get(), store.get(), leaf.certificate(), leaf.chain()) == 1);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(context.get());
  REQUIRE(X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER) == 1);
  if (is_ip)
    REQUIRE(X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) == 1);
  else
    REQUIRE(X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size()) == 1);
  if (at != 0) X509_VERIFY_PARAM_set_time(param, at);
  const int ok = X509_verify_cert(context.get());
  const int error = X509_STORE_CTX_get_error(context.get());
  ERR_clear_error();
  return ok == 1 ? X509_V_OK : (error == X509_V_OK ? -1 : error);
}

std::vector<std::string> san_entries(X509* cert) {
  std::vector<std::string> out;
  ossl::GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      const ASN1_STRING* text = name->d.dNSName;
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                                         static_cast<std::size_t>(ASN1_STRING_length(text))));
    } else if (name->type == GEN_IPADD) {
      out.push_back("IP:" + std::to_string(ASN1_STRING_length(name->d.iPAddress)) + " bytes");
    }
  }
  return out;
}

std::string common_name(X509* cert) {
  char text[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, text, sizeof text);
  return text;
}

struct Fixture {
  TempDir temp;
  CertificateAuthority ca = CertificateAuthority::create({.dir = temp.path()});
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "a forged leaf verifies against the CA for its host name") {
  LeafForge forge(ca, 16);
  const auto leaf = forge.forge("zzhc.example.cn");
  REQUIRE(leaf);
  CHECK(leaf->name() == "zzhc.example.cn");
  CHECK(verify_leaf(ca, *leaf, "zzhc.example.cn", false) == X509_V_OK);
  CHECK(verify_leaf(ca, *leaf, "other.example.cn", false) == X509_V_ERR_HOSTNAME_MISMATCH);
  CHECK(san_entries(leaf->certificate()) == std::vector<std::string>{"DNS:zzhc.example.cn"});
  CHECK(common_name(leaf->certificate()) == "zzhc.example.cn");

  X509* cert = leaf->certificate();
  CHECK(X509_get_version(cert) == X509_VERSION_3);
  CHECK(X509_check_ca(cert) == 0);
  CHECK((X509_get_extended_key_usage(cert) & XKU_SSL_SERVER) != 0);
  CHECK(X509_get_key_usage(cert) == KU_DIGITAL_SIGNATURE);
  REQUIRE(X509_get0_authority_key_id(cert) != nullptr);
  CHECK(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(cert), X509_get0_subject_key_id(ca.certificate())) == 0);
  CHECK(X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(ca.certificate())) == 0);
  CHECK(EVP_PKEY_is_a(leaf->key(), "EC"));
  CHECK(EVP_PKEY_get_bits(leaf->key()) == 256);
  CHECK(X509_check_private_key(cert, leaf->key()) == 1);
  REQUIRE(sk_X509_num(leaf->chain()) == 1);
  CHECK(X509_cmp(sk_X509_value(leaf->chain(), 0), ca.certificate()) == 0);
}

TEST_CASE_FIXTURE(Fixture, "names are lower-cased, a trailing dot dropped, and they share one cache entry") {
  LeafForge forge(ca, 16);
  bool hit = true;
  const auto a = forge.forge("Api.Example.COM.", &hit);
  CHECK_FALSE(hit);
  const auto b = forge.forge("api.example.com", &hit);
  CHECK(hit);
  REQUIRE(a);
  CHECK(a == b);
  CHECK(a->name() == "api.example.com");
  CHECK(verify_leaf(ca, *a, "api.example.com", false) == X509_V_OK);
}

TEST_CASE_FIXTURE(Fixture, "IPv4 and IPv6 literals get an iPAddress SAN") {
  LeafForge forge(ca, 16);
  const auto v4 = forge.forge("203.0.113.7");
  REQUIRE(v4);
  CHECK(san_entries(v4->certificate()) == std::vector<std::string>{"IP:4 bytes"});
  CHECK(verify_leaf(ca, *v4, "203.0.113.7", true) == X509_V_OK);
  CHECK(verify_leaf(ca, *v4, "203.0.113.8", true) == X509_V_ERR_IP_ADDRESS_MISMATCH);

  const auto v6 = forge.forge("[2001:DB8::1]");
  REQUIRE(v6);
  CHECK(v6->name() == "2001:db8::1");
  CHECK(san_entries(v6->certificate()) == std::vector<std::string>{"IP:16 bytes"});
  CHECK(verify_leaf(ca, *v6, "2001:db8::1", true) == X509_V_OK);
  CHECK(forge.forge("2001:db8:0::1") == v6);
}

TEST_CASE_FIXTURE(Fixture, "validity: at most 30 days, never before the CA's notBefore") {
  LeafForge forge(ca, 16);
  const auto leaf = forge.forge("example.com");
  REQUIRE(leaf);
  CHECK(leaf->not_before() >= ca.not_before());
  CHECK(leaf->not_after() - leaf->not_before() <= 30 * day);
  // A fresh CA started an hour ago, so the leaf starts with it rather than a day back.
  CHECK(leaf->not_before() == ca.not_before());
  int days = 0, seconds = 0;
  REQUIRE(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(leaf->certificate()),
                         X509_get0_notAfter(leaf->certificate())) == 1);
  CHECK(days == 30);
  CHECK(seconds == 0);
  CHECK(ASN1_TIME_compare(X509_get0_notBefore(leaf->certificate()), X509_get0_notBefore(ca.certificate())) >= 0);

  // A year later the leaf is backdated one day, not to the CA's start.
  const std::time_t later = std::time(nullptr) + 365 * day;
  LeafForge later_forge(ca, 16, [later] { return later; });
  const auto late_leaf = later_forge.forge("example.com");
  REQUIRE(late_leaf);
  CHECK(late_leaf->not_before() == later - day);
  CHECK(late_leaf->not_after() == later + 29 * day);
  CHECK(verify_leaf(ca, *late_leaf, "example.com", false, later) == X509_V_OK);
}

TEST_CASE_FIXTURE(Fixture, "near the CA's end the leaf ends with it; after it nothing is forged") {
  const std::time_t near_end = ca.not_after() - 5 * day;
  LeafForge forge(ca, 16, [near_end] { return near_end; });
  const auto leaf = forge.forge("example.com");
  REQUIRE(leaf);
  CHECK(leaf->not_after() == ca.not_after());
  CHECK(verify_leaf(ca, *leaf, "example.com", false, near_end) == X509_V_OK);

  const std::time_t after_end = ca.not_after() + 1;
  LeafForge expired(ca, 16, [after_end] { return after_end; });
  CHECK(expired.forge("example.com") == nullptr);
  CHECK(expired.stats().failures == 1);
}

TEST_CASE_FIXTURE(Fixture, "serials are random and leaves share the one leaf key") {
  LeafForge forge(ca, 0);  // no cache: every call forges
  std::set<std::string> serials;
  EVP_PKEY* key = nullptr;
  for (int i = 0; i < 20; ++i) {
    const auto leaf = forge.forge("same.example.com");
    REQUIRE(leaf);
    ossl::BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf->certificate()), nullptr));
    REQUIRE(serial);
    CHECK(BN_num_bits(serial.get()) == 128);
    char* hex = BN_bn2hex(serial.get());
    serials.insert(hex);
    OPENSSL_free(hex);
    if (key == nullptr) key = leaf->key();
    CHECK(leaf->key() == key);
  }
  CHECK(serials.size() == 20);
  CHECK(forge.stats().misses == 20);
  CHECK(forge.stats().size == 0);
}

TEST_CASE_FIXTURE(Fixture, "the cache hits on a second forge and evicts the least recently used") {
  LeafForge forge(ca, 2);
  const auto a = forge.forge("a.example");
  const auto b = forge.forge("b.example");
  CHECK(forge.stats().misses == 2);
  CHECK(forge.forge("a.example") == a);  // a is now the most recent
  CHECK(forge.stats().hits == 1);
  const auto c = forge.forge("c.example");  // evicts b
  auto stats = forge.stats();
  CHECK(stats.evictions == 1);
  CHECK(stats.size == 2);
  CHECK(stats.capacity == 2);
  CHECK(forge.forge("a.example") == a);
  CHECK(forge.forge("c.example") == c);
  const auto b2 = forge.forge("b.example");  // forged again, evicting a
  REQUIRE(b2);
  CHECK(b2 != b);
  stats = forge.stats();
  CHECK(stats.hits == 3);
  CHECK(stats.misses == 4);
  CHECK(stats.evictions == 2);
  CHECK(forge.forge("a.example") != a);
}

TEST_CASE_FIXTURE(Fixture, "a cached leaf close to expiry is replaced") {
  std::time_t now = std::time(nullptr);
  LeafForge forge(ca, 16, [&now] { return now; });
  const auto first = forge.forge("example.com");
  REQUIRE(first);
  now = first->refresh_at() - 1;
  CHECK(forge.forge("example.com") == first);
  now = first->refresh_at();
  const auto second = forge.forge("example.com");
  REQUIRE(second);
  CHECK(second != first);
  CHECK(second->not_after() > first->not_after());
  CHECK(forge.stats().size == 1);
}

TEST_CASE("names a certificate cannot carry are refused") {
  for (const char* bad : {"", "*.example.com", "a.*.example.com", "*", "bad name.com", "a..b", ".example.com",
                          "example.com..", "exa\xc3\xa9mple.com", "a,DNS:bank.example", "a/b", "[::1", "ex\nample"}) {
    CAPTURE(bad);
    CHECK_FALSE(LeafForge::canonical_name(bad));
  }
  CHECK_FALSE(LeafForge::canonical_name(std::string(64, 'a') + ".com"));
  CHECK_FALSE(LeafForge::canonical_name(std::string("a\0b", 3)));
  std::string too_long;
  while (too_long.size() < 254) too_long += "abcdefghi.";
  CHECK_FALSE(LeafForge::canonical_name(too_long));

  for (const char* good : {"example.com", "_dmarc.example.com", "xn--mnchen-3ya.de", "localhost", "a-b.c0"}) {
    CAPTURE(good);
    CHECK(LeafForge::canonical_name(good));
  }
  CHECK(LeafForge::canonical_name(std::string(63, 'a') + ".com"));
  const auto ip = LeafForge::canonical_name("fe80::1%eth0");
  REQUIRE(ip);
  CHECK(ip->kind == LeafName::Kind::ip);
  CHECK(ip->text == "fe80::1");
}

TEST_CASE_FIXTURE(Fixture, "forging a refused name returns null and counts a failure") {
  LeafForge forge(ca, 16);
  CHECK(forge.forge("*.example.com") == nullptr);
  CHECK(forge.forge("") == nullptr);
  const auto stats = forge.stats();
  CHECK(stats.failures == 2);
  CHECK(stats.misses == 0);
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE_FIXTURE(Fixture, "a long host keeps the whole name in the SAN and a truncated CN") {
  LeafForge forge(ca, 16);
  std::string host;
  for (int i = 0; i < 8; ++i) host += "label" + std::to_string(i) + "-0123456789.";
  host += "example.com";
  REQUIRE(host.size() > 64);
  const auto leaf = forge.forge(host);
  REQUIRE(leaf);
  CHECK(common_name(leaf->certificate()) == host.substr(0, 64));
  CHECK(san_entries(leaf->certificate()) == std::vector<std::string>{"DNS:" + host});
  CHECK(verify_leaf(ca, *leaf, host, false) == X509_V_OK);
}

TEST_CASE_FIXTURE(Fixture, "concurrent forging is safe and keeps the cache bounded") {
  LeafForge forge(ca, 8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&forge, t] {
      for (int i = 0; i < 200; ++i) {
        const auto leaf = forge.forge("host" + std::to_string((i * 7 + t) % 12) + ".example");
        CHECK(leaf != nullptr);
      }
    });
  for (auto& thread : threads) thread.join();
  const auto stats = forge.stats();
  CHECK(stats.hits + stats.misses == 800);
  CHECK(stats.size <= 8);
  CHECK(stats.failures == 0);
}

namespace {

// Drives a TLS handshake between two in-memory SSL objects; true when both sides completed.
bool handshake(SSL* client, SSL* server) {
  for (int round = 0; round < 100; ++round) {
    const int client_result = SSL_do_handshake(client);
    const int server_result = SSL_do_handshake(server);
    if (client_result == 1 && server_result == 1) return true;
    for (const auto& [ssl, result] : {std::pair{client, client_result}, std::pair{server, server_result}}) {
      if (result == 1) continue;
      const int error = SSL_get_error(ssl, result);
      if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) return false;
    }
  }
  return false;
}

}  // namespace

TEST_CASE_FIXTURE(Fixture, "use_on serves the leaf in a real handshake that a verifying client accepts") {
  LeafForge forge(ca, 16);
  const auto leaf = forge.forge("zzhc.example.cn");
  REQUIRE(leaf);

  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    CAPTURE(version);
    ossl::SslCtxPtr server_context(SSL_CTX_new(TLS_server_method()));
    ossl::SslCtxPtr client_context(SSL_CTX_new(TLS_client_method()));
    REQUIRE(server_context);
    REQUIRE(client_context);
    SSL_CTX_set_min_proto_version(client_context.get(), version);
    SSL_CTX_set_max_proto_version(client_context.get(), version);
    REQUIRE(X509_STORE_add_cert(SSL_CTX_get_cert_store(client_context.get()), ca.certificate()) == 1);
    SSL_CTX_set_verify(client_context.get(), SSL_VERIFY_PEER, nullptr);

    ossl::SslPtr server(SSL_new(server_context.get()));
    ossl::SslPtr client(SSL_new(client_context.get()));
    REQUIRE(leaf->use_on(server.get()));
    REQUIRE(SSL_set_tlsext_host_name(client.get(), "zzhc.example.cn") == 1);
    REQUIRE(SSL_set1_host(client.get(), "zzhc.example.cn") == 1);
    BIO* client_bio = nullptr;
    BIO* server_bio = nullptr;
    REQUIRE(BIO_new_bio_pair(&client_bio, 0, &server_bio, 0) == 1);
    SSL_set_bio(client.get(), client_bio, client_bio);
    SSL_set_bio(server.get(), server_bio, server_bio);
    SSL_set_connect_state(client.get());
    SSL_set_accept_state(server.get());

    CHECK(handshake(client.get(), server.get()));
    CHECK(SSL_get_verify_result(client.get()) == X509_V_OK);
    CHECK(SSL_version(client.get()) == version);
    ERR_clear_error();
  }
}
