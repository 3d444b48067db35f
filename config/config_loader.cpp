// The YAML loader: text -> validated Config. A file is read on top of the embedded default (a key
// the file leaves out keeps the default's value; a mapping like `tls:` merges key by key), and the
// embedded default itself goes through this same code on top of the struct defaults.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "config/addresses.hpp"
#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace leakguard {

const std::string& default_config_text_storage();  // generated from default.yaml at build time

namespace {

constexpr std::int64_t max_duration_ms = 24LL * 60 * 60 * 1000;  // a day: anything longer is a typo
constexpr std::int64_t max_bytes = 1LL << 30;                    // 1 GiB

bool is_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool is_hex(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isxdigit(c); });
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
  return text;
}

bool has_space_or_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](unsigned char c) { return c <= ' ' || c == 0x7F; });
}

std::string line_of(const YAML::Node& node) { return std::to_string(node.Mark().line + 1); }

std::string identifier_kind_list() {
  std::string out;
  for (const auto kind : all_identifier_kinds()) {
    if (!out.empty()) out += ", ";
    out += to_string(kind);
  }
  return out;
}

// Checks one string identifier value and returns the form the detectors should match (hex kinds
// are lower-cased, a MAC gets its canonical form). Messages never repeat the value: a profile
// holds real identifiers and check-config output ends up in bug reports.
std::optional<std::string> normalise_identifier(IdentifierKind kind, const std::string& value, std::string& expected) {
  const auto digits_between = [&](std::string_view text, std::size_t low, std::size_t high) {
    return is_digits(text) && text.size() >= low && text.size() <= high;
  };
  switch (kind) {
    case IdentifierKind::imei:
      expected = "14 to 16 digits (IMEI or IMEISV)";
      if (digits_between(value, 14, 16)) return value;
      break;
    case IdentifierKind::imsi:
      expected = "6 to 15 digits";
      if (digits_between(value, 6, 15)) return value;
      break;
    case IdentifierKind::iccid:
      expected = "18 to 22 digits";
      if (digits_between(value, 18, 22)) return value;
      break;
    case IdentifierKind::msisdn: {
      expected = "6 to 15 digits, optionally after a '+', without spaces";
      const std::string_view number = !value.empty() && value[0] == '+' ? std::string_view(value).substr(1) : value;
      if (digits_between(number, 6, 15)) return value;
      break;
    }
    case IdentifierKind::serial:
      // Shorter values would be too common to match, and mask_occurrences() skips them, so a
      // 3-character serial could even reach an event unmasked.
      expected = "4 to 64 characters without spaces";
      if (value.size() >= 4 && value.size() <= 64 && !has_space_or_control(value)) return value;
      break;
    case IdentifierKind::mac:
      expected = "a MAC address like a4:50:46:12:34:56";
      if (const auto mac = MacAddress::parse(value)) return mac->to_string();
      break;
    case IdentifierKind::android_id:
      expected = "8 to 16 hexadecimal digits";
      if (is_hex(value) && value.size() >= 8 && value.size() <= 16) return lower(value);
      break;
    case IdentifierKind::gaid: {
      expected = "a UUID like 38400000-8cf0-11bd-b23e-10b96e40000d";
      bool ok = value.size() == 36;
      for (std::size_t i = 0; ok && i < value.size(); ++i)
        ok = (i == 8 || i == 13 || i == 18 || i == 23) ? value[i] == '-'
                                                       : std::isxdigit(static_cast<unsigned char>(value[i]));
      if (ok) return lower(value);
      break;
    }
    case IdentifierKind::email: {
      expected = "an address like name@example.com";
      const auto at = value.find('@');
      if (at != std::string::npos && at > 0 && at + 1 < value.size() && value.find('@', at + 1) == std::string::npos &&
          !has_space_or_control(value))
        return value;
      break;
    }
    case IdentifierKind::location:
    case IdentifierKind::cell:
      break;  // structured kinds, read elsewhere
  }
  return std::nullopt;
}

class ConfigParser {
 public:
  ConfigParser(std::string source, const Config& base) : reader_(source), config_(base) {
    config_.source = std::move(source);
  }

