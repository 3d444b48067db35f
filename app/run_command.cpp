#include <cstdio>

#include "app/commands.hpp"

namespace leakguard {
int run_command(Arguments) {
  std::fputs("leakguard: 'run' is not built yet\n", stderr);
  return 2;
}
}  // namespace leakguard
