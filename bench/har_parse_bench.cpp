// HAR parsing alone, to choose the JSON parser for `leakguard scan` (issue 17): leakguard's reader
// (simdjson On-Demand, requests rebuilt, no inspection) against nlohmann::json's DOM over the same
// file with the same walk over log.entries. Peak RSS comes from /usr/bin/time (bench/har_bench.sh).
//   usage: har_parse_bench reader|nlohmann FILE.har
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "capture/har_reader.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s reader|nlohmann FILE.har\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  const auto start = std::chrono::steady_clock::now();
  std::ifstream in(argv[2], std::ios::binary);
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::size_t>(in.tellg());
  std::string bytes;
  bytes.reserve(size + leakguard::har_padding());
  bytes.resize(size);
  in.seekg(0);
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  std::size_t entries = 0, body_bytes = 0;
  if (mode == "reader") {
    leakguard::read_har(
        bytes, 1 << 20,
        [&](leakguard::HarRequest&& entry) {
          ++entries;
          body_bytes += entry.request.body.size();
        },
        [](std::size_t, std::string_view) {});
  } else {
    const auto document = nlohmann::json::parse(bytes);
    for (const auto& entry : document.at("log").at("entries")) {
      ++entries;
      const auto& request = entry.at("request");
      if (request.contains("postData") && request["postData"].contains("text"))
        body_bytes += request["postData"]["text"].get_ref<const std::string&>().size();
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s: %zu entries, %zu body bytes, %.2f s, %.1f MB/s (file read included)\n", mode.c_str(), entries,
              body_bytes, seconds, static_cast<double>(bytes.size()) / 1e6 / seconds);
  return 0;
}
