// leakguard scan [-c FILE] [--device NAME] FILE...: offline inspection of captured client-to-server
// bytes with the proxy's own Inspector (design.md, "Command line"). HTTP/1.x captures are split
// into requests; anything else, and whatever follows the last request, is scanned as a raw stream.
// Output is JSON Lines on stdout; exit 0 clean, 1 findings (or anomalies), 2 error.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/commands.hpp"
#include "common/mask.hpp"
#include "config/config.hpp"
#include "detectors/inspector.hpp"
#include "events/event_log.hpp"
#include "proxy/http_codec.hpp"

namespace leakguard {
namespace {

constexpr const char* scan_usage = "usage: leakguard scan [-c FILE] [--device NAME] FILE...   ('-' reads standard input)\n";
constexpr std::size_t raw_chunk = 64 * 1024;

bool read_input(const std::string& path, std::string& out, std::string& error) {
  std::FILE* file = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!file) {
    error = std::strerror(errno);
    return false;
  }
  char buffer[64 * 1024];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file)) > 0) out.append(buffer, got);
  const bool failed = std::ferror(file);
  if (failed) error = std::strerror(errno);
  if (file != stdin) std::fclose(file);
  return !failed;
}

std::string request_url(const HttpRequestHead& head) {
  if (!head.target.empty() && head.target.front() == '/') return "http://" + std::string(head.host()) + head.target;
  return head.target;
}

class ScanOutput {
 public:
  explicit ScanOutput(std::string source) : source_(std::move(source)) {}

  void report(const InspectionResult& result, std::string_view transport, const HttpRequestHead* head) {
    const std::vector<std::string> secrets = secrets_of(result);
    for (const auto& finding : result.findings) {
      nlohmann::ordered_json event = start("finding", transport, head, secrets);
      const nlohmann::json fields = finding_event_fields(finding, secrets);
      // design.md order first, then the extras.
      for (const char* key : {"device", "identifier", "detector", "method_of_detection", "encoding", "where", "value",
                              "form", "learned"})
        if (fields.contains(key)) event[key] = fields[key];
      write(event);
    }
    for (const auto& anomaly : result.anomalies) {
      nlohmann::ordered_json event = start("anomaly", transport, head, secrets);
      const nlohmann::json fields = anomaly_event_fields(anomaly, secrets);
      for (const char* key : {"anomaly", "where", "encoding", "detail", "input_bytes", "output_bytes"})
        if (fields.contains(key)) event[key] = fields[key];
      write(event);
    }
    if (!result.empty()) found_ = true;
  }

  bool found() const { return found_; }

 private:
  nlohmann::ordered_json start(const char* type, std::string_view transport, const HttpRequestHead* head,
                               const std::vector<std::string>& secrets) {
    nlohmann::ordered_json event;
    event["type"] = type;
    event["ts"] = rfc3339_now();
    event["source"] = source_;
    event["transport"] = std::string(transport);
    if (head) {
      event["method"] = head->method;
      event["url"] = mask_occurrences(request_url(*head), secrets);
    }
    return event;
  }

  void write(const nlohmann::ordered_json& event) {
    std::string line = event.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
  }

  std::string source_;
  bool found_ = false;
};

void scan_raw(const Inspector& inspector, std::string_view bytes, const InspectionContext& context, ScanOutput& output) {
  RawStreamScanner scanner = inspector.raw_stream_scanner();
  InspectionResult result;
  // Fed in reads, as the proxy would: the same code path, split identifiers included.
  for (std::size_t offset = 0; offset < bytes.size(); offset += raw_chunk) {
    scanner.feed(bytes.substr(offset, raw_chunk), context, result);
    output.report(result, "tcp", nullptr);
    result.clear();
  }
  scanner.finish(context, result);
  output.report(result, "tcp", nullptr);
}

}  // namespace

int scan_command(Arguments args) {
  std::optional<std::string> config_path;
  std::optional<std::string> device_name;
  std::vector<std::string> files;
  bool options_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (!options_done && (arg == "-c" || arg == "--config" || arg == "--device")) {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "leakguard scan: %.*s needs a value\n%s", static_cast<int>(arg.size()), arg.data(), scan_usage);
        return 2;
      }
      (arg == "--device" ? device_name : config_path) = std::string(args[++i]);
    } else if (!options_done && (arg == "-h" || arg == "--help")) {
      std::fputs(scan_usage, stdout);
      return 0;
    } else if (!options_done && arg == "--") {
      options_done = true;
    } else if (!options_done && arg.size() > 1 && arg[0] == '-') {
      std::fprintf(stderr, "leakguard scan: unknown option '%.*s'\n%s", static_cast<int>(arg.size()), arg.data(), scan_usage);
      return 2;
    } else {
      files.emplace_back(arg);
    }
  }
  if (files.empty()) {
    std::fputs(scan_usage, stderr);
    return 2;
  }

  std::optional<Inspector> inspector;
  try {
    inspector.emplace(config_path ? load_config_file(*config_path) : default_config());
  } catch (const ConfigError& error) {
    std::fprintf(stderr, "leakguard scan: %s\n", error.what());
    return 2;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "leakguard scan: %s\n", error.what());
    return 2;
  }

  // Offline there is no client address to match a profile by: one profile is used as is, several
  // need --device. Without a profile only heuristics run.
  const Config& config = inspector->config();
  const DeviceProfile* device = nullptr;
  if (device_name) {
    device = inspector->device(*device_name);
    if (!device) {
      std::fprintf(stderr, "leakguard scan: no device profile named '%s' in %s\n", device_name->c_str(),
                   config.source.c_str());
      return 2;
    }
  } else if (config.devices.size() == 1) {
    device = &config.devices.front();
  } else if (config.devices.size() > 1) {
    std::fprintf(stderr, "leakguard scan: %s has %zu device profiles; choose one with --device NAME\n",
                 config.source.c_str(), config.devices.size());
    return 2;
  }

  LearnedValues learned;
  InspectionContext context;
  context.device = device;
  context.learned = device ? &learned : nullptr;  // values are learned for a device, and there is none
  bool failed = false;
  bool found = false;
  for (const auto& path : files) {
    std::string bytes;
    std::string error;
    if (!read_input(path, bytes, error)) {
      std::fprintf(stderr, "leakguard scan: %s: %s\n", path.c_str(), error.c_str());
      failed = true;
      continue;
    }
    ScanOutput output(path);
    std::string_view raw = bytes;
    if (looks_like_http_request(bytes)) {
      const CapturedRequests captured = parse_captured_requests(bytes, config.limits.max_inspect_bytes);
      context.transport = "http";
      HeaderMemo memo;  // a capture file is one connection's requests, as the proxy sees them
      context.header_memo = &memo;
      for (const auto& request : captured.requests) output.report(inspector->inspect_request(request, context), "http", &request.head);
      if (captured.error && !captured.remainder.empty())
        std::fprintf(stderr, "leakguard scan: %s: %s; the last %zu bytes are scanned as raw bytes\n", path.c_str(),
                     captured.error->c_str(), captured.remainder.size());
      context.header_memo = nullptr;
      raw = captured.remainder;
    }
    if (!raw.empty()) {
      context.transport = "tcp";
      scan_raw(*inspector, raw, context, output);
    }
    found = found || output.found();
  }
  std::fflush(stdout);
  if (failed) return 2;
  return found ? 1 : 0;
}

}  // namespace leakguard
