// Throughput of the whole inspection (decode + every detector + settling) with 50 device profiles
// loaded, per core: plain requests, JSON bodies, gzip bodies and raw streams. Bytes are counted
// as they travel on the wire (a gzip body counts compressed). See bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <span>
#include <string>

#include <zlib.h>

#include "config/config.hpp"
#include "detectors/decoders/request_decoder.hpp"
#include "detectors/inspector.hpp"
#include "detectors/registry.hpp"
#include "tests/support/inputs.hpp"
#include "tests/support/protobuf_wire.hpp"

namespace {

using namespace leakguard;

std::string luhn_complete(std::string digits) {
  int sum = 0;
  bool doubled = true;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (doubled) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
    doubled = !doubled;
  }
  digits.push_back(static_cast<char>('0' + (10 - sum % 10) % 10));
  return digits;
}

std::string digits(std::mt19937_64& rng, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out.push_back(static_cast<char>('0' + rng() % 10));
  return out;
}

std::string hex(std::mt19937_64& rng, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out.push_back("0123456789abcdef"[rng() % 16]);
  return out;
}

// 50 phones with every kind of identifier, two IMEIs each.
ConfigSnapshot fifty_profiles() {
  std::mt19937_64 rng(42);
  std::string yaml = "devices:\n";
  for (int i = 0; i < 50; ++i) {
    const std::string mac = hex(rng, 12);
    yaml += "  - name: phone-" + std::to_string(i) + "\n";
    yaml += "    match: { ip: 10.42.1." + std::to_string(i + 1) + " }\n";
    yaml += "    identifiers:\n";
    yaml += "      imei: [\"" + luhn_complete("35" + digits(rng, 12)) + "\", \"" + luhn_complete("86" + digits(rng, 12)) + "\"]\n";
    yaml += "      imsi: \"242" + digits(rng, 12) + "\"\n";
    yaml += "      iccid: \"" + luhn_complete("8947" + digits(rng, 14)) + "\"\n";
    yaml += "      msisdn: \"+479" + digits(rng, 7) + "\"\n";
    yaml += "      serial: \"R58M" + hex(rng, 8) + "\"\n";
    yaml += "      mac: \"" + mac.substr(0, 2) + ":" + mac.substr(2, 2) + ":" + mac.substr(4, 2) + ":" + mac.substr(6, 2) + ":" +
            mac.substr(8, 2) + ":" + mac.substr(10, 2) + "\"\n";
    yaml += "      android_id: \"" + hex(rng, 16) + "\"\n";
    yaml += "      gaid: \"" + hex(rng, 8) + "-" + hex(rng, 4) + "-" + hex(rng, 4) + "-" + hex(rng, 4) + "-" + hex(rng, 12) + "\"\n";
    yaml += "      email: \"user" + std::to_string(i) + "@example.no\"\n";
    yaml += "      location: { lat: 59." + digits(rng, 6) + ", lon: 10." + digits(rng, 6) + " }\n";
    yaml += "      cell: { mcc: 242, mnc: 1, lac: " + std::to_string(1000 + i) + ", cid: " + std::to_string(50000 + i * 7) + " }\n";
  }
  return load_config_text(yaml, "bench-50-profiles.yaml");
}

