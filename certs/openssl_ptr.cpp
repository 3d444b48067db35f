#include "certs/openssl_ptr.hpp"

#include <openssl/err.h>

namespace leakguard::ossl {

void free_x509_stack(STACK_OF(X509) * stack) noexcept { sk_X509_pop_free(stack, X509_free); }

X509Ptr share(X509* certificate) {
  if (certificate == nullptr || X509_up_ref(certificate) != 1) return nullptr;
  return X509Ptr(certificate);
}

EvpPkeyPtr share(EVP_PKEY* key) {
  if (key == nullptr || EVP_PKEY_up_ref(key) != 1) return nullptr;
  return EvpPkeyPtr(key);
}

std::string error_message(std::string_view what) {
  std::string message(what);
  bool first = true;
  while (const unsigned long code = ERR_get_error()) {
    char reason[256];
    ERR_error_string_n(code, reason, sizeof reason);
    message += first ? ": " : "; ";
    message += reason;
    first = false;
  }
  return message;
}

void clear_errors() noexcept { ERR_clear_error(); }

}  // namespace leakguard::ossl
