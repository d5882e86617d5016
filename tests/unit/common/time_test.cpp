#include <doctest/doctest.h>

#include "common/time.hpp"

using namespace smppguard;
using namespace std::chrono_literals;

TEST_CASE("RFC 3339 formatting is UTC with optional millis") {
  const auto t = from_unix_ms(1'700'000'000'123);
  CHECK(format_rfc3339(t) == "2023-11-14T22:13:20Z");
  CHECK(format_rfc3339(t, true) == "2023-11-14T22:13:20.123Z");
  CHECK(format_rfc3339(from_unix_ms(0)) == "1970-01-01T00:00:00Z");
}

TEST_CASE("RFC 3339 parsing honours offsets and fractions") {
  CHECK(to_unix_ms(*parse_rfc3339("2023-11-14T22:13:20Z")) == 1'700'000'000'000);
  CHECK(to_unix_ms(*parse_rfc3339("2023-11-14T22:13:20.5Z")) == 1'700'000'000'500);
  CHECK(to_unix_ms(*parse_rfc3339("2023-11-14T23:13:20+01:00")) == 1'700'000'000'000);
  CHECK(to_unix_ms(*parse_rfc3339("2023-11-14T17:13:20-05:00")) == 1'700'000'000'000);
  CHECK_FALSE(parse_rfc3339("2023-11-14"));
  CHECK_FALSE(parse_rfc3339("2023-13-14T22:13:20Z"));
  CHECK_FALSE(parse_rfc3339("2023-02-30T22:13:20Z"));
  CHECK_FALSE(parse_rfc3339("2023-11-14T22:13:20"));
  CHECK_FALSE(parse_rfc3339("2023-11-14T22:13:20Zjunk"));
  CHECK_FALSE(parse_rfc3339("2023-11-14T22:13:20."));
}

TEST_CASE("durations need a unit") {
  CHECK(*parse_duration("500ms") == 500ms);
  CHECK(*parse_duration("30s") == 30s);
  CHECK(*parse_duration("5m") == 5min);
  CHECK(*parse_duration("72h") == 72h);
  CHECK(*parse_duration("7d") == 168h);
  CHECK_FALSE(parse_duration("30"));
  CHECK_FALSE(parse_duration("s"));
  CHECK_FALSE(parse_duration("-5s"));
  CHECK_FALSE(parse_duration("5 s"));
  CHECK_FALSE(parse_duration("1w"));
  CHECK_FALSE(parse_duration("9999999999d"));  // would overflow int64 milliseconds
  CHECK(*parse_duration("999999999d") == std::chrono::hours(999999999LL * 24));
  CHECK(format_duration(72h) == "72h");
  CHECK(format_duration(500ms) == "500ms");
  CHECK(format_duration(90s) == "90s");
}