  ConfigSnapshot parse(const std::string& text) {
    std::vector<YAML::Node> documents;
    try {
      documents = YAML::LoadAll(text);
    } catch (const YAML::Exception& error) {
      const int line = error.mark.is_null() ? 0 : error.mark.line + 1;
      const int column = error.mark.is_null() ? 0 : error.mark.column + 1;
      throw ConfigError(config_.source, line, column, "YAML syntax error: " + error.msg);
    }
    // A trailing "---" makes an empty second document: harmless, so only content counts.
    for (std::size_t i = 1; i < documents.size(); ++i)
      if (!documents[i].IsNull())
        throw ConfigError(config_.source, documents[i], "a second YAML document; a configuration is one document");
    const YamlField root{YAML::Node(), documents.empty() ? YAML::Node() : documents.front(), ""};
    if (!root.value.IsNull() && !root.value.IsMap())
      throw ConfigError(config_.source, root.value, "expected a mapping of configuration keys (like 'listen:')");

    const auto top = reader_.map(root, {"listen", "transparent", "clients", "mode", "oversize", "events", "workers", "geoip",
                                        "home_country", "admin", "tls", "dns", "limits", "devices", "rules", "detectors",
                                        "protobuf"});
    if (const auto* field = top.find("listen")) parse_listen(*field);
    if (const auto* field = top.find("transparent"))
      config_.transparent = reader_.choice(*field, {"redirect", "tproxy"}) == 0 ? TransparentMode::redirect
                                                                                  : TransparentMode::tproxy;
    if (const auto* field = top.find("clients")) parse_clients(*field);
    if (const auto* field = top.find("mode"))
      config_.mode = action_from(reader_.choice(*field, {"allow", "log", "block", "redact"}));
    if (const auto* field = top.find("oversize"))
      config_.oversize = reader_.choice(*field, {"block", "log"}) == 0 ? Action::block : Action::log;
    if (const auto* field = top.find("events")) {
      const auto events = reader_.map(*field, {"path"});
      if (const auto* path = events.find("path")) config_.events_path = reader_.string(*path);
    }
    if (const auto* field = top.find("workers"))
      config_.workers = static_cast<unsigned>(reader_.integer(*field, 0, 1024));
    if (const auto* field = top.find("geoip")) {
      const auto geoip = reader_.map(*field, {"database"});
      config_.geoip_database = reader_.string(geoip.require("database"));
    }
    if (const auto* field = top.find("home_country")) config_.home_country = country(*field);
    if (const auto* field = top.find("admin")) {
      const auto admin = reader_.map(*field, {"listen"});
      config_.admin_listen = listen_address(admin.require("listen"));
    }
    if (const auto* field = top.find("tls")) parse_tls(*field);
    if (const auto* field = top.find("dns")) parse_dns(*field);
    if (const auto* field = top.find("limits")) parse_limits(*field);
    // Devices before rules whatever the order in the file: rules refer to devices by name.
    if (const auto* field = top.find("devices")) parse_devices(*field);
    if (const auto* field = top.find("rules")) parse_rules(*field);
    if (const auto* field = top.find("detectors")) parse_detectors(*field);
    if (const auto* field = top.find("protobuf")) {
      // The files are read when the detectors are built (Schema::load), which names a bad one.
      const auto protobuf = reader_.map(*field, {"descriptor_sets", "messages"});
      if (const auto* sets = protobuf.find("descriptor_sets")) config_.protobuf.descriptor_sets = reader_.strings(*sets);
      if (const auto* messages = protobuf.find("messages")) {
        const auto paths = reader_.map(*messages, {});
        for (const auto& entry : paths.entries()) config_.protobuf.messages[entry.key.as<std::string>()] = reader_.string(entry);
      }
    }
    return std::make_shared<const Config>(std::move(config_));
  }

 private:
  static Action action_from(std::size_t index) {
    static constexpr Action actions[] = {Action::allow, Action::log, Action::block, Action::redact};
    return actions[index];
  }

