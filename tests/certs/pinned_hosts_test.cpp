#include "certs/pinned_hosts.hpp"

#include <doctest/doctest.h>

using namespace leakguard;
using namespace std::chrono_literals;

namespace {

struct FakeClock {
  PinnedHosts::Clock::time_point now{};
  PinnedHosts::Now function() {
    return [this] { return now; };
  }
};

boost::asio::ip::address address(const char* text) { return boost::asio::ip::make_address(text); }

}  // namespace

TEST_CASE("a remembered client/host pair is pinned until the ttl runs out") {
  FakeClock clock;
  PinnedHosts pinned(3600s, 100, clock.function());
  const auto phone = address("10.42.0.11");
  CHECK_FALSE(pinned.is_pinned(phone, "api.bank.example"));
  pinned.remember(phone, "api.bank.example");
  CHECK(pinned.is_pinned(phone, "api.bank.example"));
  CHECK(pinned.is_pinned(phone, "API.Bank.Example."));                        // host compared like a name
  CHECK(pinned.is_pinned(address("::ffff:10.42.0.11"), "api.bank.example"));  // mapped v4 is the same client
  CHECK_FALSE(pinned.is_pinned(address("10.42.0.12"), "api.bank.example"));   // per client
  CHECK_FALSE(pinned.is_pinned(phone, "www.bank.example"));                   // per host

  clock.now += 3599s;
  CHECK(pinned.is_pinned(phone, "api.bank.example"));
  clock.now += 1s;
  CHECK_FALSE(pinned.is_pinned(phone, "api.bank.example"));
  CHECK(pinned.size() == 0);  // the expired entry was swept
}

TEST_CASE("remembering again restarts the ttl") {
  FakeClock clock;
  PinnedHosts pinned(60s, 100, clock.function());
  const auto phone = address("10.42.0.11");
  pinned.remember(phone, "a.example");
  pinned.remember(phone, "b.example");
  clock.now += 50s;
  pinned.remember(phone, "a.example");
  clock.now += 20s;
  CHECK(pinned.is_pinned(phone, "a.example"));
  CHECK_FALSE(pinned.is_pinned(phone, "b.example"));
  CHECK(pinned.size() == 1);
}

TEST_CASE("the memory is bounded; the entry nearest expiry goes first") {
  FakeClock clock;
  PinnedHosts pinned(3600s, 3, clock.function());
  const auto phone = address("fd00::11");
  for (const char* host : {"a.example", "b.example", "c.example"}) {
    pinned.remember(phone, host);
    clock.now += 1s;
  }
  pinned.remember(phone, "a.example");  // refreshed: b is now the oldest
  pinned.remember(phone, "d.example");
  CHECK(pinned.size() == 3);
  CHECK(pinned.is_pinned(phone, "a.example"));
  CHECK_FALSE(pinned.is_pinned(phone, "b.example"));
  CHECK(pinned.is_pinned(phone, "c.example"));
  CHECK(pinned.is_pinned(phone, "d.example"));
}

TEST_CASE("forget drops a pair") {
  PinnedHosts pinned(3600s);
  const auto phone = address("10.42.0.11");
  pinned.remember(phone, "a.example");
  pinned.forget(phone, "A.example");
  CHECK_FALSE(pinned.is_pinned(phone, "a.example"));
  CHECK(pinned.size() == 0);
}
