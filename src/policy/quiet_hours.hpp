#pragma once
// Quiet hours (SPEC 4): the local-time window in which informational and promotional MTs are not
// sent. Pure functions; thread-safe.
#include <optional>
#include <string_view>

#include "common/time.hpp"
#include "policy/timezone.hpp"

namespace smppguard::policy {

inline constexpr int kMinutesPerDay = 24 * 60;

/// A daily window [start, end) in minutes after local midnight. start > end wraps midnight (the
/// default 21:00-08:00); start == end is an empty window: quiet hours off. Values outside 0..1439
/// are taken modulo a day.
struct QuietHours {
  int start_minute = 21 * 60;
  int end_minute = 8 * 60;

  bool enabled() const;
};

/// Whether `now` falls inside the window in `zone`'s local time.
bool is_quiet(const QuietHours& window, const TimeZone& zone, TimePoint now);

/// When the window next opens for sending: the first instant at or after `now` that is not quiet.
/// `now` itself when it is not quiet; otherwise the instant the local clock reaches end_minute,
/// across DST changes (an end time skipped by clocks going forward opens at the transition; an end
/// time that happens twice opens at its first occurrence).
TimePoint next_window_open(const QuietHours& window, const TimeZone& zone, TimePoint now);

/// Parses "HH:MM" (00:00 to 23:59) into minutes after midnight, for config.
std::optional<int> parse_minute_of_day(std::string_view text);

}  // namespace smppguard::policy