  ListenAddress listen_address(const YamlField& field) const {
    if (field.value.IsSequence())  // an unquoted [::1]:8080 is a YAML list followed by junk
      reader_.fail(field, "expected one \"IP:PORT\", got a list (quote IPv6 addresses: \"[::1]:8080\")");
    auto parsed = parse_listen_address(reader_.string(field));
    if (auto* problem = std::get_if<std::string>(&parsed)) reader_.fail(field, *problem);
    return std::get<ListenAddress>(parsed);
  }

  void parse_listen(const YamlField& field) {
    std::vector<ListenAddress> addresses;
    std::map<std::string, const YAML::Node*> seen;
    const auto items = reader_.one_or_many(field);
    for (const auto& item : items) {
      auto address = listen_address(item);
      // Two sockets on one fixed address cannot both bind; port 0 asks for a fresh port each time.
      if (address.port != 0 && !seen.emplace(address.to_string(), &item.value).second)
        reader_.fail(item, "duplicate listen address " + address.to_string() + " (first at line " +
                               line_of(*seen[address.to_string()]) + ")");
      addresses.push_back(std::move(address));
    }
    if (addresses.empty()) reader_.fail(field, "needs at least one address; leave the key out for 127.0.0.1:8080");
    config_.listen = std::move(addresses);
  }

  IpNetwork network(const YamlField& field, bool address_only) const {
    const auto text = reader_.string(field);
    if (address_only && text.find('/') != std::string::npos)
      reader_.fail(field, "expected one IP address, got the network '" + text + "' (use 'cidr' for a network)");
    const auto parsed = IpNetwork::parse(text);
    if (!parsed)
      reader_.fail(field, address_only ? "bad IP address '" + text + "'"
                                       : "bad network '" + text +
                                             "': expected an address or CIDR like 10.42.0.0/24 "
                                             "or fd00::/64");
    return *parsed;
  }

  std::vector<IpNetwork> networks(const YamlField& field, bool address_only) const {
    std::vector<IpNetwork> out;
    for (const auto& item : reader_.one_or_many(field)) out.push_back(network(item, address_only));
    return out;
  }

  void parse_clients(const YamlField& field) {
    const auto clients = reader_.map(field, {"allow"});
    if (const auto* allow = clients.find("allow")) {
      auto list = networks(*allow, false);
      if (list.empty()) reader_.fail(*allow, "an empty list would refuse every client; leave the key out for loopback");
      config_.clients_allow = std::move(list);
    }
  }

  // Read as written: "NO" is Norway, not YAML 1.1's false.
  std::string country(const YamlField& field) const {
    const auto text = reader_.text(field);
    if (text.size() != 2 || !std::isalpha(static_cast<unsigned char>(text[0])) ||
        !std::isalpha(static_cast<unsigned char>(text[1])))
      reader_.fail(field, "expected a two-letter country code (ISO 3166-1 alpha-2, like NO), got '" + text + "'");
    return upper(text);
  }

  // Host globs are matched case-insensitively, so they are stored in lower case.
  std::vector<std::string> host_globs(const YamlField& field) const {
    std::vector<std::string> out;
    for (const auto& item : reader_.one_or_many(field)) {
      const auto glob = reader_.string(item);
      if (glob.find("://") != std::string::npos || glob.find('/') != std::string::npos)
        reader_.fail(item, "expected a host name or glob like *.example.com, not a URL or path");
      if (has_space_or_control(glob)) reader_.fail(item, "a host glob cannot contain spaces");
      out.push_back(lower(glob));
    }
    return out;
  }

