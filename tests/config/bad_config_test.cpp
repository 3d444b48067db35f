// Every bad fixture in tests/config/data/bad/ must fail at an exact line and column with a message
// that says what is wrong: check-config's whole value is in pointing at the right place.
#include <doctest/doctest.h>

#include <filesystem>
#include <set>
#include <string>

#include "config/config.hpp"

namespace {

using namespace leakguard;

struct BadFile {
  const char* file;
  int line;
  int column;
  const char* message;  // a fragment that must appear in the message
};

// Columns are 1-based; a quoted value's column is its opening quote.
constexpr BadFile bad_files[] = {
    // yaml-cpp notices the unclosed list where the next key starts.
    {"syntax_error.yaml", 3, 1, "YAML syntax error: end of sequence flow not found"},
    {"unknown_top_key.yaml", 3, 1, "unknown key 'lisen' (did you mean 'listen'?); allowed keys: listen, transparent, clients,"},
    {"unknown_tls_key.yaml", 4, 3, "tls: unknown key 'verify_upstream'; allowed keys: intercept, passthrough"},
    {"duplicate_key.yaml", 4, 1, "duplicate key 'mode' (first at line 2)"},
    {"merge_key.yaml", 3, 3, "events: unknown key '<<' (YAML merge keys are not supported)"},
    {"root_is_list.yaml", 2, 1, "expected a mapping of configuration keys"},
    {"two_documents.yaml", 4, 1, "a second YAML document"},
    {"listen_port_too_big.yaml", 4, 5, "listen[1]: bad port '65536': expected a number from 0 to 65535"},
    {"listen_port_not_a_number.yaml", 2, 10, "listen[0]: bad port '80a'"},
    {"listen_port_leading_zero.yaml", 2, 10, "bad port '08080'"},
    {"listen_port_missing.yaml", 2, 10, "the port is missing"},
    {"listen_ipv6_without_brackets.yaml", 2, 10, "write an IPv6 address in brackets, like [::1]:8080"},
    {"listen_host_name.yaml", 3, 5, "'localhost' is not a literal IPv4 address"},
    {"listen_duplicate.yaml", 4, 5, "duplicate listen address 127.0.0.1:8080 (first at line 3)"},
    {"listen_empty.yaml", 2, 9, "listen: needs at least one address"},
    {"listen_mapping.yaml", 3, 3, "listen: expected a value or a list of values, got a mapping"},
    {"clients_bad_cidr.yaml", 3, 27, "clients.allow[1]: bad network '10.43.0.0/33'"},
    {"clients_empty.yaml", 3, 10, "clients.allow: an empty list would refuse every client"},
    {"mode_bad.yaml", 2, 7, "mode: expected one of allow, log, block, redact, got 'deny'"},
    {"workers_negative.yaml", 2, 10, "workers: out of range: expected an integer from 0 to 1024, got -1"},
    {"workers_float.yaml", 2, 10, "workers: expected an integer from 0 to 1024, got '2.5'"},
    {"limits_zero_timeout.yaml", 3, 23, "limits.connect_timeout_ms: out of range: expected an integer from 1 to"},
    {"limits_list.yaml", 3, 20, "limits.max_connections: expected an integer, got a list"},
    {"home_country_bad.yaml", 2, 15, "home_country: expected a two-letter country code"},
    {"admin_missing_listen.yaml", 2, 8, "admin: missing key 'listen'"},
    {"tls_intercept_bad.yaml", 3, 14, "tls.intercept: expected none, all or a list of host globs, got 'some'"},
    {"tls_glob_url.yaml", 5, 7, "tls.passthrough[1]: expected a host name or glob like *.example.com, not a URL"},
    {"device_missing_name.yaml", 3, 5, "devices[0]: missing key 'name'"},
    {"device_duplicate_name.yaml", 5, 11, "duplicate device name 'lab-phone' (first at line 3)"},
    {"device_boolean_name.yaml", 3, 11, "'yes' reads as a YAML boolean here; quote it"},
    {"device_two_matches.yaml", 6, 7, "use only one of ip, cidr, mac (found 'ip' and 'mac')"},
    {"device_empty_match.yaml", 4, 12, "devices[0].match: needs one of ip, cidr, mac"},
    {"device_bad_mac.yaml", 4, 19, "devices[0].match.mac: bad MAC address: expected six hex pairs"},
    {"device_network_under_ip.yaml", 4, 18, "expected one IP address, got the network '10.42.0.0/24' (use 'cidr'"},
    {"identifier_unknown_kind.yaml", 6, 7,
     "unknown identifier kind 'imeii'; valid kinds: imei, imsi, iccid, msisdn, serial, mac, android_id, gaid, email, "
     "location, cell"},
    {"identifier_bad_imei.yaml", 5, 33, "devices[0].identifiers.imei[1]: expected 14 to 16 digits"},
    {"identifier_mapping.yaml", 5, 13, "identifiers.imsi: expected a value or a list of values, got a mapping"},
    {"identifier_nested_list.yaml", 6, 11, "identifiers.imei[0]: expected a string, got a list"},
    {"identifier_boolean.yaml", 5, 15, "identifiers.serial: 'off' reads as a YAML boolean"},
    {"identifier_float.yaml", 5, 13, "identifiers.imei: expected 14 to 16 digits"},
    {"identifier_bad_mac.yaml", 5, 12, "identifiers.mac: expected a MAC address"},
    {"location_lat_out_of_range.yaml", 7, 18, "location[1].lat: out of range: expected -90 to 90, got 91.5"},
    {"location_missing_lon.yaml", 5, 17, "identifiers.location: missing key 'lon'"},
    {"location_not_number.yaml", 5, 24, "location.lat: expected a number, got 'north'"},
    {"cell_bad_mnc.yaml", 5, 30, "cell.mnc: out of range: expected an integer from 0 to 999, got 1000"},
    {"rule_unknown_device.yaml", 6, 38, "unknown device 'lab-phone-02'; defined devices: lab-phone-01"},
    {"rule_missing_action.yaml", 3, 5, "rules[0]: missing key 'action'"},
    {"rule_bad_action.yaml", 4, 13, "rules[0].action: expected one of allow, log, block, redact, got 'drop'"},
    {"rule_otherwise_without_redact.yaml", 5, 5, "rules[0].otherwise: only applies to action: redact"},
    {"rule_bad_transport.yaml", 3, 33, "expected one of http, https, tcp, tls-passthrough, dns, got 'quic'"},
    {"dns_upstream_without_port.yaml", 5, 14, "dns.upstream[0]: an upstream resolver needs its port"},
    {"dns_missing_upstream.yaml", 3, 3, "dns: missing key 'upstream'"},
    {"dns_unknown_key.yaml", 5, 3, "dns: unknown key 'timeout'; allowed keys: listen, upstream, timeout_ms, max_pending"},
    {"dns_zero_timeout.yaml", 5, 15, "dns.timeout_ms: out of range: expected an integer from 1 to 60000, got 0"},
    {"dns_listen_host_name.yaml", 3, 11, "dns.listen: 'localhost' is not a literal IPv4 address"},
    {"rule_empty_hosts.yaml", 4, 14, "rules[0].match.hosts: an empty list would match anything"},
    {"rule_host_and_hosts.yaml", 5, 7, "use only one of host, hosts"},
    {"rule_bad_port.yaml", 3, 27, "match.ports[1]: out of range: expected an integer from 1 to 65535, got 0"},
    {"rule_unknown_identifier.yaml", 3, 34, "unknown identifier kind 'phone_number'"},
    {"rule_unknown_match_key.yaml", 3, 14, "rules[0].match: unknown key 'hostname'; allowed keys: device, devices,"},
    {"rule_bad_method.yaml", 3, 35, "method_of_detection: expected one of known, heuristic, got 'guessed'"},
    {"rules_not_list.yaml", 3, 3, "rules: expected a list, got a mapping"},
    {"detectors_enabled_not_bool.yaml", 4, 14,
     "detectors.known_identifiers.enabled: expected true or false, got 'maybe'"},
    {"detectors_not_mapping.yaml", 3, 22, "detectors.known_identifiers: expected a mapping of detector options"},
};

const std::string bad_dir = LEAKGUARD_SOURCE_DIR "/tests/config/data/bad/";

}  // namespace

