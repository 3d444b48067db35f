// The loader on good input: the embedded default, the shipped example, the shared corpus profile,
// and the value forms the loader promises (lists, numbers as text, layering on the default).
#include <doctest/doctest.h>

#include <boost/asio/ip/address.hpp>

#include "config/config.hpp"

namespace {

using namespace leakguard;

boost::asio::ip::address ip(const char* text) { return boost::asio::ip::make_address(text); }

std::vector<std::string> network_strings(const std::vector<IpNetwork>& networks) {
  std::vector<std::string> out;
  for (const auto& network : networks) out.push_back(network.to_string());
  return out;
}

const std::vector<std::string>& values(const DeviceProfile& device, IdentifierKind kind) {
  static const std::vector<std::string> none;
  const auto found = device.values.find(kind);
  return found == device.values.end() ? none : found->second;
}

// Everything a file does not mention must equal the embedded default.
void check_defaults_except_devices(const Config& config) {
  const auto& base = *default_config();
  CHECK(config.listen == base.listen);
  CHECK(network_strings(config.clients_allow) == network_strings(base.clients_allow));
  CHECK(config.mode == base.mode);
  CHECK(config.oversize == base.oversize);
  CHECK(config.events_path == base.events_path);
  CHECK(config.workers == base.workers);
  CHECK(config.tls.intercept == base.tls.intercept);
  CHECK(config.tls.ca_dir == base.tls.ca_dir);
  CHECK(config.limits.max_inspect_bytes == base.limits.max_inspect_bytes);
  CHECK_FALSE(config.admin_listen.has_value());
  CHECK(config.rules.empty());
  CHECK(config.detectors.empty());
}

}  // namespace

TEST_CASE("the embedded default has the documented values") {
  const auto config = default_config();
  REQUIRE(config);
  CHECK(config->source == "<embedded default>");
  REQUIRE(config->listen.size() == 1);
  CHECK(config->listen[0].host == "127.0.0.1");
  CHECK(config->listen[0].port == 8080);
  CHECK(network_strings(config->clients_allow) == std::vector<std::string>{"127.0.0.0/8", "::1/128"});
  CHECK(config->mode == Action::log);
  CHECK(config->events_path == "-");
  CHECK(config->tls.intercept == TlsSettings::Intercept::none);
  CHECK(config->tls.intercept_hosts.empty());
  CHECK(config->devices.empty());
  CHECK(config->rules.empty());
  // Keys default.yaml does not set keep the struct defaults: one source for each value.
  const Config plain;
  CHECK(config->limits.connect_timeout == plain.limits.connect_timeout);
  CHECK(config->limits.max_header_bytes == plain.limits.max_header_bytes);
  CHECK(config->tls.upstream_ca == plain.tls.upstream_ca);
  CHECK(config->workers == 0);
  CHECK(config->oversize == Action::block);
}

TEST_CASE("the embedded default is default.yaml, parsed once") {
  CHECK(default_config_text().find("listen: [\"127.0.0.1:8080\"]") != std::string::npos);
  CHECK(default_config() == default_config());
  // The same text through the public loader gives the same values.
  const auto again = load_config_text(default_config_text(), "again.yaml");
  CHECK(again->source == "again.yaml");
  check_defaults_except_devices(*again);
}

TEST_CASE("an empty file, or one with only comments, is the embedded default") {
  for (const char* text : {"", "# nothing here\n", "---\n", "{}\n"}) {
    CAPTURE(text);
    const auto config = load_config_text(text, "empty.yaml");
    CHECK(config->source == "empty.yaml");
    CHECK(config->devices.empty());
    check_defaults_except_devices(*config);
  }
}

