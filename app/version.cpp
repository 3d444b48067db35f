// `leakguard --version`: the version and the libraries it was built with. The version comes from
// CMake's project(VERSION) (LEAKGUARD_VERSION, set in app/CMakeLists.txt), the one place the
// Debian package checks its own version against (debian/rules).
#include <hs/hs.h>
#include <llhttp.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include <boost/version.hpp>
#include <cstdio>

#include "app/commands.hpp"

#ifndef LEAKGUARD_VERSION
#error "LEAKGUARD_VERSION must come from CMake's project(VERSION)"
#endif
#ifndef LEAKGUARD_REGEX_ENGINE
#error "LEAKGUARD_REGEX_ENGINE (Hyperscan or Vectorscan) must come from CMake"
#endif

namespace leakguard {

int version_command() {
  // Build-time versions from the headers; OpenSSL and Hyperscan/Vectorscan are shared libraries,
  // so the ones loaded now are printed too (a security update changes them without a rebuild).
  std::printf("leakguard %s\n", LEAKGUARD_VERSION);
  std::printf("OpenSSL %s (running %s)\n", OPENSSL_FULL_VERSION_STR, OpenSSL_version(OPENSSL_FULL_VERSION_STRING));
  std::printf("Boost %d.%d.%d\n", BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100);
  std::printf("%s %d.%d.%d (running %s)\n", LEAKGUARD_REGEX_ENGINE, HS_MAJOR, HS_MINOR, HS_PATCH, hs_version());
  std::printf("llhttp %d.%d.%d\n", LLHTTP_VERSION_MAJOR, LLHTTP_VERSION_MINOR, LLHTTP_VERSION_PATCH);
  return 0;
}

}  // namespace leakguard
