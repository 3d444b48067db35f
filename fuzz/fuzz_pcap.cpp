// A packet capture file, whole, through `leakguard scan`'s path: libpcap on an in-memory stream
// (read through the replay cookie that standard input uses), link and IP decoding, the flow table
// and TCP reassembly, then each client stream through HTTP/TLS/raw inspection. Whatever the
// bytes, no crash, no leak, and the reassembly budget is given back at the end.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdio>
#include <string>

#include "app/scan_capture.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Findings are JSON lines on stdout: nobody reads them here.
  if (!std::freopen("/dev/null", "w", stdout)) __builtin_trap();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leakguard;
  if (size == 0) return 0;
  std::FILE* file = fmemopen(const_cast<std::uint8_t*>(data), size, "rb");
  if (!file) return 0;
  ScanOutput output("fuzz.pcap");
  std::string error;
  // The first bytes go in as "already read" like standard input's sniffed prefix; the rest is
  // read from the stream.
  const std::size_t sniffed = std::min<std::size_t>(size, 1 + data[0] % 64);
  std::fseek(file, static_cast<long>(sniffed), SEEK_SET);
  scan_capture(fuzz::inspector(), file, std::string_view(reinterpret_cast<const char*>(data), sniffed), "fuzz.pcap",
               &fuzz::inspector().config().devices.front(), output, error);
  std::fclose(file);
  return 0;
}
