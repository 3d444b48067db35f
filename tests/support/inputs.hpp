// Test inputs shared by the unit tests, the fuzz targets and the benchmarks (no test framework
// here): the corpus lab phone's profile and gzip for building compressed bodies.
#pragma once

#include <string>
#include <string_view>

#include <zlib.h>

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

// gzip (or, with other window_bits, zlib or raw deflate) of `data`.
inline std::string gzip(std::string_view data, int window_bits = 16 + MAX_WBITS, int level = 9) {
  z_stream stream{};
  deflateInit2(&stream, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
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

}  // namespace leakguard::test
