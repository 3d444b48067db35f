// The severity scale as a table: every identifier kind of the contract, both sides of each factor,
// and the two ends the issue names (hardware id in plaintext abroad; advertising id over TLS).
#include <doctest/doctest.h>

#include "reports/severity.hpp"

using namespace leakguard::reports;

TEST_CASE("identifier classes follow the contract's kinds") {
  for (const char* kind : {"imei", "imsi", "iccid", "serial", "mac"})
    CHECK_MESSAGE(classify_identifier(kind) == IdentifierClass::hardware, kind);
  for (const char* kind : {"gaid", "android_id"}) CHECK_MESSAGE(classify_identifier(kind) == IdentifierClass::resettable, kind);
  for (const char* kind : {"msisdn", "email", "location", "cell"})
    CHECK_MESSAGE(classify_identifier(kind) == IdentifierClass::personal, kind);
  // A kind added later is not assumed to be resettable.
  CHECK(classify_identifier("oaid") == IdentifierClass::personal);
}

TEST_CASE("severity table") {
  struct Case {
    const char* identifier;
    const char* transport;
    const char* country;
    const char* home;
    int expected;
  };
  const Case cases[] = {
      // The worst: a permanent hardware id in plaintext to another country.
      {"imei", "http", "CN", "NO", 5},
      {"imsi", "tcp", "CN", "NO", 5},
      {"iccid", "http", "US", "NO", 5},
      {"serial", "http", "", "NO", 5},  // unknown country counts as abroad
      {"mac", "http", "NO", "", 5},     // no home country: everything is abroad
      {"imei", "http", "NO", "NO", 4},
      {"imei", "http", "no", "NO", 4},  // country codes compare case-insensitively
      {"imei", "https", "CN", "NO", 4},
      {"imei", "tls-passthrough", "CN", "NO", 4},
      {"imei", "https", "NO", "NO", 3},
      {"imei", "mystery", "NO", "NO", 4},  // an unknown transport counts as plaintext
      {"msisdn", "http", "CN", "NO", 4},
      {"location", "https", "NO", "NO", 2},
      {"cell", "tcp", "NO", "NO", 3},
      {"gaid", "http", "CN", "NO", 3},
      {"gaid", "https", "CN", "NO", 2},
      // The least: a resettable advertising id over TLS at home.
      {"gaid", "https", "NO", "NO", 1},
      {"android_id", "tls-passthrough", "NO", "NO", 1},
  };
  for (const auto& c : cases) {
    CAPTURE(c.identifier);
    CAPTURE(c.transport);
    CAPTURE(c.country);
    CAPTURE(c.home);
    CHECK(severity(c.identifier, c.transport, c.country, c.home) == c.expected);
  }
}

TEST_CASE("the scale spans 1 to 5 and is monotonic in each factor") {
  const auto scale = severity_scale();
  CHECK(scale.size() == 12);
  for (const auto& row : scale) {
    CHECK(row.severity >= min_severity);
    CHECK(row.severity <= max_severity);
    for (const auto& other : scale) {
      if (other.identifier_class != row.identifier_class) continue;
      if (other.plaintext == row.plaintext && row.abroad && !other.abroad) CHECK(row.severity > other.severity);
      if (other.abroad == row.abroad && row.plaintext && !other.plaintext) CHECK(row.severity > other.severity);
    }
  }
  CHECK(severity_label(5) == "critical");
  CHECK(severity_label(1) == "info");
}