  void parse_tls(const YamlField& field) {
    const auto tls = reader_.map(
        field, {"intercept", "passthrough", "ca_dir", "upstream_ca", "leaf_cache_size", "pinned_ttl_seconds"});
    auto& settings = config_.tls;
    if (const auto* intercept = tls.find("intercept")) {
      const auto& value = intercept->value;
      if (value.IsScalar() && (value.Scalar() == "none" || value.Scalar() == "all")) {
        settings.intercept = value.Scalar() == "none" ? TlsSettings::Intercept::none : TlsSettings::Intercept::all;
        settings.intercept_hosts.clear();
      } else if (value.IsSequence()) {
        settings.intercept_hosts = host_globs(*intercept);
        // An empty list intercepts nothing: the same as `none`, and said so by the value.
        settings.intercept =
            settings.intercept_hosts.empty() ? TlsSettings::Intercept::none : TlsSettings::Intercept::hosts;
      } else {
        // A single glob is refused rather than guessed at: "all" would be ambiguous with a host.
        reader_.fail(*intercept, "expected none, all or a list of host globs" +
                                     (value.IsScalar() ? ", got '" + value.Scalar() + "' (write [\"" + value.Scalar() +
                                                             "\"] for one host)"
                                                       : std::string()));
      }
    }
    if (const auto* passthrough = tls.find("passthrough")) settings.passthrough = host_globs(*passthrough);
    if (const auto* ca_dir = tls.find("ca_dir")) settings.ca_dir = reader_.string(*ca_dir);
    if (const auto* upstream_ca = tls.find("upstream_ca")) settings.upstream_ca = reader_.string(*upstream_ca);
    if (const auto* size = tls.find("leaf_cache_size"))
      settings.leaf_cache_size = static_cast<std::size_t>(reader_.integer(*size, 1, 1'000'000));
    if (const auto* ttl = tls.find("pinned_ttl_seconds"))
      settings.pinned_ttl = std::chrono::seconds(reader_.integer(*ttl, 0, 30LL * 24 * 60 * 60));
  }