TEST_CASE("bad configuration files fail at the right line and column") {
  for (const auto& bad : bad_files) {
    const std::string path = bad_dir + bad.file;
    CAPTURE(path);
    try {
      load_config_file(path);
      FAIL_CHECK("loaded without error");
    } catch (const ConfigError& error) {
      const std::string what = error.what();
      CAPTURE(what);
      CHECK(error.file() == path);
      CHECK(error.line() == bad.line);
      CHECK(error.column() == bad.column);
      CHECK(error.message().find(bad.message) != std::string::npos);
      // what() is what check-config prints: FILE:LINE:COL: message.
      const auto prefix = path + ":" + std::to_string(bad.line) + ":" + std::to_string(bad.column) + ": ";
      CHECK(what == prefix + error.message());
    }
  }
}

TEST_CASE("every bad fixture is in the table, and every table entry has a fixture") {
  std::set<std::string> on_disk;
  for (const auto& entry : std::filesystem::directory_iterator(bad_dir)) on_disk.insert(entry.path().filename());
  std::set<std::string> in_table;
  for (const auto& bad : bad_files) in_table.insert(bad.file);
  CHECK(on_disk == in_table);
}

// Shapes too small for a fixture file each: odd YAML that must still fail cleanly, in place.
struct BadText {
  const char* text;
  int line;
  int column;
  const char* message;
};