TEST_CASE("a file's keys replace the default's; nested mappings merge key by key") {
  const auto config = load_config_text(
      "listen: [\"0.0.0.0:3128\", \"[::]:0\"]\n"
      "tls:\n"
      "  passthrough: [\"*.Example-Bank.com\"]\n"
      "limits: { idle_timeout_ms: 1000 }\n",
      "layered.yaml");
  REQUIRE(config->listen.size() == 2);
  CHECK(config->listen[0] == ListenAddress{"0.0.0.0", 3128});
  CHECK(config->listen[1] == ListenAddress{"::", 0});
  CHECK(config->tls.passthrough == std::vector<std::string>{"*.example-bank.com"});  // lower-cased
  CHECK(config->tls.intercept == TlsSettings::Intercept::none);                      // kept
  CHECK(config->tls.leaf_cache_size == 1024);                                        // kept
  CHECK(config->limits.idle_timeout == std::chrono::milliseconds(1000));
  CHECK(config->limits.connect_timeout == std::chrono::milliseconds(5000));  // kept
  CHECK(network_strings(config->clients_allow) == network_strings(default_config()->clients_allow));
}

TEST_CASE("the hotspot example loads with the values it documents") {
  const auto config = load_config_file(LEAKGUARD_SOURCE_DIR "/config/examples/hotspot.example.yaml");
  REQUIRE(config->listen.size() == 2);
  CHECK(config->listen[0] == ListenAddress{"10.42.0.1", 8080});
  CHECK(config->listen[1] == ListenAddress{"127.0.0.1", 8080});
  const auto allowed = [&](const char* address) {
    for (const auto& network : config->clients_allow)
      if (network.contains(ip(address))) return true;
    return false;
  };
  CHECK(allowed("10.42.0.11"));
  CHECK(allowed("127.0.0.1"));
  CHECK_FALSE(allowed("10.42.1.11"));
  CHECK_FALSE(allowed("192.168.1.10"));
  CHECK(config->mode == Action::log);
  CHECK(config->home_country == "NO");  // the Norway problem: not a YAML boolean here
  REQUIRE(config->admin_listen);
  CHECK(*config->admin_listen == ListenAddress{"127.0.0.1", 9090});
  REQUIRE(config->dns);
  CHECK(config->dns->listen == std::vector<ListenAddress>{{"10.42.0.1", 5300}});
  CHECK(config->dns->upstream == std::vector<ListenAddress>{{"10.42.0.1", 53}});
  CHECK(config->tls.intercept == TlsSettings::Intercept::hosts);
  CHECK(config->tls.intercept_hosts == std::vector<std::string>{"*.example.cn", "activation.example.com"});

  REQUIRE(config->devices.size() == 1);
  const auto& phone = config->devices[0];
  CHECK(phone.name == "lab-phone-01");
  REQUIRE(phone.match.network);
  CHECK(phone.match.network->to_string() == "10.42.0.11/32");
  CHECK(values(phone, IdentifierKind::imei).size() == 2);

  REQUIRE(config->rules.size() == 4);
  CHECK(config->rules[0].name == "no-hardware-ids-abroad");
  CHECK(config->rules[0].action == Action::block);
  CHECK(config->rules[0].countries == std::vector<std::string>{"CN"});
  CHECK(config->rules[2].action == Action::redact);
  CHECK(config->rules[2].otherwise == Action::block);
  CHECK(config->rules[2].devices == std::vector<std::string>{"lab-phone-01"});
  CHECK(config->rules[3].method_of_detection == "heuristic");
  for (const auto& rule : config->rules) CHECK(rule.line > 0);
}

