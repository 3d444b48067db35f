// Owning handles for OpenSSL objects, shared by certs/ and the proxy: design.md wants every OpenSSL
// object in a std::unique_ptr with a deleter, so an early return or an exception can never leak one.
// Also the one place that turns OpenSSL's thread-local error queue into a readable message.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace leakguard::ossl {

// A stateless deleter calling OpenSSL's own free function, so the handles stay pointer-sized.
template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* object) const noexcept {
    Free(object);
  }
};

using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, Deleter<GENERAL_NAME_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, Deleter<ASN1_INTEGER_free>>;
using Asn1OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, Deleter<ASN1_OCTET_STRING_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Deleter<SSL_free>>;

// STACK_OF(X509) is a macro-generated type whose free function must also drop each certificate.
void free_x509_stack(STACK_OF(X509) * stack) noexcept;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), Deleter<free_x509_stack>>;

// New owning references to shared objects (OpenSSL reference counts these).
X509Ptr share(X509* certificate);
EvpPkeyPtr share(EVP_PKEY* key);

// Drains this thread's OpenSSL error queue into one line ("what: reason; reason"), so a failure
// reports OpenSSL's reason and a later, unrelated failure does not inherit stale entries.
std::string error_message(std::string_view what);

// Clears the error queue without reporting (after an expected failure).
void clear_errors() noexcept;

}  // namespace leakguard::ossl