constexpr BadText bad_texts[] = {
    {"~: 1\n", 1, 1, "expected a plain key, got nothing"},
    {"? [a]\n: 1\n", 1, 3, "expected a plain key, got a list"},
    {"listen: &l [\"127.0.0.1:1\"]\nadmin: {listen: *l}\n", 1, 9, "admin.listen: expected one \"IP:PORT\", got a list"},
    {"devices: [~]\n", 1, 11, "devices[0]: expected a device profile"},
    {"devices: [{name: a, identifiers: {location: [[1, 2]]}}]\n", 1, 46,
     "identifiers.location[0]: expected a mapping (key: value), got a list"},
    {"devices: [{name: a, identifiers: {cell: 5}}]\n", 1, 41, "cell: expected a mapping or a list of mappings"},
    {"devices: [{name: a, identifiers: {imei: []}}]\n", 1, 41,
     "imei: expected a value or a list of values, got nothing"},
    {"devices: [{name: \"a\\tb\"}]\n", 1, 18, "without control characters"},
    {"rules: [5]\n", 1, 9, "rules[0]: expected a mapping (key: value), got a single value"},
    {"detectors: [a]\n", 1, 12, "detectors: expected a mapping (key: value), got a list"},
    {"detectors: {a: {enabled: ~}}\n", 1, 17, "detectors.a.enabled: expected true or false, got nothing"},
    {"workers: 99999999999999999999999\n", 1, 10, "out of range: expected an integer from 0 to 1024"},
    {"limits: {max_inspect_bytes: 0x100}\n", 1, 29, "expected an integer from 1 to 1073741824, got '0x100'"},
    {"events: {path: \"\"}\n", 1, 16, "events.path: must not be empty"},
    {"mode: log\n---\nmode: block\n", 3, 1, "a second YAML document"},
    {"clients: {allow: [{a: 1}]}\n", 1, 19, "clients.allow[0]: expected a string, got a mapping"},
};

TEST_CASE("odd YAML shapes fail in place") {
  for (const auto& bad : bad_texts) {
    CAPTURE(bad.text);
    try {
      load_config_text(bad.text, "inline.yaml");
      FAIL_CHECK("loaded without error");
    } catch (const ConfigError& error) {
      CAPTURE(error.message());
      CHECK(error.line() == bad.line);
      CHECK(error.column() == bad.column);
      CHECK(error.message().find(bad.message) != std::string::npos);
    }
  }
  // A trailing "---" is an empty second document, not an error.
  CHECK(load_config_text("mode: block\n---\n", "inline.yaml")->mode == Action::block);
}

TEST_CASE("identifier values never appear in error messages") {
  // Profiles hold real identifiers and check-config output ends up in bug reports.
  try {
    load_config_text("devices:\n  - name: p\n    identifiers: { imsi: \"24201660123456789\" }\n", "secret.yaml");
    FAIL("expected a ConfigError");
  } catch (const ConfigError& error) {
    CHECK(error.line() == 3);
    CHECK(error.column() == 26);
    CHECK(std::string(error.what()).find("24201660123456789") == std::string::npos);
  }
}

TEST_CASE("an empty value is reported at its key, not at the next line") {
  // yaml-cpp marks a missing value at the next token; the key is where the user has to look.
  try {
    load_config_text("devices:\n  - name:\n    match: { ip: 10.0.0.1 }\n", "empty-value.yaml");
    FAIL("expected a ConfigError");
  } catch (const ConfigError& error) {
    CHECK(error.line() == 2);
    CHECK(error.column() == 5);
    CHECK(error.message() == "devices[0].name: expected a string, got nothing");
  }
}

TEST_CASE("errors in text name the source the caller gave") {
  CHECK_THROWS_WITH_AS(load_config_text("mode: 1", "<stdin>"),
                       "<stdin>:1:7: mode: expected one of allow, log, block, "
                       "redact, got '1'",
                       ConfigError);
}
