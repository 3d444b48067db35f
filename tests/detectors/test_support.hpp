// Shared helpers for the detector tests: configurations from YAML text, requests from raw bytes
// (through the real HTTP codec), a `scan`-like driver, and compression for building inputs.
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
#include "detectors/decoders/hex.hpp"
#include "detectors/inspector.hpp"
#include "proxy/http_codec.hpp"

namespace leakguard::test {

// The shared corpus phone, as design.md shows it.
inline const char* const lab_phone_yaml = R"(devices:
  - name: lab-phone-01
    match: { ip: 10.42.0.11 }
    identifiers:
      imei: "353209091234567"
      imsi: "242016601234567"
      iccid: "8947016601234567890"
      msisdn: "+4791234567"
      serial: "B2NGAA8831702345"
      mac: "a4:50:46:12:34:56"
      android_id: "9774d56d682e549c"
      gaid: "38400000-8cf0-11bd-b23e-10b96e40000d"
      email: "kari.nordmann@example.no"
      location: { lat: 59.913868, lon: 10.752245 }
      cell: { mcc: 242, mnc: 1, lac: 1234, cid: 56789 }
)";

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

inline std::string gzip(std::string_view data, int window_bits = 16 + MAX_WBITS) {
  z_stream stream{};
  deflateInit2(&stream, 9, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, data.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
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
