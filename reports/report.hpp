// The report model and the streaming aggregation that fills it: events go in one at a time and
// only the aggregate stays (one row per device x destination x identifier kind), so a report of
// a 1 GB log needs memory in proportion to what leaked, not to the size of the log.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/event_reader.hpp"

namespace leakguard::reports {

using Json = nlohmann::json;

// Value sets in a row (transports, encodings, ...) keep at most this many distinct values, so one
// noisy detector cannot grow a row without bound; `truncated` says when more were seen.
inline constexpr std::size_t max_values_per_set = 16;

struct BoundedSet {
  std::set<std::string> values;
  bool truncated = false;
  std::size_t limit = max_values_per_set;
  void insert(std::string_view value);
};

// One row: what one device sent to one destination, for one identifier kind.
struct LeakRow {
  std::string device;
  std::string host;     // empty when unknown (raw TCP without SNI)
  std::string ip;
  std::string country;  // ISO alpha-2, empty when unknown
  std::string identifier;
  std::uint64_t count = 0;
  std::string first_seen;
  std::string last_seen;
  BoundedSet ports;
  BoundedSet transports;
  BoundedSet encodings;
  BoundedSet detections;  // method_of_detection: known | heuristic
  std::map<std::string, std::uint64_t> actions;  // logged | blocked | redacted | allowed | scanned (`scan`)
  int severity = 0;  // the worst of its findings (reports/severity.hpp)

  // "host" when known, else the IP: what the baseline diff compares.
  std::string destination() const;
};

// Share of a device's connections by how leakguard saw them (from `conn` close and `tls` events).
struct Coverage {
  std::uint64_t connections = 0;  // conn close events
  std::uint64_t decrypted = 0;    // transport https
  std::uint64_t plaintext = 0;    // transport http
  std::uint64_t passthrough = 0;  // transport tls-passthrough, less the pinned ones
  std::uint64_t pinned = 0;       // tls passthrough events with "passthrough":"pinned"
  std::uint64_t raw = 0;          // transport tcp
  std::uint64_t other = 0;        // no or an unknown transport (refused, closed before sniffing)
  std::uint64_t tls_failed = 0;   // tls client_rejected / upstream_verify_failed events
};

// What a device asked leakguard's DNS forwarder (`dns` events) and which names leaked (findings with
// transport dns; their names are masked as in the events). Names beyond the bound are counted only.
inline constexpr std::size_t max_dns_names = 256;
struct DnsActivity {
  std::uint64_t queries = 0;
  std::uint64_t blocked = 0;  // answered by leakguard (NXDOMAIN) for a leak or a forbidden name
  BoundedSet names{{}, false, max_dns_names};
  BoundedSet leaking{{}, false, max_dns_names};
  BoundedSet blocked_names{{}, false, max_dns_names};
};

struct DeviceSummary {
  std::string device;
  std::uint64_t findings = 0;
  int max_severity = 0;
  std::set<std::string> identifiers;
  std::size_t destinations = 0;
  Coverage coverage;
  DnsActivity dns;
};

struct InputProblem {
  std::string file;
  std::size_t line = 0;  // 0: the whole file (cannot open, read error), or a line given without number
  std::string reason;
  bool whole_file = false;  // the file could not be opened or read to its end
};

struct InputSummary {
  std::vector<std::string> files;
  std::uint64_t lines = 0;
  std::uint64_t events = 0;
  std::uint64_t malformed_lines = 0;    // not JSON, not an object, no "type", too long
  std::uint64_t skipped_findings = 0;   // finding events without an identifier kind
  std::map<std::string, std::uint64_t> event_types;  // by "type", unknown ones included
  std::vector<InputProblem> problems;   // every unreadable file, and the first few malformed lines
  std::uint64_t problems_dropped = 0;   // malformed lines beyond those kept as examples
  std::uint64_t read_errors = 0;
};

struct Report {
  std::string home_country;
  InputSummary inputs;
  std::vector<DeviceSummary> devices;  // worst first, then by name
  std::vector<LeakRow> leaks;          // worst first, then device, destination, identifier
};

struct ReportOptions {
  std::string home_country;
  LineReaderLimits limits;
  std::size_t max_problem_examples = 20;
  std::size_t max_event_types = 64;  // distinct "type" values counted by name; the rest as "(other)"
};

// "lab-phone-01" from the event's `device`, else "client 10.42.0.12" from `client`, else (`scan` output
// without a profile) "source capture.har" from `source`.
std::string device_of(const Json& event);

class ReportBuilder {
 public:
  explicit ReportBuilder(ReportOptions options);

  // Reads one file (plain or .gz, "-" for stdin). Returns false when it could not be opened; a
  // read error part-way keeps what came before it. Both are recorded in the input problems.
  bool add_file(const std::string& path);
  // One line of a log; `file` and `line_number` only name it in problems.
  void add_line(std::string_view line, std::string_view file = "<input>", std::size_t line_number = 0);
  // One parsed event. Unknown types and fields are counted and otherwise ignored.
  void add_event(const Json& event);

  Report finish() const;

 private:
  struct RowKey {
    std::string device, host, ip, country, identifier;
    auto operator<=>(const RowKey&) const = default;
  };
  struct DeviceState {
    Coverage coverage;
    DnsActivity dns;
    std::uint64_t tls_passthrough = 0;  // conn closes with tls-passthrough, pinned ones included
  };

  void add_finding(const Json& event);
  void add_conn(const Json& event);
  void add_tls(const Json& event);
  void add_dns(const Json& event);
  void problem(std::string_view file, std::size_t line, std::string reason, bool whole_file = false);

  ReportOptions options_;
  InputSummary inputs_;
  std::map<RowKey, LeakRow> rows_;
  std::map<std::string, DeviceState> devices_;
};

}  // namespace leakguard::reports
