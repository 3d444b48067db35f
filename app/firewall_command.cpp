// leakguard firewall print|apply|remove: the nftables rules (firewall/nft_ruleset.hpp) that send a
// client interface's TCP to leakguard. `apply` is idempotent (the table is replaced whole) and needs
// root; `print` shows exactly what `apply` would load, for review or for a boot script.
#include <charconv>
#include <cstdio>
#include <cstring>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "app/commands.hpp"
#include "config/config.hpp"
#include "firewall/nft_ruleset.hpp"

extern char** environ;

namespace leakguard {

namespace {

constexpr const char* firewall_usage =
    "usage: leakguard firewall print|apply|remove --interface IF [--port PORT | -c FILE]\n"
    "                          [--ports P1,P2,...] [--tproxy] [--keep-quic] [--dns-port PORT] [--keep-dot]\n"
    "  --interface IF   the interface the phones are on (wlan0, br-lan, ...)\n"
    "  --port PORT      leakguard's listening port (default: from -c FILE, else 8080)\n"
    "  --ports LIST     intercept only these TCP destination ports (default: all)\n"
    "  --tproxy         TPROXY instead of REDIRECT (run leakguard with `transparent: tproxy`)\n"
    "  --keep-quic      do not drop UDP 443 from clients\n"
    "  --dns-port PORT  send the clients' DNS (UDP and TCP 53) to leakguard's forwarder on PORT\n"
    "                   (default: the first port of dns.listen in -c FILE; no DNS rules without one)\n"
    "  --keep-dot       with DNS rules, do not drop DNS over TLS / QUIC (port 853) from clients\n";

// Runs argv (no shell) with `input` on its standard input; returns the exit status.
int run_process(const std::vector<std::string>& argv, const std::string& input) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[0], STDIN_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[1]);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[0]);
  if (spawned != 0) {
    ::close(pipe_fds[1]);
    std::fprintf(stderr, "leakguard: cannot run %s: %s\n", args[0], std::strerror(spawned));
    return -1;
  }
  for (std::size_t written = 0; written < input.size();) {
    const ssize_t n = ::write(pipe_fds[1], input.data() + written, input.size() - written);
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  ::close(pipe_fds[1]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool parse_port(std::string_view text, std::uint16_t& port) {
  unsigned value = 0;
  const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (err != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

}  // namespace

int firewall_command(Arguments args) {
  if (args.empty()) {
    std::fputs(firewall_usage, stderr);
    return 2;
  }
  const std::string_view action = args[0];
  FirewallOptions options;
  bool port_given = false;
  std::string config_path;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const auto arg = args[i];
    const bool has_value = i + 1 < args.size();
    if (arg == "--interface" && has_value) {
      options.client_interface = std::string(args[++i]);
    } else if (arg == "--port" && has_value) {
      if (!parse_port(args[++i], options.proxy_port)) {
        std::fprintf(stderr, "leakguard firewall: bad --port '%.*s'\n", static_cast<int>(args[i].size()), args[i].data());
        return 2;
      }
      port_given = true;
    } else if (arg == "-c" && has_value) {
      config_path = std::string(args[++i]);
    } else if (arg == "--ports" && has_value) {
      std::string_view list = args[++i];
      while (!list.empty()) {
        const auto comma = list.find(',');
        std::uint16_t port = 0;
        if (!parse_port(list.substr(0, comma), port)) {
          std::fprintf(stderr, "leakguard firewall: bad port in --ports\n");
          return 2;
        }
        options.ports.push_back(port);
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
      }
    } else if (arg == "--tproxy") {
      options.tproxy = true;
    } else if (arg == "--keep-quic") {
      options.drop_quic = false;
    } else if (arg == "--dns-port" && has_value) {
      std::uint16_t port = 0;
      if (!parse_port(args[++i], port)) {
        std::fprintf(stderr, "leakguard firewall: bad --dns-port '%.*s'\n", static_cast<int>(args[i].size()), args[i].data());
        return 2;
      }
      options.dns_port = port;
    } else if (arg == "--keep-dot") {
      options.drop_dot = false;
    } else {
      std::fputs(firewall_usage, stderr);
      return 2;
    }
  }
  if (action != "remove" && !valid_interface_name(options.client_interface)) {
    std::fputs("leakguard firewall: --interface needs a valid interface name\n", stderr);
    return 2;
  }
  if (!config_path.empty() && (!port_given || !options.dns_port)) {
    try {
      const auto config = load_config_file(config_path);
      for (const auto& listen : config->listen)
        if (listen.port != 0 && !port_given) {
          options.proxy_port = listen.port;
          break;
        }
      if (config->dns && !options.dns_port)
        for (const auto& listen : config->dns->listen)
          if (listen.port != 0) {
            options.dns_port = listen.port;
            break;
          }
    } catch (const ConfigError& error) {
      std::fprintf(stderr, "leakguard: %s\n", error.what());
      return 2;
    }
  }

  if (action == "print") {
    std::fputs(nft_apply_script(options).c_str(), stdout);
    if (options.tproxy)
      for (const auto& command : tproxy_routing_commands(options, true)) {
        std::string line;
        for (const auto& part : command) line += (line.empty() ? "" : " ") + part;
        std::printf("# %s\n", line.c_str());
      }
    return 0;
  }
  if (action == "apply") {
    if (options.tproxy) {
      for (const auto& command : tproxy_routing_commands(options, false)) run_process(command, "");  // idempotent
      for (const auto& command : tproxy_routing_commands(options, true))
        if (run_process(command, "") != 0) {
          std::fputs("leakguard firewall: policy routing for TPROXY failed (are you root?)\n", stderr);
          return 1;
        }
    }
    if (run_process({"nft", "-f", "-"}, nft_apply_script(options)) != 0) {
      std::fputs("leakguard firewall: nft refused the rules (are you root? is nftables installed?)\n", stderr);
      return 1;
    }
    std::string dns;
    if (options.dns_port)
      dns = ", DNS (port 53) goes to port " + std::to_string(*options.dns_port) +
            (options.drop_dot ? ", port 853 dropped" : "");
    std::printf("leakguard firewall: TCP from %s goes to port %u (%s)%s%s\n", options.client_interface.c_str(),
                options.proxy_port, options.tproxy ? "TPROXY" : "REDIRECT",
                options.drop_quic ? ", UDP 443 dropped" : "", dns.c_str());
    return 0;
  }
  if (action == "remove") {
    const int status = run_process({"nft", "-f", "-"}, nft_remove_script());
    for (const auto& command : tproxy_routing_commands(options, false)) run_process(command, "");
    return status == 0 ? 0 : 1;
  }
  std::fputs(firewall_usage, stderr);
  return 2;
}

}  // namespace leakguard
