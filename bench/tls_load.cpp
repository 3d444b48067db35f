// tls_load: an HTTPS load client for the TLS interception benchmark (issue 5, bench/tls_bench.sh).
// wrk and `openssl s_time` cannot go through an explicit proxy, so this client does what a phone's
// HTTP stack does: TCP connect, optionally CONNECT through a proxy, a verified TLS handshake with
// SNI, then GET requests. Two modes: `keepalive` (requests back to back on K long-lived connections)
// and `handshake` (a new connection and a full handshake per request, no session resumption).
// Prints one line: requests, errors, req/s, p50/p99 latency. Bench tool only, not part of leakguard.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/ssl.hpp>

#include "common/ascii.hpp"
#include "common/asio.hpp"

namespace {

using namespace leakguard;
using asio::awaitable;
using asio::redirect_error;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string connect_host = "127.0.0.1";
  std::string connect_port;
  std::string proxy_host;
  std::string proxy_port;
  std::string host = "localhost";  // SNI, certificate name and Host header
  std::string cafile;
  std::string path = "/";
  std::string leak_path;       // every `leak_every`-th request asks for this path instead (soak.sh)
  std::uint64_t leak_every = 0;
  std::uint64_t requests = 0;  // stop after this many requests in all (0: run for `duration_s`)
  bool handshake_per_request = false;
  unsigned connections = 50;
  unsigned threads = 2;
  double duration_s = 10;
};

struct Totals {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> issued{0};  // requests begun, for --requests and --leak-every
};


// The first failure is printed, so a run full of errors says why.
std::atomic<bool> failure_reported{false};
void report_failure(const char* what, const error_code& ec) {
  if (!failure_reported.exchange(true)) std::fprintf(stderr, "tls_load: %s: %s\n", what, ec.message().c_str());
}

bool split_host_port(std::string_view text, std::string& host, std::string& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return false;
  host = std::string(text.substr(0, colon));
  port = std::string(text.substr(colon + 1));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return true;
}

class Worker {
 public:
  Worker(const Options& options, asio::ssl::context& tls, Totals& totals, Clock::time_point deadline)
      : options_(options), tls_(tls), totals_(totals), deadline_(deadline) {}

  void run(unsigned connections) {
    for (unsigned i = 0; i < connections; ++i) asio::co_spawn(io_, connection(), asio::detached);
    io_.run();
  }
  std::vector<std::uint32_t>& latencies_us() { return latencies_us_; }

 private:
  using TlsStream = asio::ssl::stream<tcp::socket>;

  // TCP (+ CONNECT) + TLS handshake. nullptr on any failure.
  awaitable<std::unique_ptr<TlsStream>> open() {
    error_code ec;
    tcp::resolver resolver(io_);
    const bool via_proxy = !options_.proxy_host.empty();
    const auto endpoints = co_await resolver.async_resolve(via_proxy ? options_.proxy_host : options_.connect_host,
                                                           via_proxy ? options_.proxy_port : options_.connect_port,
                                                           redirect_error(use_awaitable, ec));
    if (ec) {
      report_failure("resolve", ec);
      co_return nullptr;
    }
    tcp::socket socket(io_);
    co_await asio::async_connect(socket, endpoints, redirect_error(use_awaitable, ec));
    if (ec) {
      report_failure("connect", ec);
      co_return nullptr;
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (via_proxy) {
      const std::string authority = options_.connect_host + ":" + options_.connect_port;
      const std::string request = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n";
      co_await asio::async_write(socket, asio::buffer(request), redirect_error(use_awaitable, ec));
      if (ec) co_return nullptr;
      std::string answer;
      co_await asio::async_read_until(socket, asio::dynamic_buffer(answer), "\r\n\r\n",
                                      redirect_error(use_awaitable, ec));
      // The proxy says nothing more before the tunnel's first byte, so nothing was over-read.
      if (ec || answer.compare(0, 12, "HTTP/1.1 200") != 0) {
        report_failure("CONNECT", ec ? ec : asio::error::connection_refused);
        co_return nullptr;
      }
    }
    auto stream = std::make_unique<TlsStream>(std::move(socket), tls_);
    SSL* ssl = stream->native_handle();
    SSL_set_tlsext_host_name(ssl, options_.host.c_str());
    X509_VERIFY_PARAM_set1_host(SSL_get0_param(ssl), options_.host.c_str(), 0);
    co_await stream->async_handshake(asio::ssl::stream_base::client, redirect_error(use_awaitable, ec));
    if (ec) {
      report_failure("handshake", ec);
      co_return nullptr;
    }
    co_return stream;
  }

  // One GET and its Content-Length response; false on failure.
  awaitable<bool> exchange(TlsStream& stream, std::string& buffer, const std::string& path) {
    error_code ec;
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + options_.host + "\r\n\r\n";
    co_await asio::async_write(stream, asio::buffer(request), redirect_error(use_awaitable, ec));
    if (ec) {
      report_failure("request", ec);
      co_return false;
    }
    const auto head_end =
        co_await asio::async_read_until(stream, asio::dynamic_buffer(buffer), "\r\n\r\n", redirect_error(use_awaitable, ec));
    if (ec || buffer.compare(0, 12, "HTTP/1.1 200") != 0) {
      report_failure("response", ec ? ec : asio::error::invalid_argument);
      co_return false;
    }
    std::size_t length = 0;
    const std::string_view head(buffer.data(), head_end);
    for (std::size_t at = head.find("\r\n"); at != std::string_view::npos; at = head.find("\r\n", at + 2)) {
      const auto line = head.substr(at + 2);
      if (line.size() > 15 && iequals(line.substr(0, 15), "content-length:")) {
        auto value = line.substr(15);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        std::from_chars(value.data(), value.data() + value.size(), length);
      }
    }
    const std::size_t total = head_end + length;
    if (buffer.size() < total) {
      co_await asio::async_read(stream, asio::dynamic_buffer(buffer), asio::transfer_exactly(total - buffer.size()),
                                redirect_error(use_awaitable, ec));
      if (ec) co_return false;
    }
    buffer.erase(0, total);
    co_return true;
  }

  void record(Clock::time_point started) {
    latencies_us_.push_back(static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count()));
    totals_.requests.fetch_add(1, std::memory_order_relaxed);
  }

