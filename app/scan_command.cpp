#include <cstdio>

#include "app/commands.hpp"

namespace leakguard {
int scan_command(Arguments) {
  std::fputs("leakguard: 'scan' is not built yet\n", stderr);
  return 2;
}
}  // namespace leakguard
