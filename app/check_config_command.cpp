// leakguard check-config FILE: loads the file exactly as `run` would, including every detector's
// options, and prints either "FILE: ok" or "FILE:LINE:COLUMN: what is wrong".
#include <cstdio>

#include "app/commands.hpp"
#include "config/config.hpp"
#include "proxy/proxy_context.hpp"

namespace leakguard {

int check_config_command(Arguments args) {
  if (args.size() != 1) {
    std::fputs("usage: leakguard check-config FILE\n", stderr);
    return 2;
  }
  const std::string path(args[0]);
  try {
    // The same snapshot `run` builds: detector options and device values are checked by the
    // detectors themselves, the GeoIP database is opened.
    build_runtime_snapshot(load_config_file(path));
  } catch (const ConfigError& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return 1;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), error.what());
    return 1;
  }
  std::printf("%s: ok\n", path.c_str());
  return 0;
}

}  // namespace leakguard
