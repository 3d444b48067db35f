// leakguard run [-c FILE]: loads the configuration (or the embedded default), binds the listeners
// and serves until SIGINT/SIGTERM. Control-plane failures exit non-zero with a clear message.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "app/commands.hpp"
#include "config/config.hpp"
#include "events/event_log.hpp"
#include "proxy/proxy_context.hpp"
#include "proxy/server.hpp"

namespace leakguard {

int run_command(Arguments args) {
  std::string config_path;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "-c" || args[i] == "--config") && i + 1 < args.size()) {
      config_path = std::string(args[++i]);
    } else {
      std::fprintf(stderr, "usage: leakguard run [-c FILE]\n");
      return 2;
    }
  }
  const auto load = [config_path]() { return config_path.empty() ? default_config() : load_config_file(config_path); };

  // Signals are handled by the server's signal_set; block them in every thread it starts.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) sigaddset(&signals, s);
  std::signal(SIGPIPE, SIG_IGN);

  try {
    const auto config = load();
    EventLog events(config->events_path);
    ProxyContext context(config, events);
    // The threading model is fixed to the faster one (bench/RESULTS.md); the variable exists so
    // the benchmark can compare both with one binary.
    const char* threading = std::getenv("LEAKGUARD_THREADING");
    ProxyServer server(context,
                       threading && std::string(threading) == "shared" ? ProxyServer::Threading::shared
                                                                       : ProxyServer::Threading::per_core,
                       load);
    server.bind();
    return server.run();
  } catch (const ConfigError& error) {
    std::fprintf(stderr, "leakguard: %s\n", error.what());
    return 2;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "leakguard: %s\n", error.what());
    return 1;
  }
}

}  // namespace leakguard