  void parse_dns(const YamlField& field) {
    const auto dns = reader_.map(field, {"listen", "upstream", "timeout_ms", "max_pending"});
    DnsSettings settings;
    for (const auto& item : reader_.one_or_many(dns.require("listen"))) settings.listen.push_back(listen_address(item));
    if (settings.listen.empty()) reader_.fail(dns.require("listen"), "needs at least one address, like \"10.42.0.1:53\"");
    for (const auto& item : reader_.one_or_many(dns.require("upstream"))) {
      auto upstream = listen_address(item);
      if (upstream.port == 0) reader_.fail(item, "an upstream resolver needs its port, like \"10.42.0.1:53\"");
      settings.upstream.push_back(std::move(upstream));
    }
    if (settings.upstream.empty()) reader_.fail(dns.require("upstream"), "needs at least one resolver");
    if (const auto* timeout = dns.find("timeout_ms"))
      settings.timeout = std::chrono::milliseconds(reader_.integer(*timeout, 1, 60'000));
    if (const auto* pending = dns.find("max_pending"))
      settings.max_pending = static_cast<std::size_t>(reader_.integer(*pending, 1, 1'000'000));
    config_.dns = std::move(settings);
  }

  void parse_limits(const YamlField& field) {
    const auto limits = reader_.map(field, {"connect_timeout_ms", "idle_timeout_ms", "first_bytes_timeout_ms",
                                            "shutdown_grace_ms", "max_header_bytes", "max_connections",
                                            "max_inspect_bytes", "raw_inspect_window", "raw_inspect_timeout_ms"});
    auto& out = config_.limits;
    const auto milliseconds = [&](std::string_view key, std::chrono::milliseconds& target, std::int64_t min) {
      if (const auto* value = limits.find(key))
        target = std::chrono::milliseconds(reader_.integer(*value, min, max_duration_ms));
    };
    const auto bytes = [&](std::string_view key, std::size_t& target, std::int64_t max) {
      if (const auto* value = limits.find(key)) target = static_cast<std::size_t>(reader_.integer(*value, 1, max));
    };
    // A zero timeout would fail every connection at once; only the grace period and the raw
    // inspection wait may be zero (stop at once, do not wait for more bytes).
    milliseconds("connect_timeout_ms", out.connect_timeout, 1);
    milliseconds("idle_timeout_ms", out.idle_timeout, 1);
    milliseconds("first_bytes_timeout_ms", out.first_bytes_timeout, 1);
    milliseconds("shutdown_grace_ms", out.shutdown_grace, 0);
    milliseconds("raw_inspect_timeout_ms", out.raw_inspect_timeout, 0);
    bytes("max_header_bytes", out.max_header_bytes, max_bytes);
    bytes("max_connections", out.max_connections, 1'000'000);
    bytes("max_inspect_bytes", out.max_inspect_bytes, max_bytes);
    bytes("raw_inspect_window", out.raw_inspect_window, max_bytes);
  }

  void parse_devices(const YamlField& field) {
    std::vector<DeviceProfile> devices;
    std::map<std::string, YAML::Node> names;
    for (const auto& item : reader_.sequence(field)) {
      const auto device = reader_.map(item, {"name", "match", "identifiers"});
      if (!item.value.IsMap()) reader_.fail(item, "expected a device profile (a mapping with 'name')");
      DeviceProfile profile;
      const auto& name = device.require("name");
      profile.name = reader_.string(name);
      if (profile.name.size() > 128 ||
          std::any_of(profile.name.begin(), profile.name.end(), [](unsigned char c) { return c < ' ' || c == 0x7F; }))
        reader_.fail(name, "a device name is at most 128 characters, without control characters");
      if (const auto [first, inserted] = names.emplace(profile.name, name.value); !inserted)
        reader_.fail(name,
                     "duplicate device name '" + profile.name + "' (first at line " + line_of(first->second) + ")");
      if (const auto* match = device.find("match")) profile.match = device_match(*match);
      if (const auto* identifiers = device.find("identifiers")) parse_identifiers(*identifiers, profile);
      devices.push_back(std::move(profile));
    }
    config_.devices = std::move(devices);
  }

  DeviceMatch device_match(const YamlField& field) const {
    const auto match = reader_.map(field, {"ip", "cidr", "mac"});
    const auto* which = match.either({"ip", "cidr", "mac"});
    if (!which) reader_.fail(field, "needs one of ip, cidr, mac");
    DeviceMatch out;
    const auto& key = which->key.Scalar();
    if (key == "mac") {
      const auto text = reader_.string(*which);
      const auto mac = MacAddress::parse(text);
      if (!mac) reader_.fail(*which, "bad MAC address: expected six hex pairs like a4:50:46:12:34:56");
      out.mac = *mac;
    } else {
      out.network = network(*which, key == "ip");
    }
    return out;
  }

  void parse_identifiers(const YamlField& field, DeviceProfile& profile) const {
    const auto identifiers = reader_.map(field, {});
    for (const auto& entry : identifiers.entries()) {
      const auto kind = parse_identifier_kind(entry.key.Scalar());
      if (!kind)
        reader_.fail({entry.key, entry.key, entry.path},
                     "unknown identifier kind '" + entry.key.Scalar() + "'; valid kinds: " + identifier_kind_list());
      if (*kind == IdentifierKind::location) {
        for (const auto& item : structured_items(entry)) profile.locations.push_back(geo_point(item));
      } else if (*kind == IdentifierKind::cell) {
        for (const auto& item : structured_items(entry)) profile.cells.push_back(cell_id(item));
      } else {
        auto& values = profile.values[*kind];
        const auto items = reader_.one_or_many(entry);
        if (items.empty()) reader_.fail(entry, "expected a value or a list of values, got nothing");
        for (const auto& item : items) {
          if (!item.value.IsScalar())
            reader_.fail(item, "expected a string, got " + std::string(item.value.IsMap() ? "a mapping" : "a list"));
          std::string expected;
          const auto value = normalise_identifier(*kind, reader_.string(item), expected);
          if (!value) reader_.fail(item, "expected " + expected);
          // Two spellings of one MAC are one value; a repeated value would be matched twice.
          if (std::find(values.begin(), values.end(), *value) == values.end()) values.push_back(*value);
        }
      }
    }
  }

  // `location` and `cell` take one mapping or a list of mappings.
  std::vector<YamlField> structured_items(const YamlField& field) const {
    if (field.value.IsMap()) return {field};
    if (field.value.IsScalar()) reader_.fail(field, "expected a mapping or a list of mappings, got a single value");
    auto items = reader_.sequence(field);
    if (items.empty()) reader_.fail(field, "expected a mapping or a list of mappings, got nothing");
    return items;
  }

  GeoPoint geo_point(const YamlField& field) const {
    const auto point = reader_.map(field, {"lat", "lon"});
    if (!field.value.IsMap()) reader_.fail(field, "expected a mapping {lat: ..., lon: ...}");
    return {reader_.number(point.require("lat"), -90, 90), reader_.number(point.require("lon"), -180, 180)};
  }

  CellId cell_id(const YamlField& field) const {
    const auto cell = reader_.map(field, {"mcc", "mnc", "lac", "cid"});
    if (!field.value.IsMap()) reader_.fail(field, "expected a mapping {mcc: ..., mnc: ..., lac: ..., cid: ...}");
    CellId out;
    out.mcc = static_cast<int>(reader_.integer(cell.require("mcc"), 1, 999));
    out.mnc = static_cast<int>(reader_.integer(cell.require("mnc"), 0, 999));
    out.lac = reader_.integer(cell.require("lac"), 0, (1LL << 24) - 1);  // LAC is 16 bits, a 5G TAC 24
    out.cid = reader_.integer(cell.require("cid"), 0, (1LL << 36) - 1);  // a 5G NR cell identity is 36 bits
    return out;
  }

  // A condition list may not be empty: in a rule, a missing condition means "any", so an empty
  // list written by mistake would quietly widen an allow rule to everything.
  std::vector<YamlField> condition_items(const YamlField& field) const {
    auto items = reader_.one_or_many(field);
    if (items.empty()) reader_.fail(field, "an empty list would match anything; leave the key out instead");
    return items;
  }

  void parse_rules(const YamlField& field) {
    std::vector<Rule> rules;
    std::map<std::string, YAML::Node> names;
    for (const auto& item : reader_.sequence(field)) {
      const auto entry = reader_.map(item, {"name", "match", "action", "otherwise"});
      if (!item.value.IsMap()) reader_.fail(item, "expected a rule (a mapping with 'action' and 'match')");
      Rule rule;
      rule.line = item.value.Mark().line + 1;
      if (const auto* name = entry.find("name")) {
        rule.name = reader_.string(*name);
        if (const auto [first, inserted] = names.emplace(rule.name, name->value); !inserted)
          reader_.fail(*name, "duplicate rule name '" + rule.name + "' (first at line " + line_of(first->second) + ")");
      }
      if (const auto* match = entry.find("match")) parse_rule_match(*match, rule);
      const auto& action = entry.require("action");
      rule.action = action_from(reader_.choice(action, {"allow", "log", "block", "redact"}));
      if (const auto* otherwise = entry.find("otherwise")) {
        if (rule.action != Action::redact)
          reader_.fail({otherwise->key, otherwise->key, otherwise->path}, "only applies to action: redact");
        rule.otherwise = reader_.choice(*otherwise, {"block", "log"}) == 0 ? Action::block : Action::log;
      }
      rules.push_back(std::move(rule));
    }
    config_.rules = std::move(rules);
  }

  std::string known_devices() const {
    if (config_.devices.empty()) return "no devices are defined";
    std::string out = "defined devices: ";
    for (std::size_t i = 0; i < config_.devices.size(); ++i) out += (i ? ", " : "") + config_.devices[i].name;
    return out;
  }

  void parse_rule_match(const YamlField& field, Rule& rule) const {
    const auto match =
        reader_.map(field, {"device", "devices", "identifier", "identifiers", "host", "hosts", "ip", "cidr", "networks",
                            "port", "ports", "country", "countries", "transport", "transports", "method_of_detection"});
    if (const auto* devices = match.either({"device", "devices"})) {
      for (const auto& item : condition_items(*devices)) {
        auto name = reader_.string(item);
        const bool known = std::any_of(config_.devices.begin(), config_.devices.end(),
                                       [&](const DeviceProfile& device) { return device.name == name; });
        if (!known) reader_.fail(item, "unknown device '" + name + "'; " + known_devices());
        rule.devices.push_back(std::move(name));
      }
    }
    if (const auto* identifiers = match.either({"identifier", "identifiers"})) {
      for (const auto& item : condition_items(*identifiers)) {
        const auto name = reader_.string(item);
        const auto kind = parse_identifier_kind(name);
        if (!kind) reader_.fail(item, "unknown identifier kind '" + name + "'; valid kinds: " + identifier_kind_list());
        rule.identifiers.push_back(*kind);
      }
    }
    if (const auto* hosts = match.either({"host", "hosts"})) {
      condition_items(*hosts);
      rule.hosts = host_globs(*hosts);
    }
    if (const auto* networks_field = match.either({"ip", "cidr", "networks"})) {
      condition_items(*networks_field);
      rule.networks = networks(*networks_field, networks_field->key.Scalar() == "ip");
    }
    if (const auto* ports = match.either({"port", "ports"}))
      for (const auto& item : condition_items(*ports))
        rule.ports.push_back(static_cast<std::uint16_t>(reader_.integer(item, 1, 65535)));
    if (const auto* countries = match.either({"country", "countries"}))
      for (const auto& item : condition_items(*countries)) rule.countries.push_back(country(item));
    if (const auto* transports = match.either({"transport", "transports"})) {
      static constexpr std::string_view names[] = {"http", "https", "tcp", "tls-passthrough", "dns"};
      for (const auto& item : condition_items(*transports))
        rule.transports.emplace_back(names[reader_.choice(item, {"http", "https", "tcp", "tls-passthrough", "dns"})]);
    }
    if (const auto* method = match.find("method_of_detection"))
      rule.method_of_detection = reader_.choice(*method, {"known", "heuristic"}) == 0 ? "known" : "heuristic";
  }

  // Detector names are checked by the detector registry, which knows them; here only the shape.
  void parse_detectors(const YamlField& field) {
    std::map<std::string, DetectorSettings> detectors;
    const auto names = reader_.map(field, {});
    for (const auto& entry : names.entries()) {
      DetectorSettings settings;
      if (entry.value.IsNull()) {
        settings.options = YAML::Node(YAML::NodeType::Map);
      } else if (entry.value.IsMap()) {
        // Checks duplicates and key shapes; any key is allowed, the detector knows its options.
        const auto options = reader_.map(entry, {});
        if (const auto* enabled = options.find("enabled")) settings.enabled = reader_.boolean(*enabled);
        settings.options = entry.value;
        settings.options.remove("enabled");
      } else {
        reader_.fail(entry, "expected a mapping of detector options (like {enabled: false})");
      }
      detectors[entry.key.Scalar()] = std::move(settings);
    }
    config_.detectors = std::move(detectors);
  }

  YamlReader reader_;
  Config config_;
};

ConfigSnapshot parse_config(const std::string& text, const std::string& source, const Config& base) {
  return ConfigParser(source, base).parse(text);
}

}  // namespace

ConfigError::ConfigError(std::string file, int line, int column, std::string message)
    : std::runtime_error(line > 0 ? file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message
                                  : file + ": " + message),
      file_(std::move(file)),
      line_(line),
      column_(column),
      message_(std::move(message)) {}

namespace {
YAML::Mark mark_of(const YAML::Node& node) { return node.IsDefined() ? node.Mark() : YAML::Mark::null_mark(); }
}  // namespace

ConfigError::ConfigError(std::string file, const YAML::Node& node, std::string message)
    : ConfigError(std::move(file), mark_of(node).is_null() ? 0 : mark_of(node).line + 1,
                  mark_of(node).is_null() ? 0 : mark_of(node).column + 1, std::move(message)) {}

std::string_view to_string(Action action) {
  switch (action) {
    case Action::allow:
      return "allow";
    case Action::log:
      return "log";
    case Action::block:
      return "block";
    case Action::redact:
      return "redact";
  }
  return "unknown";
}

const std::string& default_config_text() { return default_config_text_storage(); }

ConfigSnapshot default_config() {
  // Parsed once; a snapshot is immutable, so every caller can share it.
  static const ConfigSnapshot config = parse_config(default_config_text(), Config{}.source, Config{});
  return config;
}

ConfigSnapshot load_config_text(const std::string& text, const std::string& source) {
  return parse_config(text, source, *default_config());
}

ConfigSnapshot load_config_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError(path, 0, 0, "is a directory, not a configuration file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, 0, 0, std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(path, 0, 0, std::string("cannot read: ") + std::strerror(errno));
  return load_config_text(text.str(), path);
}

}  // namespace leakguard
