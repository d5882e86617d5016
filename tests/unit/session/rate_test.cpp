#include <doctest/doctest.h>

#include "session/rate.hpp"

using namespace smppguard::session;
using namespace std::chrono_literals;

TEST_CASE("token bucket starts full and refills at its rate") {
  const auto t0 = SteadyClock::time_point{} + 1h;
  TokenBucket b(5, 5);
  int passed = 0;
  for (int i = 0; i < 20; ++i) passed += b.try_take(t0) ? 1 : 0;
  CHECK(passed == 5);
  CHECK_FALSE(b.try_take(t0 + 100ms));  // 0.5 token
  CHECK(b.try_take(t0 + 200ms));        // 1 token
  CHECK_FALSE(b.try_take(t0 + 200ms));
  TokenBucket unlimited(0, 0);
  for (int i = 0; i < 1000; ++i) CHECK(unlimited.try_take(t0));
}

TEST_CASE("token bucket reserve paces instead of refusing") {
  const auto t0 = SteadyClock::time_point{} + 1h;
  TokenBucket b(10, 1);
  CHECK(b.reserve(t0) == SteadyClock::duration::zero());
  CHECK(b.reserve(t0) == std::chrono::duration_cast<SteadyClock::duration>(100ms));
  CHECK(b.reserve(t0) == std::chrono::duration_cast<SteadyClock::duration>(200ms));
}

TEST_CASE("bind guard slows an IP after three failures, doubling to 8 s") {
  const auto t0 = SteadyClock::time_point{} + 1h;
  BindGuard g;
  const std::string ip = "192.0.2.1";
  CHECK(g.delay_for(ip, t0) == 0s);
  g.record_failure(ip, t0);
  g.record_failure(ip, t0);
  CHECK(g.delay_for(ip, t0) == 0s);
  g.record_failure(ip, t0);
  CHECK(g.delay_for(ip, t0) == 1s);
  g.record_failure(ip, t0);
  CHECK(g.delay_for(ip, t0) == 2s);
  g.record_failure(ip, t0);
  CHECK(g.delay_for(ip, t0) == 4s);
  g.record_failure(ip, t0);
  CHECK(g.delay_for(ip, t0) == 8s);
  g.record_failure(ip, t0);
  CHECK(g.delay_for(ip, t0) == 8s);
  // Other addresses are not slowed; failures older than 60 s are forgotten.
  CHECK(g.delay_for("192.0.2.2", t0) == 0s);
  CHECK(g.delay_for(ip, t0 + 61s) == 0s);
}

TEST_CASE("bind guard memory is bounded") {
  const auto t0 = SteadyClock::time_point{} + 1h;
  BindGuard g(2);
  g.record_failure("a", t0);
  g.record_failure("b", t0 + 1s);
  g.record_failure("c", t0 + 2s);  // forgets "a", the stalest
  for (int i = 0; i < 3; ++i) g.record_failure("b", t0 + 3s);
  CHECK(g.delay_for("b", t0 + 3s) >= 1s);
  CHECK(g.delay_for("a", t0 + 3s) == 0s);
}

TEST_CASE("back-off doubles from min to max with jitter in [d/2, d]") {
  Backoff b(100ms, 1000ms, 42);
  const std::chrono::milliseconds expected_caps[] = {100ms, 200ms, 400ms, 800ms, 1000ms, 1000ms};
  for (auto cap : expected_caps) {
    const auto d = b.next();
    CHECK(d <= cap);
    CHECK(d >= cap / 2);
  }
  b.reset();
  CHECK(b.next() <= 100ms);
}