TEST_CASE("the shared corpus profile loads as a full configuration") {
  const auto config = load_config_file(LEAKGUARD_SHARED_DIR "/corpus/profile.yaml");
  check_defaults_except_devices(*config);
  REQUIRE(config->devices.size() == 1);
  const auto& phone = config->devices[0];
  CHECK(phone.name == "lab-phone-01");
  REQUIRE(phone.match.network);
  CHECK(phone.match.network->contains(ip("10.42.0.11")));
  CHECK_FALSE(phone.match.network->contains(ip("10.42.0.12")));
  CHECK(values(phone, IdentifierKind::imei) == std::vector<std::string>{"353209091234567"});
  CHECK(values(phone, IdentifierKind::imsi) == std::vector<std::string>{"242016601234567"});
  CHECK(values(phone, IdentifierKind::iccid) == std::vector<std::string>{"8947016601234567890"});
  CHECK(values(phone, IdentifierKind::msisdn) == std::vector<std::string>{"+4791234567"});
  CHECK(values(phone, IdentifierKind::serial) == std::vector<std::string>{"B2NGAA8831702345"});
  CHECK(values(phone, IdentifierKind::mac) == std::vector<std::string>{"a4:50:46:12:34:56"});
  CHECK(values(phone, IdentifierKind::android_id) == std::vector<std::string>{"9774d56d682e549c"});
  CHECK(values(phone, IdentifierKind::gaid) == std::vector<std::string>{"38400000-8cf0-11bd-b23e-10b96e40000d"});
  CHECK(values(phone, IdentifierKind::email) == std::vector<std::string>{"kari.nordmann@example.no"});
  REQUIRE(phone.locations.size() == 1);
  CHECK(phone.locations[0].lat == doctest::Approx(59.913868));
  CHECK(phone.locations[0].lon == doctest::Approx(10.752245));
  REQUIRE(phone.cells.size() == 1);
  CHECK(phone.cells[0].mcc == 242);
  CHECK(phone.cells[0].mnc == 1);
  CHECK(phone.cells[0].lac == 1234);
  CHECK(phone.cells[0].cid == 56789);
}

TEST_CASE("a dual-SIM phone lists two IMEIs; repeated values and MAC spellings collapse") {
  const auto config = load_config_text(R"(
devices:
  - name: dual
    match: { mac: "A4-50-46-12-34-56" }
    identifiers:
      imei:
        - 353209091234567
        - "353209091234575"
        - "353209091234567"
      imsi: [242016601234567, "242016601234568"]
      mac: ["A4:50:46:12:34:56", "a45046123456", "a4-50-46-12-34-57"]
)",
                                       "dual.yaml");
  REQUIRE(config->devices.size() == 1);
  const auto& phone = config->devices[0];
  REQUIRE(phone.match.mac);
  CHECK(phone.match.mac->to_string() == "a4:50:46:12:34:56");
  CHECK_FALSE(phone.match.network);
  CHECK(values(phone, IdentifierKind::imei) == std::vector<std::string>{"353209091234567", "353209091234575"});
  CHECK(values(phone, IdentifierKind::imsi) == std::vector<std::string>{"242016601234567", "242016601234568"});
  CHECK(values(phone, IdentifierKind::mac) == std::vector<std::string>{"a4:50:46:12:34:56", "a4:50:46:12:34:57"});
}

TEST_CASE("unquoted numbers are kept exactly as written") {
  // yaml-cpp hands over the scalar text; the loader never converts identifiers to numbers, so a
  // leading zero or a 20-digit ICCID (beyond 64 bits) survives.
  const auto config = load_config_text(R"(
devices:
  - name: numbers
    identifiers:
      imsi: 001010123456789
      iccid: 89470166012345678901
      msisdn: 004791234567
      serial: 0123
)",
                                       "numbers.yaml");
  const auto& phone = config->devices.at(0);
  CHECK(values(phone, IdentifierKind::imsi) == std::vector<std::string>{"001010123456789"});
  CHECK(values(phone, IdentifierKind::iccid) == std::vector<std::string>{"89470166012345678901"});
  CHECK(values(phone, IdentifierKind::msisdn) == std::vector<std::string>{"004791234567"});
  CHECK(values(phone, IdentifierKind::serial) == std::vector<std::string>{"0123"});
  CHECK_FALSE(phone.match.network);  // no match: usable with `scan --device`, never by address
  CHECK_FALSE(phone.match.mac);
}

