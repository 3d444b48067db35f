// The subcommands of the `leakguard` binary (design.md, "Command line"). Each takes the arguments
// after its own name and returns the process exit status.
#pragma once

#include <span>
#include <string_view>

namespace leakguard {

using Arguments = std::span<const std::string_view>;

int run_command(Arguments args);           // leakguard run [-c FILE]
int scan_command(Arguments args);          // leakguard scan [-c FILE] [--device NAME] FILE...
int check_config_command(Arguments args);  // leakguard check-config FILE
int ca_command(Arguments args);            // leakguard ca init [--dir DIR] [--rsa] [--force]
int firewall_command(Arguments args);      // leakguard firewall print|apply|remove --interface IF ...
int report_command(Arguments args);        // leakguard report [--baseline OLD... --] EVENTS...
int version_command();                     // leakguard --version

// app/help.cpp: the one text of each command's --help and man page.
bool print_command_help(std::string_view name);  // false: no such command
void print_command_list();                       // "NAME<TAB>SUMMARY" lines, for scripts/man.sh

}  // namespace leakguard