struct Fixture {
  Inspector inspector{fifty_profiles()};
  LearnedValues learned;
  InspectionContext context;
  Fixture() { context.device = &inspector.config().devices[7]; context.learned = &learned; }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

std::size_t wire_size(const HttpRequest& request) {
  std::size_t size = request.head.method.size() + request.head.target.size() + 12;
  for (const auto& header : request.head.headers) size += header.name.size() + header.value.size() + 4;
  return size + 2 + request.body.size();
}

// A typical app request without a leak: query, a dozen headers, cookies, a bearer token.
HttpRequest plain_request() {
  HttpRequest request;
  request.head.method = "GET";
  request.head.target = "/api/v2/feed/items?page=3&per_page=20&lang=nb-NO&sort=recent&client=android&build=20241128"
                        "&session=8f14e45fceea167a5a36dedd4bea2543&ts=1732780800123";
  request.head.headers = {
      {"Host", "api.example.com"},
      {"User-Agent", "Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230901.001) okhttp/4.12.0"},
      {"Accept", "application/json, text/plain, */*"},
      {"Accept-Language", "nb-NO,nb;q=0.9,en-US;q=0.8,en;q=0.7"},
      {"Accept-Encoding", "gzip, deflate, br"},
      {"Authorization", "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwiaWF0IjoxNzMyNzgwODAwfQ."
                        "Qx7pR2m9Vt4Wk8ZsN1bYc3Hd6Lf0Ja5Ge2Uq7Oi9Ty4"},
      {"Cookie", "sid=s%3A7d9f8a6b5c4e3d2f1a0b9c8d7e6f5a4b.Xy9ZkLmNoPqRsTuVwXyZ0123456789abcdefGHIJ; theme=dark; "
                 "consent=analytics%3D0%26ads%3D0; _ga=GA1.2.1234567890.1732780800"},
      {"X-App-Version", "5.12.3 (51203)"},
      {"X-Request-Id", "5f0c7a3e-1b2d-4c8e-9a6f-2d4e6b8a0c1e"},
      {"If-None-Match", "W/\"a1b2c3d4e5f60718293a4b5c6d7e8f90\""},
      {"Connection", "keep-alive"},
      {"Cache-Control", "no-cache"},
      {"Referer", "https://www.example.com/app/feed?tab=home&from=notification"},
  };
  return request;
}

std::string json_body(std::size_t items) {
  std::string body = "{\"app\":{\"name\":\"com.example.news\",\"version\":\"5.12.3\",\"build\":51203},\"events\":[";
  for (std::size_t i = 0; i < items; ++i) {
    if (i) body += ',';
    body += "{\"id\":" + std::to_string(100000 + i * 37) + ",\"type\":\"view\",\"screen\":\"article\",\"ms\":" +
            std::to_string(1732780800123 + i * 1000) + ",\"title\":\"Weather in Oslo: sun and \\u00f8st wind\","
            "\"scroll\":0.75,\"tags\":[\"news\",\"local\"],\"ok\":true}";
  }
  body += "]}";
  return body;
}

// Inspects `requests` in turn, one per iteration, with `context`; bytes as sent on the wire.
void run_requests(benchmark::State& state, std::span<const HttpRequest> requests, const InspectionContext& context) {
  InspectionResult result;
  std::size_t next = 0;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    const HttpRequest& request = requests[next];
    next = next + 1 == requests.size() ? 0 : next + 1;
    result.clear();
    fixture().inspector.inspect_request(request, context, result);
    benchmark::DoNotOptimize(result);
    bytes += static_cast<std::int64_t>(wire_size(request));
  }
  state.SetBytesProcessed(bytes);
  state.counters["findings"] = static_cast<double>(result.findings.size());
}

void run_request(benchmark::State& state, const HttpRequest& request, bool profiled) {
  run_requests(state, {&request, 1}, profiled ? fixture().context : InspectionContext{});
  state.counters["request_bytes"] = static_cast<double>(wire_size(request));
}

void BM_PlainRequest(benchmark::State& state) { run_request(state, plain_request(), true); }
void BM_PlainRequestNoProfile(benchmark::State& state) { run_request(state, plain_request(), false); }

// The same request with a browser-sized cookie jar and headers: about 4 KB.
void BM_PlainRequestLarge(benchmark::State& state) {
  HttpRequest request = plain_request();
  std::mt19937_64 rng(3);
  std::string jar;
  for (int i = 0; i < 24; ++i) jar += (i ? "; " : "") + std::string("c") + std::to_string(i) + "=" + hex(rng, 24 + i % 16);
  request.head.headers.push_back({"Cookie", jar});
  for (int i = 0; i < 12; ++i)
    request.head.headers.push_back({"X-Trace-" + std::to_string(i), "v=1;t=" + std::to_string(1732780800 + i) + ";s=" + hex(rng, 40)});
  request.head.headers.push_back({"Sec-CH-UA", "\"Chromium\";v=\"130\", \"Google Chrome\";v=\"130\", \"Not?A_Brand\";v=\"99\""});
  run_request(state, request, true);
}

