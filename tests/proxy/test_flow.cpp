// The connection fields of events: the cached serialization used per exchange says the same as
// Flow::event, follows every change of the flow, and masks secrets.
#include <doctest/doctest.h>

#include "proxy/flow.hpp"

using namespace leakguard;

namespace {

Json parsed_fields(const Flow& flow, const std::vector<std::string>& secrets = {}) {
  return Json::parse("{" + std::string(flow.serialized_fields(secrets)) + "}");
}

Json event_fields(const Flow& flow, const std::vector<std::string>& secrets = {}) {
  Json event = flow.event("x", secrets);
  event.erase("type");
  event.erase("ts");
  return event;
}

}  // namespace

TEST_CASE("serialized fields equal the event's fields as the flow changes") {
  Flow flow;
  flow.id = "0-7";
  flow.client = tcp::endpoint(asio::ip::make_address("10.0.0.2"), 40000);
  CHECK(parsed_fields(flow) == event_fields(flow));

  flow.dst = tcp::endpoint(asio::ip::make_address("::ffff:192.0.2.1"), 443);
  flow.transport = "https";
  CHECK(parsed_fields(flow)["dst"]["ip"] == "192.0.2.1");
  CHECK(parsed_fields(flow) == event_fields(flow));

  flow.dst_host = "api.example.com";
  flow.sni = "api.example.com";
  flow.device = "phone-1";
  flow.country = "NO";
  CHECK(parsed_fields(flow) == event_fields(flow));
  CHECK(parsed_fields(flow)["device"] == "phone-1");

  flow.dst = tcp::endpoint(asio::ip::make_address("192.0.2.9"), 8443);
  CHECK(parsed_fields(flow)["dst"]["port"] == 8443);
  CHECK(parsed_fields(flow) == event_fields(flow));
}

TEST_CASE("secrets in the host and SNI are masked, and the unmasked cache is not disturbed") {
  Flow flow;
  flow.id = "0-8";
  flow.dst_host = "490154203237518.tracker.example";
  flow.sni = flow.dst_host;
  const std::vector<std::string> secrets{"490154203237518"};
  const Json masked = parsed_fields(flow, secrets);
  CHECK(masked == event_fields(flow, secrets));
  CHECK(masked.dump().find("490154203237518") == std::string::npos);
  CHECK(parsed_fields(flow)["sni"] == "490154203237518.tracker.example");
}

TEST_CASE("secrets found earlier in the flow mask every later event's host and SNI") {
  Flow flow;
  flow.id = "0-9";
  flow.dst_host = "490154203237518.tracker.example";
  CHECK(parsed_fields(flow)["dst"]["host"] == "490154203237518.tracker.example");  // nothing found yet
  flow.add_secrets({"490154203237518"});
  flow.add_secrets({"490154203237518"});  // once is enough
  CHECK(flow.secrets().size() == 1);
  CHECK(parsed_fields(flow).dump().find("490154203237518") == std::string::npos);  // the cache followed
  CHECK(flow.event("conn").dump().find("490154203237518") == std::string::npos);
  // With the event's own secrets as well, both are applied.
  flow.sni = "aa-secret-bb.example";
  const Json both = parsed_fields(flow, {"secret"});
  CHECK(both.dump().find("490154203237518") == std::string::npos);
  CHECK(both["sni"].get<std::string>().find("secret") == std::string::npos);
}

TEST_CASE("dst.host_source says where the name came from; the connection's own name beats DNS") {
  Flow flow;
  flow.id = "0-8";
  flow.client = tcp::endpoint(asio::ip::make_address("10.0.0.2"), 40000);
  flow.set_host("zzhc.example.cn", "dns");
  CHECK(event_fields(flow)["dst"]["host"] == "zzhc.example.cn");
  CHECK(event_fields(flow)["dst"]["host_source"] == "dns");
  CHECK(parsed_fields(flow) == event_fields(flow));
  flow.set_host("api.example.cn", "sni");
  CHECK(parsed_fields(flow)["dst"]["host"] == "api.example.cn");
  CHECK(parsed_fields(flow)["dst"]["host_source"] == "sni");
  flow.set_host("cdn.example.net", "dns");  // a later DNS name never replaces the connection's
  CHECK(event_fields(flow)["dst"]["host"] == "api.example.cn");
  flow.set_host("www.example.cn", "http");
  CHECK(event_fields(flow)["dst"]["host_source"] == "http");
  flow.set_host("", "http");
  CHECK_FALSE(event_fields(flow)["dst"].contains("host"));
  CHECK_FALSE(event_fields(flow)["dst"].contains("host_source"));
}
