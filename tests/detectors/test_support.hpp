// Shared helpers for the detector tests: configurations from YAML text, requests from raw bytes
// (through the real HTTP codec), a `scan`-like driver, and compression for building inputs
// (the lab phone and gzip, which the fuzz targets and benchmarks use too, are in tests/support/).
#pragma once

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <brotli/encode.h>
#include <openssl/evp.h>
#include <doctest/doctest.h>
#include <zlib.h>

#include "config/config.hpp"
#include "tests/support/inputs.hpp"
#include "detectors/decoders/hex.hpp"
#include "detectors/inspector.hpp"
#include "proxy/http_codec.hpp"

namespace leakguard::test {

inline ConfigSnapshot config_from(const std::string& yaml) { return load_config_text(yaml, "test.yaml"); }

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

inline HttpRequest parse_request(const std::string& bytes) {
  auto captured = parse_captured_requests(bytes, 1 << 20);
  REQUIRE_MESSAGE(captured.requests.size() == 1, "not one request: " << captured.error.value_or(""));
  return captured.requests.front();
}

inline HttpRequest make_request(std::string method, std::string target, std::vector<HttpHeader> headers = {},
                                std::string body = {}) {
  HttpRequest request;
  request.head.method = std::move(method);
  request.head.target = std::move(target);
  request.head.headers.push_back({"Host", "api.example.com"});
  for (auto& header : headers) request.head.headers.push_back(std::move(header));
  request.body = std::move(body);
  return request;
}

// What `leakguard scan` does with one capture: requests, then the rest as a raw stream.
inline InspectionResult scan_capture(const Inspector& inspector, const std::string& bytes, const InspectionContext& context,
                                     std::size_t read_size = 64 * 1024) {
  InspectionResult result;
  std::string_view raw = bytes;
  if (looks_like_http_request(bytes)) {
    auto captured = parse_captured_requests(bytes, inspector.config().limits.max_inspect_bytes);
    for (const auto& request : captured.requests) inspector.inspect_request(request, context, result);
    raw = captured.remainder;
  }
  if (!raw.empty()) {
    RawStreamScanner scanner = inspector.raw_stream_scanner();
    for (std::size_t offset = 0; offset < raw.size(); offset += read_size)
      scanner.feed(raw.substr(offset, read_size), context, result);
    scanner.finish(context, result);
  }
  return result;
}

inline std::set<std::string> kinds(const InspectionResult& result) {
  std::set<std::string> out;
  for (const auto& finding : result.findings) out.emplace(to_string(finding.kind));
  return out;
}

inline const Finding* find(const InspectionResult& result, IdentifierKind kind, std::string_view encoding = {},
                           std::string_view where = {}) {
  for (const auto& finding : result.findings)
    if (finding.kind == kind && (encoding.empty() || finding.encoding == encoding) && (where.empty() || finding.where == where))
      return &finding;
  return nullptr;
}

inline std::string describe(const InspectionResult& result) {
  std::string out;
  for (const auto& f : result.findings)
    out += std::string(to_string(f.kind)) + " " + std::string(to_string(f.method)) + " " + f.encoding + " " + f.where +
           (f.form.empty() ? "" : " form=" + f.form) + "\n";
  for (const auto& a : result.anomalies) out += "anomaly " + a.anomaly + " " + a.encoding + "\n";
  return out;
}

inline std::string md5_hex(std::string_view text) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), out, &size, EVP_md5(), nullptr);
  return decoders::hex_encode(std::string_view(reinterpret_cast<char*>(out), size));
}

inline std::string brotli(std::string_view data) {
  std::string out(BrotliEncoderMaxCompressedSize(data.size()) + 16, '\0');
  std::size_t size = out.size();
  BrotliEncoderCompress(9, 22, BROTLI_MODE_GENERIC, data.size(), reinterpret_cast<const uint8_t*>(data.data()), &size,
                        reinterpret_cast<uint8_t*>(out.data()));
  out.resize(size);
  return out;
}

}  // namespace leakguard::test