// Where the plain request's time goes: state.range(0) = 0 decodes only; 1 also classifies the
// bytes; 2 + i also runs the first i + 1 detectors in registry order (two built in: 0..3). The
// differences between rows are the stages' costs (settling is what BM_PlainRequest adds to the
// last row).
void BM_PlainRequestStages(benchmark::State& state) {
  Fixture& f = fixture();
  static const auto detectors = build_detectors(f.inspector.config());
  const auto stage = static_cast<std::size_t>(state.range(0));
  const HttpRequest request = plain_request();
  DetectionContext detection;
  detection.device = f.context.device;
  detection.device_index = static_cast<std::size_t>(f.context.device - f.inspector.config().devices.data());
  DecodedView view;
  Arena arena;
  std::vector<Anomaly> anomalies;
  std::vector<Finding> findings;
  const DecodeLimits limits;
  for (auto _ : state) {
    view.clear();
    arena.reset();
    anomalies.clear();
    findings.clear();
    RequestDecoder decoder(view, arena, limits, anomalies);
    decoder.decode_request(request);
    if (stage >= 1) view.build_classes();
    for (std::size_t i = 0; i + 2 <= stage && i < detectors.size(); ++i) detectors[i]->inspect(view, detection, findings);
    benchmark::DoNotOptimize(findings);
  }
  const std::size_t ran = std::min(stage >= 2 ? stage - 1 : 0, detectors.size());
  state.SetLabel(stage == 0 ? "decode" : ran == 0 ? "+classes" : "+" + std::string(detectors[ran - 1]->name()));
  state.counters["buffers"] = static_cast<double>(view.buffers.size());
  state.counters["fields"] = static_cast<double>(view.fields.size());
}

// Requests as one keep-alive connection of an app sends them: each has its own query (page,
// timestamp), X-Request-Id and If-None-Match (another resource), and the same User-Agent, token,
// cookies and Accept headers as the others. With the connection's HeaderMemo (header_memo.hpp)
// the repeated lines are inspected until the memo has seen them clean twice, then left out.
// 256 distinct requests (256 KB, in cache as a proxy's just-read requests are): a varying line
// comes back only after 511 others have pushed it out of the memo's 128 first-sight slots.
// range(0) = 0: without the memo, each request from scratch.
void BM_PlainRequestSession(benchmark::State& state) {
  Fixture& f = fixture();
  static const std::vector<HttpRequest> requests = [] {
    std::mt19937_64 rng(5);
    std::vector<HttpRequest> list;
    for (int i = 0; i < 256; ++i) {
      HttpRequest request = plain_request();
      request.head.target = "/api/v2/feed/items?page=" + std::to_string(i + 1) + "&per_page=20&lang=nb-NO" +
                            "&sort=recent&client=android&build=20241128&session=8f14e45fceea167a5a36dedd4bea2543&ts=" +
                            std::to_string(1732780800123 + i * 4711);
      for (auto& header : request.head.headers) {
        if (header.name == "X-Request-Id")
          header.value = hex(rng, 8) + "-" + hex(rng, 4) + "-4" + hex(rng, 3) + "-9" + hex(rng, 3) + "-" + hex(rng, 12);
        if (header.name == "If-None-Match") header.value = "W/\"" + hex(rng, 32) + "\"";
      }
      list.push_back(std::move(request));
    }
    return list;
  }();
  HeaderMemo memo;
  InspectionContext context = f.context;
  if (state.range(0)) context.header_memo = &memo;
  run_requests(state, requests, context);
  state.SetLabel(state.range(0) ? "header memo" : "no memo");
  state.counters["remembered_lines"] = static_cast<double>(memo.size());
}

void BM_PlainRequestWithLeak(benchmark::State& state) {
  HttpRequest request = plain_request();
  const DeviceProfile& device = fixture().inspector.config().devices[7];
  request.head.target += "&imei=" + device.values.at(IdentifierKind::imei).front();
  run_request(state, request, true);
}

// The plain request's head as a POST of `content_type` to `target`; the caller adds the body.
HttpRequest post_request(std::string target, std::string content_type) {
  HttpRequest request = plain_request();
  request.head.method = "POST";
  request.head.target = std::move(target);
  request.head.headers.push_back({"Content-Type", std::move(content_type)});
  return request;
}

// Plain traffic where the body dominates: a text/plain upload (an app's log) of state.range(0)
// bytes, after the same head.
void BM_PlainTextBody(benchmark::State& state) {
  HttpRequest request = post_request("/api/v2/logs", "text/plain; charset=utf-8");
  std::mt19937_64 rng(11);
  static const char* const words[] = {"sync", "started", "finished", "in", "ms", "view", "feed", "cache", "hit", "miss",
                                      "network", "wifi", "ok", "retry", "user", "opened", "article", "scroll", "depth"};
  const auto size = static_cast<std::size_t>(state.range(0));
  while (request.body.size() < size) {
    request.body += "2024-11-28T09:00:" + std::to_string(10 + rng() % 50) + "." + std::to_string(100 + rng() % 900) +
                    "Z I/App(" + std::to_string(1000 + rng() % 9000) + "): ";
    for (int w = 0; w < 9; ++w) {
      request.body += words[rng() % 19];
      request.body += ' ';
    }
    request.body += std::to_string(rng() % 100000) + "\n";
  }
  run_request(state, request, true);
}

