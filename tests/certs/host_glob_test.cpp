#include "certs/host_glob.hpp"

#include <doctest/doctest.h>

using namespace leakguard;

TEST_CASE("host globs match case-insensitively over the whole name") {
  struct Row {
    const char* pattern;
    const char* host;
    bool matches;
  };
  const Row table[] = {
      {"example.com", "example.com", true},
      {"example.com", "EXAMPLE.Com", true},
      {"Example.COM", "example.com", true},
      {"example.com", "www.example.com", false},
      {"example.com", "example.co", false},
      {"example.com", "example.com.evil", false},
      {"*.example.com", "a.example.com", true},
      {"*.example.com", "a.b.example.com", true},  // '*' crosses dots, like a shell pattern
      {"*.example.com", "example.com", false},
      {"*.example.com", "badexample.com", false},
      {"*.example.com", "a.example.com.evil.net", false},
      {"*example.com", "badexample.com", true},
      {"*", "anything.at.all", true},
      {"*", "", true},
      {"", "", true},
      {"", "a", false},
      {"api.*.example.com", "api.eu.example.com", true},
      {"api.*.example.com", "api.example.com", false},
      {"*.vnet.cn", "zzhc.vnet.cn", true},
      {"zzhc.*", "zzhc.vnet.cn", true},
      {"*.*", "localhost", false},
      {"**.example.com", "a.example.com", true},
      {"a*b*c", "aXXbYYc", true},
      {"a*b*c", "aXXbYY", false},
      {"a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
      {"10.42.0.*", "10.42.0.11", true},
      {"10.42.0.*", "10.42.1.11", false},
      {"example.com.", "example.com", true},  // one trailing dot (FQDN) is ignored on either side
      {"example.com", "example.com.", true},
      {"example.com", "example.com..", false},
  };
  for (const auto& row : table) {
    CAPTURE(row.pattern);
    CAPTURE(row.host);
    CHECK(host_glob_match(row.pattern, row.host) == row.matches);
  }
}

TEST_CASE("normalize_host lower-cases and drops one trailing dot") {
  CHECK(normalize_host("WWW.Example.COM.") == "www.example.com");
  CHECK(normalize_host("example.com") == "example.com");
  CHECK(normalize_host("") == "");
}

TEST_CASE("should_intercept: none, all, host lists, and passthrough wins") {
  TlsSettings settings;
  CHECK_FALSE(should_intercept(settings, "example.com"));  // the default intercepts nothing

  settings.intercept = TlsSettings::Intercept::all;
  CHECK(should_intercept(settings, "example.com"));
  CHECK(should_intercept(settings, "203.0.113.7"));
  settings.passthrough = {"*.example-bank.com", "example-bank.com"};
  CHECK(should_intercept(settings, "example.com"));
  CHECK_FALSE(should_intercept(settings, "www.Example-Bank.com"));
  CHECK_FALSE(should_intercept(settings, "example-bank.com"));

  settings.intercept = TlsSettings::Intercept::hosts;
  settings.intercept_hosts = {"*.vnet.cn", "*.example-bank.com"};
  CHECK(should_intercept(settings, "zzhc.vnet.cn"));
  CHECK_FALSE(should_intercept(settings, "example.com"));
  CHECK_FALSE(should_intercept(settings, "login.example-bank.com"));  // listed in both: passthrough wins

  settings.intercept = TlsSettings::Intercept::none;
  CHECK_FALSE(should_intercept(settings, "zzhc.vnet.cn"));
}