TEST_CASE("locations and cells take one mapping or a list") {
  const auto config = load_config_text(R"(
devices:
  - name: a
    match: { cidr: "10.42.0.0/28" }
    identifiers:
      location:
        - { lat: -33.8688, lon: 151.2093 }
        - { lat: 90, lon: -180 }
      cell:
        - { mcc: 242, mnc: 01, lac: 1234, cid: 56789 }
        - { mcc: 460, mnc: 11, lac: 16777215, cid: 68719476735 }
  - name: b
    match: { ip: "fd00::11" }
    identifiers:
      android_id: 9774D56D682E549C
      gaid: 38400000-8CF0-11BD-B23E-10B96E40000D
)",
                                       "geo.yaml");
  const auto& a = config->devices.at(0);
  REQUIRE(a.locations.size() == 2);
  CHECK(a.locations[0].lat == doctest::Approx(-33.8688));
  CHECK(a.locations[1].lon == doctest::Approx(-180));
  REQUIRE(a.cells.size() == 2);
  CHECK(a.cells[0].mnc == 1);
  CHECK(a.cells[1].lac == 16777215);
  CHECK(a.cells[1].cid == 68719476735LL);
  CHECK(a.match.network->contains(ip("10.42.0.15")));
  CHECK_FALSE(a.match.network->contains(ip("10.42.0.16")));
  const auto& b = config->devices.at(1);
  CHECK(b.match.network->to_string() == "fd00::11/128");
  CHECK(values(b, IdentifierKind::android_id) == std::vector<std::string>{"9774d56d682e549c"});  // hex: lower case
  CHECK(values(b, IdentifierKind::gaid) == std::vector<std::string>{"38400000-8cf0-11bd-b23e-10b96e40000d"});
}

TEST_CASE("rules: every condition, singular and plural forms, line numbers") {
  const auto config = load_config_text(R"(devices:
  - name: phone-a
  - name: phone-b
rules:
  - name: everything
    match:
      devices: [phone-a, phone-b]
      identifiers: [imei, location]
      hosts: ["*.VNET.cn", "zzhc.example.cn"]
      networks: ["203.0.113.0/24", "2001:db8::/32"]
      ports: [80, 8080]
      countries: [cn, Ru]
      transports: [http, tls-passthrough]
      method_of_detection: known
    action: redact
    otherwise: log
  - match: { device: phone-a, identifier: imsi, host: a.example, ip: 198.51.100.7, port: 443,
             country: US, transport: https }
    action: allow
  - action: block
)",
                                       "rules.yaml");
  REQUIRE(config->rules.size() == 3);
  const auto& all = config->rules[0];
  CHECK(all.name == "everything");
  CHECK(all.line == 5);
  CHECK(all.devices == std::vector<std::string>{"phone-a", "phone-b"});
  CHECK(all.identifiers == std::vector<IdentifierKind>{IdentifierKind::imei, IdentifierKind::location});
  CHECK(all.hosts == std::vector<std::string>{"*.vnet.cn", "zzhc.example.cn"});
  CHECK(network_strings(all.networks) == std::vector<std::string>{"203.0.113.0/24", "2001:db8::/32"});
  CHECK(all.ports == std::vector<std::uint16_t>{80, 8080});
  CHECK(all.countries == std::vector<std::string>{"CN", "RU"});
  CHECK(all.transports == std::vector<std::string>{"http", "tls-passthrough"});
  CHECK(all.method_of_detection == "known");
  CHECK(all.action == Action::redact);
  CHECK(all.otherwise == Action::log);

  const auto& single = config->rules[1];
  CHECK(single.name.empty());
  CHECK(single.line == 17);
  CHECK(single.devices == std::vector<std::string>{"phone-a"});
  CHECK(single.identifiers == std::vector<IdentifierKind>{IdentifierKind::imsi});
  CHECK(single.hosts == std::vector<std::string>{"a.example"});
  CHECK(network_strings(single.networks) == std::vector<std::string>{"198.51.100.7/32"});
  CHECK(single.ports == std::vector<std::uint16_t>{443});
  CHECK(single.countries == std::vector<std::string>{"US"});
  CHECK(single.transports == std::vector<std::string>{"https"});
  CHECK_FALSE(single.method_of_detection);
  CHECK(single.action == Action::allow);

  const auto& catch_all = config->rules[2];  // no match: every condition is "any"
  CHECK(catch_all.line == 20);
  CHECK(catch_all.devices.empty());
  CHECK(catch_all.identifiers.empty());
  CHECK(catch_all.hosts.empty());
  CHECK(catch_all.action == Action::block);
}

