// Event lines for the report tests, built the way the proxy writes them (design.md, "Events"), so
// each test states only the fields it is about.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace leakguard::reports::test {

struct FindingSpec {
  std::string device = "lab-phone-01";
  std::string client = "10.42.0.11:51234";
  std::string host = "zzhc.example.cn";
  std::string ip = "203.0.113.7";
  std::string country = "CN";
  int port = 80;
  std::string transport = "http";
  std::string identifier = "imei";
  std::string encoding = "base64>json";
  std::string action = "blocked";
  std::string ts = "2026-11-28T09:00:00.123Z";
};

inline std::string finding(const FindingSpec& spec) {
  nlohmann::json dst = {{"ip", spec.ip}, {"port", spec.port}};
  if (!spec.host.empty()) dst["host"] = spec.host;
  if (!spec.country.empty()) dst["country"] = spec.country;
  nlohmann::json event = {{"type", "finding"},
                          {"ts", spec.ts},
                          {"flow", "1-3"},
                          {"client", spec.client},
                          {"dst", dst},
                          {"transport", spec.transport},
                          {"method", "POST"},
                          {"url", "http://" + spec.host + "/"},
                          {"identifier", spec.identifier},
                          {"detector", "known_identifiers"},
                          {"method_of_detection", "known"},
                          {"encoding", spec.encoding},
                          {"where", "body.json:IMEI1"},
                          {"value", "35320*********"},
                          {"action", spec.action}};
  if (!spec.device.empty()) event["device"] = spec.device;
  return event.dump();
}

inline std::string conn_close(const std::string& device, const std::string& transport,
                              const std::string& client = "10.42.0.11:51234") {
  nlohmann::json event = {{"type", "conn"},        {"event", "close"}, {"ts", "2026-11-28T09:00:01.000Z"},
                          {"flow", "1-3"},         {"client", client}, {"dst", {{"ip", "203.0.113.7"}, {"port", 443}}},
                          {"bytes_from_client", 10}};
  if (!transport.empty()) event["transport"] = transport;
  if (!device.empty()) event["device"] = device;
  return event.dump();
}

inline std::string tls_event(const std::string& device, const std::string& what, const std::string& passthrough = "") {
  nlohmann::json event = {{"type", "tls"}, {"event", what}, {"ts", "2026-11-28T09:00:00.500Z"}, {"flow", "1-4"},
                          {"client", "10.42.0.11:51235"}, {"device", device}};
  if (!passthrough.empty()) event["passthrough"] = passthrough;
  return event.dump();
}

// A finding as `leakguard scan` writes it (app/scan_output.cpp): `source` instead of the connection
// fields; `dst` only when the capture knew it (HAR, pcap), else the URL alone (a bare HTTP capture).
struct ScanFindingSpec {
  std::string source = "phone.har";
  std::string device;  // empty: scanned without a profile
  std::string host;    // dst.host; empty: no dst at all
  std::string ip;
  std::string url = "http://zzhc.example.cn:8080/reg";
  std::string transport = "http";
  std::string identifier = "imei";
  std::string ts = "2026-12-01T09:00:00.000Z";
};

inline std::string scan_finding(const ScanFindingSpec& spec) {
  nlohmann::ordered_json event = {{"type", "finding"}, {"ts", spec.ts}, {"source", spec.source}};
  if (!spec.host.empty()) {
    event["dst"] = {{"port", 443}, {"host", spec.host}, {"host_source", "http"}};
    if (!spec.ip.empty()) event["dst"]["ip"] = spec.ip;
  }
  event["transport"] = spec.transport;
  event["method"] = "POST";
  event["url"] = spec.url;
  if (!spec.device.empty()) event["device"] = spec.device;
  event["identifier"] = spec.identifier;
  event["detector"] = "known_identifiers";
  event["method_of_detection"] = "known";
  event["encoding"] = "json";
  event["where"] = "body.json:imei";
  event["value"] = "35320**********";
  return event.dump();
}

}  // namespace leakguard::reports::test
