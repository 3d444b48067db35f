// Entry point: dispatches to the subcommands listed in app/commands.hpp.
#include <cstdio>
#include <string_view>
#include <vector>

#include "app/commands.hpp"

namespace {

constexpr const char* usage =
    "usage: leakguard <command> [options]\n"
    "       leakguard --version                   the version and the libraries it was built with\n"
    "\n"
    "commands:\n"
    "  run [-c FILE]                              run the proxy (embedded default without -c)\n"
    "  scan [-c FILE] [--device NAME] FILE...     inspect captured client-to-server bytes ('-' is stdin);\n"
    "                                             exit 0 clean, 1 findings, 2 error\n"
    "  check-config FILE                          validate a configuration file\n"
    "  ca init [--dir DIR] [--rsa] [--force]      create the TLS interception CA\n"
    "  firewall print|apply|remove --interface IF [--port PORT] [--ports LIST] [--tproxy]\n"
    "                                             nftables rules that send clients' TCP to leakguard\n"

    "  report [--baseline OLD... --] EVENTS...    leaks per device and destination (html, md, json)\n"
    "\n"
    "leakguard COMMAND --help (or leakguard help COMMAND) describes one command; each has a man page,\n"
    "leakguard-COMMAND(1).\n";

struct Command {
  std::string_view name;
  int (*handler)(leakguard::Arguments);
};

constexpr Command commands[] = {
    {"run", leakguard::run_command},
    {"scan", leakguard::scan_command},
    {"check-config", leakguard::check_config_command},
    {"ca", leakguard::ca_command},
    {"firewall", leakguard::firewall_command},
    {"report", leakguard::report_command},
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || (args[0] == "help" && args.size() == 1)) {
    std::fputs(usage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "-V") return leakguard::version_command();
  if (args[0] == "help") {
    if (args.size() == 2 && args[1] == "--commands") {
      leakguard::print_command_list();
      return 0;
    }
    if (args.size() == 2 && leakguard::print_command_help(args[1])) return 0;
    std::fputs(usage, stderr);
    return 2;
  }
  if (args.size() >= 2 && (args[1] == "--help" || args[1] == "-h") && leakguard::print_command_help(args[0])) return 0;
  for (const auto& command : commands)
    if (command.name == args[0]) return command.handler(leakguard::Arguments(args).subspan(1));
  std::fprintf(stderr, "leakguard: unknown command '%.*s'\n\n%s", static_cast<int>(args[0].size()), args[0].data(),
               usage);
  return 2;
}