TEST_CASE("rules may come before the devices they name") {
  const auto config = load_config_text(
      "rules:\n  - { match: { device: late }, action: block }\n"
      "devices:\n  - name: late\n",
      "order.yaml");
  CHECK(config->rules.at(0).devices == std::vector<std::string>{"late"});
}

TEST_CASE("mode, oversize, events, workers, geoip, admin") {
  const auto config = load_config_text(R"(
mode: block
oversize: log
events: { path: /var/log/leakguard.jsonl }
workers: 4
geoip: { database: /usr/share/GeoIP/GeoLite2-Country.mmdb }
home_country: se
admin: { listen: "[::1]:9090" }
)",
                                       "misc.yaml");
  CHECK(config->mode == Action::block);
  CHECK(config->oversize == Action::log);
  CHECK(config->events_path == "/var/log/leakguard.jsonl");
  CHECK(config->workers == 4);
  CHECK(config->geoip_database == "/usr/share/GeoIP/GeoLite2-Country.mmdb");
  CHECK(config->home_country == "SE");
  REQUIRE(config->admin_listen);
  CHECK(config->admin_listen->host == "::1");
  CHECK(config->admin_listen->port == 9090);
}

TEST_CASE("dns: off unless configured; listen and upstream addresses, timeout, pending bound") {
  CHECK_FALSE(default_config()->dns.has_value());
  const auto config = load_config_text(R"(
dns:
  listen: ["10.42.0.1:53", "[fd00::1]:53"]
  upstream: "10.42.0.1:5300"
  timeout_ms: 1500
  max_pending: 64
rules:
  - { match: { hosts: ["*.reg.example.cn"], transport: dns }, action: block }
)",
                                       "dns.yaml");
  REQUIRE(config->dns);
  CHECK(config->dns->listen == std::vector<ListenAddress>{{"10.42.0.1", 53}, {"fd00::1", 53}});
  CHECK(config->dns->upstream == std::vector<ListenAddress>{{"10.42.0.1", 5300}});
  CHECK(config->dns->timeout == std::chrono::milliseconds(1500));
  CHECK(config->dns->max_pending == 64);
  CHECK(config->rules.at(0).transports == std::vector<std::string>{"dns"});
  const auto defaults = load_config_text("dns: { listen: \"127.0.0.1:0\", upstream: \"127.0.0.1:53\" }", "d.yaml");
  CHECK(defaults->dns->timeout == std::chrono::milliseconds(2000));
  CHECK(defaults->dns->max_pending == 1024);
}

TEST_CASE("tls: intercept none, all, or a list of globs") {
  CHECK(load_config_text("tls: { intercept: all }", "t")->tls.intercept == TlsSettings::Intercept::all);
  CHECK(load_config_text("tls: { intercept: none }", "t")->tls.intercept == TlsSettings::Intercept::none);
  // An empty list intercepts nothing, and says so as `none`.
  CHECK(load_config_text("tls: { intercept: [] }", "t")->tls.intercept == TlsSettings::Intercept::none);
  const auto config = load_config_text(R"(
tls:
  intercept: ["*.Example.cn", "api.example.com"]
  ca_dir: /etc/leakguard/ca
  upstream_ca: /etc/ssl/custom.pem
  leaf_cache_size: 10
  pinned_ttl_seconds: 0
)",
                                       "tls.yaml");
  CHECK(config->tls.intercept == TlsSettings::Intercept::hosts);
  CHECK(config->tls.intercept_hosts == std::vector<std::string>{"*.example.cn", "api.example.com"});
  CHECK(config->tls.ca_dir == "/etc/leakguard/ca");
  CHECK(config->tls.upstream_ca == "/etc/ssl/custom.pem");
  CHECK(config->tls.leaf_cache_size == 10);
  CHECK(config->tls.pinned_ttl == std::chrono::seconds(0));
}