// A form POST of about state.range(0) bytes with a distinct key per field (as
// bench/http_proxy_bench.sh BODY_BYTES sends): per-field cost, with keys that repeat only across
// requests.
void BM_FormBody(benchmark::State& state) {
  HttpRequest request = post_request("/api/v2/form", "application/x-www-form-urlencoded");
  const auto size = static_cast<std::size_t>(state.range(0));
  for (int i = 0; request.body.size() < size; ++i) {
    if (!request.body.empty()) request.body += '&';
    char pair[48];
    std::snprintf(pair, sizeof pair, "field%d=value-%08d", i, i * 7919);
    request.body += pair;
  }
  run_request(state, request, true);
}

// A crash-log field of a form upload, percent-encoded, that repeats the phone's IMEI
// state.range(0) times: every finding is located in the raw bytes, so this grows with the count
// of findings times the cost of locating one (a walk of the whole field each, before).
void BM_PercentEncodedLeaks(benchmark::State& state) {
  HttpRequest request = post_request("/api/v2/crash", "application/x-www-form-urlencoded");
  const std::string& imei = fixture().inspector.config().devices[7].values.at(IdentifierKind::imei).front();
  request.body = "app=news&log=";
  for (std::int64_t i = 0; i < state.range(0); ++i) request.body += "imei%3D" + imei + "%0A";
  run_request(state, request, true);
}

HttpRequest json_request(std::size_t items, bool compressed) {
  HttpRequest request = post_request("/api/v2/events", "application/json");
  request.body = json_body(items);
  if (compressed) {
    request.body = test::gzip(request.body, 16 + MAX_WBITS, 6);
    request.head.headers.push_back({"Content-Encoding", "gzip"});
  }
  return request;
}

void BM_JsonBody(benchmark::State& state) {
  run_request(state, json_request(static_cast<std::size_t>(state.range(0)), false), true);
}
void BM_GzipJsonBody(benchmark::State& state) {
  run_request(state, json_request(static_cast<std::size_t>(state.range(0)), true), true);
}

// A device check-in as protobuf (issue 15), about 4 KiB: build properties as strings, nested
// device, network and settings messages, timestamps and counters; no value of the device.
HttpRequest protobuf_checkin() {
  namespace pb = test::pb;
  std::mt19937_64 rng(15);
  HttpRequest request = post_request("/checkin", "application/x-protobuf");
  std::string build = pb::bytes(1, "google/panther/panther:14/UQ1A.240205.004/11269751:user/release-keys") +
                      pb::bytes(2, "panther") + pb::number(7, 34) + pb::bytes(8, "UQ1A.240205.004") +
                      pb::number(9, 1706745600) + pb::bytes(10, "Google");
  std::string settings;
  while (settings.size() < 3200) {
    // Gservices-style names ("gms:phenotype:..."), as check-ins carry them.
    const std::string name = "gms:phenotype:flag_" + hex(rng, 6) + ".enabled";
    settings += pb::bytes(5, pb::bytes(1, name) + pb::bytes(2, std::to_string(rng() % 100000)) + pb::number(3, rng() % 2));
  }
  std::string network = pb::bytes(1, "wifi") + pb::number(2, 1) + pb::bytes(3, "nb_NO") + pb::number(4, rng());
  const std::string device = pb::bytes(1, build) + pb::number(2, 1732780800123ull) + pb::bytes(3, network) +
                             pb::number(4, 3) + pb::bytes(6, "Europe/Oslo") + settings;
  request.body = pb::fixed64(2, rng()) + pb::bytes(4, device) + pb::number(9, 3) + pb::number(14, 3) +
                 pb::bytes(18, "en_US") + pb::bytes(19, pb::number(1, rng()));
  return request;
}

void BM_ProtobufCheckin(benchmark::State& state) { run_request(state, protobuf_checkin(), true); }

