// Host globs for `tls.intercept` / `tls.passthrough` and the one decision built on them: does this
// connection get a forged certificate? Kept free of I/O and OpenSSL so rules and tests can share it.
#pragma once

#include <string>
#include <string_view>

#include "config/config.hpp"

namespace leakguard {

// Case-insensitive glob over the whole host name, like a shell pattern: '*' matches any run of
// characters, dots included, and nothing else is special. So "*.example.com" matches a.example.com
// and a.b.example.com but not example.com itself (list both when both are meant); "*" matches every
// host; an IP address is matched as its text ("10.42.0.*"). One trailing dot on either side is
// ignored (an FQDN "example.com." is example.com). Linear in practice, O(n*m) worst case.
bool host_glob_match(std::string_view pattern, std::string_view host);

// Lower case, without a trailing dot: the form names are compared and cached in.
std::string normalize_host(std::string_view host);

// Whether a connection to `host` (the SNI, or the destination IP's text when there is none) should
// be intercepted. A passthrough glob always wins; then intercept none / all / hosts decides.
bool should_intercept(const TlsSettings& settings, std::string_view host);

}  // namespace leakguard
