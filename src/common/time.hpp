#pragma once
// Time helpers shared by config, store, policy and the admin API. Pure functions; thread-safe.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace smppguard {

using SysClock = std::chrono::system_clock;
using TimePoint = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

/// "2026-11-22T17:18:00Z", or with millis "2026-11-22T17:18:00.123Z". Always UTC.
std::string format_rfc3339(TimePoint t, bool millis = false);
/// Parses RFC 3339 date-times ("...Z" or "...+01:00", optional fraction). nullopt when malformed.
std::optional<TimePoint> parse_rfc3339(std::string_view text);

/// Parses a duration with a unit: "500ms", "30s", "5m", "24h", "7d". nullopt when malformed.
std::optional<Millis> parse_duration(std::string_view text);
/// The inverse of parse_duration, using the largest unit that divides exactly ("72h", "500ms").
std::string format_duration(Millis d);

/// Milliseconds since the Unix epoch; the unit stored in RocksDB values.
inline std::int64_t to_unix_ms(TimePoint t) {
  return std::chrono::duration_cast<Millis>(t.time_since_epoch()).count();
}
inline TimePoint from_unix_ms(std::int64_t ms) { return TimePoint(Millis(ms)); }

/// Source of "now" for code that must be testable with a fixed or moving clock.
/// Implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

/// The wall clock.
class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return SysClock::now(); }
  static const SystemClock& instance();
};

}  // namespace smppguard