  awaitable<void> connection() {
    std::string buffer;
    std::unique_ptr<TlsStream> stream;
    while (Clock::now() < deadline_) {
      const std::uint64_t n = totals_.issued.fetch_add(1, std::memory_order_relaxed);
      if (options_.requests && n >= options_.requests) break;
      const bool leak = options_.leak_every && n % options_.leak_every == 0;
      const std::string& path = leak ? options_.leak_path : options_.path;
      const auto started = Clock::now();
      if (!stream) {
        buffer.clear();
        stream = co_await open();
        if (!stream) {
          totals_.errors.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
      }
      const bool ok = co_await exchange(*stream, buffer, path);
      if (!ok) {
        totals_.errors.fetch_add(1, std::memory_order_relaxed);
        stream.reset();
        continue;
      }
      record(started);
      if (options_.handshake_per_request) {
        error_code ignored;
        stream->lowest_layer().close(ignored);  // a new connection and handshake for the next request
        stream.reset();
      }
    }
  }

  const Options& options_;
  asio::ssl::context& tls_;
  Totals& totals_;
  const Clock::time_point deadline_;
  asio::io_context io_{1};
  std::vector<std::uint32_t> latencies_us_;
};

int usage() {
  std::fprintf(stderr,
               "usage: tls_load --connect HOST:PORT --cafile FILE [--proxy HOST:PORT] [--host NAME] [--path /]\n"
               "                [--mode keepalive|handshake] [--connections 50] [--threads 2] [--duration 10]\n"
               "                [--requests N] [--leak-every K --leak-path /path]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) return usage();
    const std::string_view value = argv[++i];
    if (arg == "--connect") {
      if (!split_host_port(value, options.connect_host, options.connect_port)) return usage();
    } else if (arg == "--proxy") {
      if (!split_host_port(value, options.proxy_host, options.proxy_port)) return usage();
    } else if (arg == "--host") {
      options.host = value;
    } else if (arg == "--cafile") {
      options.cafile = value;
    } else if (arg == "--path") {
      options.path = value;
    } else if (arg == "--mode") {
      if (value != "keepalive" && value != "handshake") return usage();
      options.handshake_per_request = value == "handshake";
    } else if (arg == "--connections") {
      options.connections = static_cast<unsigned>(std::max(1, std::atoi(std::string(value).c_str())));
    } else if (arg == "--threads") {
      options.threads = static_cast<unsigned>(std::max(1, std::atoi(std::string(value).c_str())));
    } else if (arg == "--requests") {
      options.requests = std::strtoull(std::string(value).c_str(), nullptr, 10);
    } else if (arg == "--leak-every") {
      options.leak_every = std::strtoull(std::string(value).c_str(), nullptr, 10);
    } else if (arg == "--leak-path") {
      options.leak_path = value;
    } else if (arg == "--duration") {
      options.duration_s = std::atof(std::string(value).c_str());
    } else {
      return usage();
    }
  }
  if (options.connect_port.empty() || options.cafile.empty()) return usage();

  asio::ssl::context tls(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  // Every handshake in `handshake` mode is a full one, as for a phone's first visit.
  SSL_CTX_set_session_cache_mode(tls.native_handle(), SSL_SESS_CACHE_OFF);
  static constexpr unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(tls.native_handle(), alpn, sizeof alpn);
  error_code ec;
  tls.load_verify_file(options.cafile, ec);
  if (ec) {
    std::fprintf(stderr, "tls_load: cannot load %s: %s\n", options.cafile.c_str(), ec.message().c_str());
    return 2;
  }
  tls.set_verify_mode(asio::ssl::verify_peer);

  Totals totals;
  const auto started = Clock::now();
  const auto deadline = started + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.duration_s));
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < options.threads; ++t) {
    workers.push_back(std::make_unique<Worker>(options, tls, totals, deadline));
    const unsigned share = options.connections / options.threads + (t < options.connections % options.threads ? 1 : 0);
    threads.emplace_back([worker = workers.back().get(), share] { worker->run(share); });
  }
  for (auto& thread : threads) thread.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();

  std::vector<std::uint32_t> all;
  for (auto& worker : workers) all.insert(all.end(), worker->latencies_us().begin(), worker->latencies_us().end());
  std::sort(all.begin(), all.end());
  const auto percentile = [&](double p) {
    if (all.empty()) return 0.0;
    return all[std::min(all.size() - 1, static_cast<std::size_t>(p * static_cast<double>(all.size())))] / 1000.0;
  };
  std::printf("mode=%s connections=%u threads=%u duration_s=%.1f requests=%llu errors=%llu rps=%.0f p50_ms=%.2f "
              "p99_ms=%.2f\n",
              options.handshake_per_request ? "handshake" : "keepalive", options.connections, options.threads, elapsed,
              static_cast<unsigned long long>(totals.requests.load()),
              static_cast<unsigned long long>(totals.errors.load()), static_cast<double>(totals.requests.load()) / elapsed,
              percentile(0.50), percentile(0.99));
  return totals.requests.load() > 0 ? 0 : 1;
}
