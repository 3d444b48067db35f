// libFuzzer target for the ClientHello parser: it reads the first bytes of every connection, from
// any client, before anything else has judged them, so it must survive every input and keep its
// promises (bytes_needed grows, ok never claims bytes it was not given).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "proxy/tls_client_hello.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using leakguard::ClientHelloStatus;
  const std::span<const std::uint8_t> input(data, size);
  const auto result = leakguard::parse_client_hello(input);
  switch (result.status) {
    case ClientHelloStatus::ok:
      if (result.hello.record_bytes > size || result.hello.record_bytes > leakguard::max_client_hello_bytes ||
          result.hello.server_name.size() > 255)
        std::abort();
      // The parse must not depend on bytes past the hello.
      if (leakguard::parse_client_hello(input.first(result.hello.record_bytes)).status != ClientHelloStatus::ok)
        std::abort();
      break;
    case ClientHelloStatus::need_more:
      if (result.bytes_needed <= size || result.bytes_needed > leakguard::max_client_hello_bytes) std::abort();
      break;
    case ClientHelloStatus::not_tls:
    case ClientHelloStatus::malformed:
      break;
  }
  return 0;
}
