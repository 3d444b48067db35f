// Destination countries from the user's MaxMind-format database (libmaxminddb): events carry
// `dst.country`, rules can match on it. Opened once per configuration snapshot; lookups are
// read-only on a memory map, so any thread may call country() at the same time.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ip/address.hpp>

struct MMDB_s;

namespace leakguard {

class GeoIpDatabase {
 public:
  // Throws std::runtime_error naming the file when it cannot be opened or is not an MMDB file.
  explicit GeoIpDatabase(const std::string& path);
  ~GeoIpDatabase();
  GeoIpDatabase(const GeoIpDatabase&) = delete;
  GeoIpDatabase& operator=(const GeoIpDatabase&) = delete;

  // ISO 3166 alpha-2 code ("CN"), or empty when the address is not in the database.
  std::string country(const boost::asio::ip::address& address) const;

 private:
  std::unique_ptr<MMDB_s> db_;
};

}  // namespace leakguard
