#include <cstdio>

#include "app/commands.hpp"

namespace leakguard {
int ca_command(Arguments) {
  std::fputs("leakguard: 'ca' is not built yet\n", stderr);
  return 2;
}
}  // namespace leakguard
