#include "proxy/geoip.hpp"

#include <cstring>
#include <stdexcept>

#include <maxminddb.h>
#include <netinet/in.h>

#include "common/ip_network.hpp"

namespace leakguard {

GeoIpDatabase::GeoIpDatabase(const std::string& path) : db_(std::make_unique<MMDB_s>()) {
  const int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, db_.get());
  if (status != MMDB_SUCCESS) {
    db_.reset();
    throw std::runtime_error("geoip.database " + path + ": " + MMDB_strerror(status));
  }
}

GeoIpDatabase::~GeoIpDatabase() {
  if (db_) MMDB_close(db_.get());
}

std::string GeoIpDatabase::country(const boost::asio::ip::address& candidate) const {
  const auto address = unmap_v4(candidate);
  sockaddr_storage storage{};
  if (address.is_v4()) {
    sockaddr_in in4{};
    in4.sin_family = AF_INET;
    const auto bytes = address.to_v4().to_bytes();
    std::memcpy(&in4.sin_addr, bytes.data(), bytes.size());
    std::memcpy(&storage, &in4, sizeof in4);
  } else {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    const auto bytes = address.to_v6().to_bytes();
    std::memcpy(&in6.sin6_addr, bytes.data(), bytes.size());
    std::memcpy(&storage, &in6, sizeof in6);
  }
  int mmdb_error = MMDB_SUCCESS;
  auto result = MMDB_lookup_sockaddr(db_.get(), reinterpret_cast<const sockaddr*>(&storage), &mmdb_error);
  if (mmdb_error != MMDB_SUCCESS || !result.found_entry) return {};
  MMDB_entry_data_s data{};
  if (MMDB_get_value(&result.entry, &data, "country", "iso_code", nullptr) != MMDB_SUCCESS || !data.has_data ||
      data.type != MMDB_DATA_TYPE_UTF8_STRING)
    return {};
  return std::string(data.utf8_string, data.data_size);
}

}  // namespace leakguard
