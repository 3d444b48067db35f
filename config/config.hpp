// The validated, immutable configuration. The YAML loader (config_loader.cpp) is the only place
// that knows the file format; everything else reads these structs through a
// std::shared_ptr<const Config> snapshot, so a SIGHUP reload never changes a running exchange.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/identifier_kind.hpp"
#include "common/ip_network.hpp"

namespace leakguard {

// A configuration error always says where: file, line and column (1-based), and what is wrong.
// what() is "FILE:LINE:COL: message"; line 0 means "no position" (the file cannot be read, or a
// node built by code rather than parsed) and what() is then "FILE: message".
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, int line, int column, std::string message);
  // At a parsed node: converts yaml-cpp's 0-based mark. Detector factories use this for errors in
  // their `detectors.NAME` options (Config::source names the file).
  ConfigError(std::string file, const YAML::Node& node, std::string message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  int line_;
  int column_;
  std::string message_;
};

enum class Action { allow, log, block, redact };

struct ListenAddress {
  std::string host;  // literal IPv4 or IPv6 address, canonical form, no brackets
  std::uint16_t port = 0;
  // "127.0.0.1:8080" or "[::1]:8080"; the port is 0 (any free port) to 65535, decimal, no sign.
  static std::optional<ListenAddress> parse(std::string_view text);
  std::string to_string() const;  // the same form, brackets around IPv6
  bool operator==(const ListenAddress&) const = default;
};

struct MacAddress {
  std::array<std::uint8_t, 6> octets{};
  static std::optional<MacAddress> parse(std::string_view text);  // "a4:50:46:12:34:56", '-' or none
  std::string to_string() const;                                  // lower case, ':'-separated
  bool operator==(const MacAddress&) const = default;
};

struct GeoPoint {
  double lat = 0;
  double lon = 0;
};

struct CellId {
  int mcc = 0;
  int mnc = 0;
  std::int64_t lac = 0;
  std::int64_t cid = 0;
};

struct DeviceMatch {
  std::optional<IpNetwork> network;  // `ip` (a /32 or /128) or `cidr`
  std::optional<MacAddress> mac;
};

struct DeviceProfile {
  std::string name;
  DeviceMatch match;
  // String-valued identifiers (imei, imsi, iccid, msisdn, serial, mac, android_id, gaid, email);
  // each kind may list several values (a dual-SIM phone has two IMEIs).
  std::map<IdentifierKind, std::vector<std::string>> values;
  std::vector<GeoPoint> locations;
  std::vector<CellId> cells;
};

// One policy rule: every present condition must hold; first matching rule wins.
struct Rule {
  std::string name;
  std::vector<std::string> devices;          // device profile names; empty = any
  std::vector<IdentifierKind> identifiers;   // empty = any (a rule with no identifier condition
                                             // also matches exchanges without findings)
  std::vector<std::string> hosts;            // host globs ("*.vnet.cn")
  std::vector<IpNetwork> networks;           // destination IP / CIDR
  std::vector<std::uint16_t> ports;
  std::vector<std::string> countries;        // ISO 3166 alpha-2, upper case
  std::vector<std::string> transports;       // http, https, tcp, tls-passthrough, dns
  std::optional<std::string> method_of_detection;  // known | heuristic
  Action action = Action::log;
  Action otherwise = Action::block;          // for redact, where redaction is impossible
  int line = 0;                              // where the rule is in the file, for events
};

// `detectors:` — each built-in detector reads its own options; the loader keeps the node (with
// its marks) so the detector's factory can report errors with line and column.
// `options` is that mapping without its `enabled` key (an empty mapping when there are no other
// keys), so a factory can reject keys it does not know without special-casing `enabled`.
struct DetectorSettings {
  bool enabled = true;
  YAML::Node options;
};

struct TlsSettings {
  enum class Intercept { none, all, hosts };
  Intercept intercept = Intercept::none;
  std::vector<std::string> intercept_hosts;  // globs, when intercept == hosts
  std::vector<std::string> passthrough;      // globs never intercepted
  std::string ca_dir = "certs";
  std::string upstream_ca = "/etc/ssl/certs/ca-certificates.crt";
  std::size_t leaf_cache_size = 1024;
  std::chrono::seconds pinned_ttl{3600};     // how long a pinning client/host pair is passed through
};

struct Limits {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds first_bytes_timeout{2000};  // silent client: treat as server-first raw TCP
  std::chrono::milliseconds shutdown_grace{5000};
  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_connections = 10000;
  std::size_t max_inspect_bytes = 1024 * 1024;
  std::size_t raw_inspect_window = 4096;
  std::chrono::milliseconds raw_inspect_timeout{200};
};

// How redirected connections reach the listener: nftables REDIRECT (the original destination is
// read back from conntrack) or TPROXY (the listener is IP_TRANSPARENT and the connection's local
// address is the original destination; for a proxy that must keep the client's address).
enum class TransparentMode { redirect, tproxy };

// Descriptor sets for naming protobuf fields (detectors/decoders/protobuf_schema.hpp).
struct ProtobufSettings {
  std::vector<std::string> descriptor_sets;           // files written by protoc --descriptor_set_out
  std::map<std::string, std::string> messages;        // request path -> message full name
};

// `dns:` the forwarder (proxy/dns_forwarder.*): off when the key is absent. Listeners and upstreams
// are read at start; a reload keeps them (inspection and policy follow the reload).
struct DnsSettings {
  std::vector<ListenAddress> listen;    // UDP and TCP on each; port 0 picks one free for both
  std::vector<ListenAddress> upstream;  // resolvers, tried in order
  std::chrono::milliseconds timeout{2000};  // per upstream attempt; then the next one, then SERVFAIL
  std::size_t max_pending = 1024;       // queries waiting for an upstream at once; more get SERVFAIL
};

struct Config {
  std::string source = "<embedded default>";  // file the configuration came from
  std::vector<ListenAddress> listen;
  TransparentMode transparent = TransparentMode::redirect;
  std::vector<IpNetwork> clients_allow;
  Action mode = Action::log;
  Action oversize = Action::block;  // request bigger than max_inspect_bytes in block mode
  std::string events_path = "-";
  unsigned workers = 0;             // 0: one per core
  std::string geoip_database;       // optional MaxMind .mmdb
  std::string home_country;         // ISO alpha-2, for reports
  std::optional<ListenAddress> admin_listen;  // /metrics and /healthz; off unless set
  TlsSettings tls;
  std::optional<DnsSettings> dns;
  Limits limits;
  std::vector<DeviceProfile> devices;
  std::vector<Rule> rules;
  std::map<std::string, DetectorSettings> detectors;
  ProtobufSettings protobuf;
};

using ConfigSnapshot = std::shared_ptr<const Config>;

// Loads and validates a file; throws ConfigError naming file, line and column.
ConfigSnapshot load_config_file(const std::string& path);
// The same from text (`source` names it in errors).
ConfigSnapshot load_config_text(const std::string& text, const std::string& source);
// The embedded default: listen on 127.0.0.1:8080, loopback clients only, log mode, no interception.
ConfigSnapshot default_config();
const std::string& default_config_text();

std::string_view to_string(Action action);

}  // namespace leakguard