// A batched logger request (issue 15): a 64 KiB protobuf whose events are a protobuf array in a
// bytes field, each event with nested messages and a few strings, sent gzip'd.
void BM_GzipProtobufLogger(benchmark::State& state) {
  namespace pb = test::pb;
  std::mt19937_64 rng(16);
  HttpRequest request = post_request("/log/batch", "application/x-protobuf");
  std::string events;
  static const char* const screens[] = {"feed", "article", "settings", "search", "player"};
  while (events.size() < (64u << 10)) {
    const std::string event = pb::number(1, 1732780800123ull + rng() % 100000) +
                              pb::bytes(6, pb::bytes(2, screens[rng() % 5]) + pb::number(3, rng() % 5000)) +
                              pb::bytes(7, pb::number(1, rng() % 100) + pb::bytes(2, "ok")) + pb::number(11, rng());
    events += pb::delimited(event);
  }
  const std::string batch = pb::bytes(1, "com.example.logger") + pb::number(2, 1) + pb::bytes(4, events) +
                            pb::number(5, 1732780800123ull);
  request.body = test::gzip(batch, 16 + MAX_WBITS, 6);
  request.head.headers.push_back({"Content-Encoding", "gzip"});
  run_request(state, request, true);
  state.counters["inflated_bytes"] = static_cast<double>(batch.size());
}

// A raw (non-HTTP) stream fed in reads of state.range(0) bytes. range(1) = 0: a binary protocol
// with random text inside (a worst case: random printable bytes are dense in digits, '@' and
// base64 runs); 1: a text protocol of key=value records, as IoT devices speak.
void BM_RawStream(benchmark::State& state) {
  Fixture& f = fixture();
  const std::size_t read = static_cast<std::size_t>(state.range(0));
  std::mt19937_64 rng(7);
  std::string stream;
  while (stream.size() < (1u << 20)) {
    if (state.range(1) == 0) {
      stream += "\x02MSG len=" + std::to_string(rng() % 5000) + " seq=" + std::to_string(rng() % 100000) + " body=";
      for (int i = 0; i < 96; ++i) stream.push_back(static_cast<char>(32 + rng() % 95));
      for (int i = 0; i < 32; ++i) stream.push_back(static_cast<char>(rng() % 256));
    } else {
      stream += "\x02REC;type=status;seq=" + std::to_string(rng() % 100000) + ";uptime=" + std::to_string(rng() % 864000) +
                ";fw=v2.4." + std::to_string(rng() % 10) + ";temp=" + std::to_string(20 + rng() % 40) +
                ";state=running;ssid=HomeNetwork-5G;rssi=-" + std::to_string(40 + rng() % 50) +
                ";msg=heartbeat ok, queue empty, next sync scheduled\x03\n";
    }
  }
  RawStreamScanner scanner = f.inspector.raw_stream_scanner();
  InspectionResult result;
  std::size_t offset = 0;
  for (auto _ : state) {
    if (offset + read > stream.size()) offset = 0;
    result.clear();
    scanner.feed(std::string_view(stream).substr(offset, read), f.context, result);
    benchmark::DoNotOptimize(result);
    offset += read;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * read));
}

void BM_InspectorBuild(benchmark::State& state) {
  const ConfigSnapshot config = fifty_profiles();
  for (auto _ : state) {
    Inspector inspector(config);
    benchmark::DoNotOptimize(inspector);
  }
}

}  // namespace

BENCHMARK(BM_PlainRequest);
BENCHMARK(BM_PlainRequestNoProfile);
BENCHMARK(BM_PlainRequestLarge);
BENCHMARK(BM_PlainRequestSession)->Arg(0)->Arg(1);
BENCHMARK(BM_PlainRequestWithLeak);
BENCHMARK(BM_PlainRequestStages)->DenseRange(0, 3);
BENCHMARK(BM_JsonBody)->Arg(16)->Arg(256);
BENCHMARK(BM_GzipJsonBody)->Arg(16)->Arg(256);
BENCHMARK(BM_PlainTextBody)->Arg(16 << 10)->Arg(256 << 10);
BENCHMARK(BM_FormBody)->Arg(4 << 10);
BENCHMARK(BM_PercentEncodedLeaks)->Arg(100)->Arg(1000)->Arg(4000);
BENCHMARK(BM_ProtobufCheckin);
BENCHMARK(BM_GzipProtobufLogger);
BENCHMARK(BM_RawStream)->Args({4096, 0})->Args({65536, 0})->Args({4096, 1})->Args({65536, 1});
BENCHMARK(BM_InspectorBuild)->Unit(benchmark::kMillisecond)->Iterations(3);

BENCHMARK_MAIN();
