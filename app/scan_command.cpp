// leakguard scan [-c FILE] [--device NAME] FILE...: offline inspection of captured client-to-server
// bytes with the proxy's own Inspector (design.md, "Command line"). Each file's format is told from
// its content (capture/capture_format.hpp): HAR files are read entry by entry (app/scan_har.hpp),
// HTTP/1.x captures are split into requests; anything
// else, and whatever follows the last request, is scanned as a raw stream (app/scan_stream.hpp).
// Output is JSON Lines on stdout; exit 0 clean, 1 findings (or anomalies), 2 error.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <sys/stat.h>

#include "app/commands.hpp"
#include "app/scan_har.hpp"
#include "app/scan_output.hpp"
#include "app/scan_stream.hpp"
#include "capture/capture_format.hpp"
#include "capture/har_reader.hpp"
#include "config/config.hpp"
#include "detectors/inspector.hpp"

namespace leakguard {
namespace {

constexpr const char* scan_usage = "usage: leakguard scan [-c FILE] [--device NAME] FILE...   ('-' reads standard input)\n";

// An opened input: standard input for "-". Closed on destruction unless it is stdin.
struct InputFile {
  std::FILE* file = nullptr;
  ~InputFile() {
    if (file && file != stdin) std::fclose(file);
  }
};

// Appends at most `limit` bytes (all, when limit is 0) of `file` to `out`.
bool read_bytes(std::FILE* file, std::string& out, std::size_t limit, std::string& error) {
  char buffer[64 * 1024];
  while (limit == 0 || out.size() < limit) {
    const std::size_t want = limit == 0 ? sizeof buffer : std::min(sizeof buffer, limit - out.size());
    const std::size_t got = std::fread(buffer, 1, want, file);
    if (got == 0) break;
    out.append(buffer, got);
  }
  if (std::ferror(file)) {
    error = std::strerror(errno);
    return false;
  }
  return true;
}

// Room for the whole of a regular file plus `extra` bytes, so reading it never reallocates (a HAR
// can be hundreds of megabytes). Pipes and standard input grow as they are read.
void reserve_for_file(std::FILE* file, std::string& bytes, std::size_t extra) {
  struct stat status {};
  if (::fstat(::fileno(file), &status) == 0 && S_ISREG(status.st_mode) && status.st_size > 0)
    bytes.reserve(static_cast<std::size_t>(status.st_size) + extra);
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
    InputFile input{path == "-" ? stdin : std::fopen(path.c_str(), "rb")};
    std::string bytes;
    std::string error;
    if (!input.file || !read_bytes(input.file, bytes, capture_sniff_bytes, error)) {
      std::fprintf(stderr, "leakguard scan: %s: %s\n", path.c_str(), input.file ? error.c_str() : std::strerror(errno));
      failed = true;
      continue;
    }
    // The content says what the file is, not its name.
    const CaptureFormat format = sniff_capture_format(bytes);
    ScanOutput output(path);
    switch (format) {
      case CaptureFormat::har: {
        // simdjson's padding fits behind the file's bytes, so the parser reads them in place.
        reserve_for_file(input.file, bytes, har_padding());
        if (!read_bytes(input.file, bytes, 0, error)) {
          std::fprintf(stderr, "leakguard scan: %s: %s\n", path.c_str(), error.c_str());
          failed = true;
          continue;
        }
        if (!scan_har(*inspector, path, bytes, context, output)) failed = true;
        break;
      }
      case CaptureFormat::pcap:
      case CaptureFormat::pcapng:
      case CaptureFormat::http:
      case CaptureFormat::raw: {
        if (!read_bytes(input.file, bytes, 0, error)) {
          std::fprintf(stderr, "leakguard scan: %s: %s\n", path.c_str(), error.c_str());
          failed = true;
          continue;
        }
        std::string problem;
        scan_client_stream(*inspector, bytes, context, output, nullptr, &problem);
        if (!problem.empty()) {
          // A cut or malformed HTTP capture: what was read is reported, and the exit status says so.
          std::fprintf(stderr, "leakguard scan: %s: %s\n", path.c_str(), problem.c_str());
          failed = true;
        }
        break;
      }
    }
    found = found || output.found();
  }
  std::fflush(stdout);
  if (failed) return 2;
  return found ? 1 : 0;
}

}  // namespace leakguard
