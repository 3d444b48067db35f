// DNS messages written byte by byte, for the dns_message unit tests and bench/dns_bench.cpp: a
// header, names as labels (no compression unless the caller writes a pointer), records.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace leakguard::test {

using DnsBytes = std::vector<std::uint8_t>;

inline void put16(DnsBytes& out, unsigned value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value & 0xFF));
}

inline void put_name(DnsBytes& out, const std::string& name) {
  std::size_t start = 0;
  while (start < name.size()) {
    auto dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    out.push_back(static_cast<std::uint8_t>(dot - start));
    out.insert(out.end(), name.begin() + static_cast<long>(start), name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  out.push_back(0);
}

inline DnsBytes name_bytes(const std::string& name) {
  DnsBytes out;
  put_name(out, name);
  return out;
}

inline DnsBytes dns_header(unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ar = 0) {
  DnsBytes out;
  for (unsigned value : {id, flags, qd, an, 0u, ar}) put16(out, value);
  return out;
}

inline void put_question(DnsBytes& out, const std::string& name, unsigned qtype) {
  put_name(out, name);
  put16(out, qtype);
  put16(out, 1);
}

// `owner` in wire form (a name, or a compression pointer such as {0xC0, 12}).
inline void put_record(DnsBytes& out, const DnsBytes& owner, unsigned type, unsigned ttl, const DnsBytes& rdata) {
  out.insert(out.end(), owner.begin(), owner.end());
  for (unsigned value : {type, 1u, ttl >> 16, ttl & 0xFFFF, static_cast<unsigned>(rdata.size())}) put16(out, value);
  out.insert(out.end(), rdata.begin(), rdata.end());
}

}  // namespace leakguard::test