TEST_CASE("limits are read in milliseconds and bytes") {
  const auto config = load_config_text(R"(
limits:
  connect_timeout_ms: 1
  idle_timeout_ms: 86400000
  first_bytes_timeout_ms: 250
  shutdown_grace_ms: 0
  max_header_bytes: 8192
  max_connections: 5
  max_inspect_bytes: 65536
  raw_inspect_window: 512
  raw_inspect_timeout_ms: 0
)",
                                       "limits.yaml");
  const auto& limits = config->limits;
  CHECK(limits.connect_timeout == std::chrono::milliseconds(1));
  CHECK(limits.idle_timeout == std::chrono::hours(24));
  CHECK(limits.first_bytes_timeout == std::chrono::milliseconds(250));
  CHECK(limits.shutdown_grace == std::chrono::milliseconds(0));
  CHECK(limits.max_header_bytes == 8192);
  CHECK(limits.max_connections == 5);
  CHECK(limits.max_inspect_bytes == 65536);
  CHECK(limits.raw_inspect_window == 512);
  CHECK(limits.raw_inspect_timeout == std::chrono::milliseconds(0));
}

TEST_CASE("detectors: enabled is taken out, other options keep their marks for the factory") {
  const auto config = load_config_text(R"(detectors:
  known_identifiers:
    enabled: false
    min_length: 6
  heuristic_imei: { enabled: true }
  base64_json: ~
  any_name_is_fine_here: {}
)",
                                       "detectors.yaml");
  REQUIRE(config->detectors.size() == 4);
  const auto& known = config->detectors.at("known_identifiers");
  CHECK_FALSE(known.enabled);
  REQUIRE(known.options.IsMap());
  CHECK_FALSE(known.options["enabled"]);
  REQUIRE(known.options["min_length"]);
  CHECK(known.options["min_length"].as<int>() == 6);
  // A factory's error about an option points at the option's own line and column.
  const ConfigError error(config->source, known.options["min_length"], "too small");
  CHECK(error.line() == 4);
  CHECK(error.column() == 17);
  CHECK(std::string(error.what()) == "detectors.yaml:4:17: too small");

  CHECK(config->detectors.at("heuristic_imei").enabled);
  CHECK(config->detectors.at("heuristic_imei").options.size() == 0);
  CHECK(config->detectors.at("base64_json").enabled);
  CHECK(config->detectors.at("base64_json").options.IsMap());
  CHECK(config->detectors.at("any_name_is_fine_here").enabled);
}

TEST_CASE("ConfigError: FILE:LINE:COL: message, and FILE: message without a position") {
  const ConfigError positioned("a.yaml", 3, 7, "bad");
  CHECK(std::string(positioned.what()) == "a.yaml:3:7: bad");
  CHECK(positioned.file() == "a.yaml");
  CHECK(positioned.message() == "bad");
  const ConfigError unpositioned("a.yaml", 0, 0, "cannot open");
  CHECK(std::string(unpositioned.what()) == "a.yaml: cannot open");
  const ConfigError from_code("a.yaml", YAML::Node("built, not parsed"), "odd");
  CHECK(from_code.line() == 0);
}

TEST_CASE("a file that cannot be read is an error without a position") {
  const std::string missing = LEAKGUARD_SOURCE_DIR "/tests/config/data/does-not-exist.yaml";
  try {
    load_config_file(missing);
    FAIL("expected a ConfigError");
  } catch (const ConfigError& error) {
    CHECK(error.file() == missing);
    CHECK(error.line() == 0);
    CHECK(std::string(error.what()) == missing + ": cannot open: No such file or directory");
  }
  CHECK_THROWS_WITH_AS(load_config_file(LEAKGUARD_SOURCE_DIR "/tests/config/data"), doctest::Contains("is a directory"),
                       ConfigError);
}

TEST_CASE("to_string(Action)") {
  CHECK(to_string(Action::allow) == "allow");
  CHECK(to_string(Action::log) == "log");
  CHECK(to_string(Action::block) == "block");
  CHECK(to_string(Action::redact) == "redact");
}
