// `leakguard ca init [--dir DIR] [--rsa] [--force]`: creates the interception CA (design.md, issue 5)
// and tells the user what to copy to the phones. Exit 0 created, 1 failed (an existing key without
// --force included), 2 usage.
#include <cstdio>
#include <string>
#include <string_view>

#include "app/commands.hpp"
#include "certs/certificate_authority.hpp"
#include "certs/x509_util.hpp"

namespace leakguard {

namespace {

constexpr const char* ca_usage =
    "usage: leakguard ca init [--dir DIR] [--rsa] [--force]\n"
    "\n"
    "Creates the TLS interception CA in DIR (default: ./certs): ca.key (mode 0600), ca.pem, ca.der\n"
    "and <hash>.0 for the Android system store. EC P-256 unless --rsa (RSA-2048).\n"
    "An existing ca.key is only replaced with --force.\n";

int usage_error(std::string_view message) {
  std::fprintf(stderr, "leakguard ca: %.*s\n\n%s", static_cast<int>(message.size()), message.data(), ca_usage);
  return 2;
}

void print_created(const CertificateAuthority& ca) {
  const CaPaths& paths = ca.paths();
  std::printf("created the leakguard CA in %s\n", paths.dir.c_str());
  std::printf("  private key   %s (mode 0600: keep it secret, it can impersonate any site)\n", paths.key.c_str());
  std::printf("  certificate   %s (PEM)\n", paths.cert_pem.c_str());
  std::printf("  certificate   %s (DER)\n", paths.cert_der.c_str());
  std::printf("  android file  %s (system store name)\n", ca.android_path().c_str());
  std::printf("  subject       %s\n", ca.subject().c_str());
  std::printf("  key           %s\n", ca.key_description().c_str());
  std::printf("  valid         %s to %s\n", x509_util::format_utc(ca.not_before()).c_str(),
              x509_util::format_utc(ca.not_after()).c_str());
  std::printf("  sha256        %s\n", ca.sha256_fingerprint().c_str());
  std::printf(
      "\nAndroid 7+: apps ignore user CAs; install %s as a system CA on a rooted or emulator image\n"
      "(/system/etc/security/cacerts/, mode 644). iOS: install %s as a profile, then enable it under\n"
      "Settings > General > About > Certificate Trust Settings (details: certs/README.md in the sources).\n",
      ca.android_file_name().c_str(), paths.cert_der.filename().c_str());
}

}  // namespace

int ca_command(Arguments args) {
  if (args.empty()) return usage_error("missing subcommand");
  if (args[0] == "-h" || args[0] == "--help") {
    std::fputs(ca_usage, stdout);
    return 0;
  }
  if (args[0] != "init") return usage_error("unknown subcommand '" + std::string(args[0]) + "'");

  CaCreateOptions options;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(ca_usage, stdout);
      return 0;
    } else if (arg == "--rsa") {
      options.key_type = CaKeyType::rsa_2048;
    } else if (arg == "--force") {
      options.force = true;
    } else if (arg == "--dir") {
      if (i + 1 >= args.size() || args[i + 1].empty()) return usage_error("--dir needs a directory");
      options.dir = std::string(args[++i]);
    } else if (arg.starts_with("--dir=") && arg.size() > 6) {
      options.dir = std::string(arg.substr(6));
    } else {
      return usage_error("unknown argument '" + std::string(arg) + "'");
    }
  }

  try {
    print_created(CertificateAuthority::create(options));
    return 0;
  } catch (const CaError& error) {
    std::fprintf(stderr, "leakguard ca init: %s\n", error.what());
    return 1;
  } catch (const std::exception& error) {  // filesystem errors and the like
    std::fprintf(stderr, "leakguard ca init: %s\n", error.what());
    return 1;
  }
}

}  // namespace leakguard
