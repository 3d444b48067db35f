// leakguard run [-c FILE]: loads the configuration (or the embedded default), binds the listeners
// and serves until SIGINT/SIGTERM. Control-plane failures exit non-zero with a clear message.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "app/commands.hpp"
#include "common/free_memory.hpp"
#include "config/config.hpp"
#include "events/event_log.hpp"
#include "proxy/proxy_context.hpp"
#include "proxy/server.hpp"
#include "proxy/tls_interceptor.hpp"

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

  // SIGINT/SIGTERM/SIGHUP/SIGUSR1 are the server's signal_set's (installed when it is built,
  // before `listening on`); a write to a closed peer is an error code, not a signal.
  std::signal(SIGPIPE, SIG_IGN);

  try {
    const auto config = load();
    // The CA is loaded before anything starts: a missing or group/other-readable key is a clear
    // message and a non-zero exit, never a proxy that silently passes everything through.
    std::shared_ptr<TlsInterceptor> interceptor;
    if (config->tls.intercept != TlsSettings::Intercept::none) interceptor = std::make_shared<TlsInterceptor>(config->tls);
    EventLog events(config->events_path);
    ProxyContext context(config, events);
    context.set_tls_interceptor(std::move(interceptor));
    // SIGHUP: the intercept and passthrough lists follow the new snapshot as they are. A new
    // interceptor is built only when interception is turned on or its start-time settings changed
    // (CA directory, trust store, cache size, pinned ttl); that resets the leaf cache and the pinned
    // hosts. A CA that cannot be loaded refuses the whole reload. Interception turned off keeps the
    // interceptor, unused, so turning it on again keeps what it learned.
    const auto reload = [load, &context]() {
      auto next = load();
      if (next->tls.intercept != TlsSettings::Intercept::none) {
        const auto current = context.tls_interceptor();
        if (!current || !current->built_from(next->tls))
          context.set_tls_interceptor(std::make_shared<TlsInterceptor>(next->tls));
      }
      return next;
    };
    // The threading model is fixed to the faster one (bench/RESULTS.md); the variable exists so
    // the benchmark can compare both with one binary.
    const char* threading = std::getenv("LEAKGUARD_THREADING");
    ProxyServer server(context,
                       threading && std::string(threading) == "shared" ? ProxyServer::Threading::shared
                                                                       : ProxyServer::Threading::per_core,
                       reload);
    release_free_memory();  // what loading the configuration freed (bench/RESULTS.md, 1,000 profiles)
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
