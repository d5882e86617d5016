#include "policy/quiet_hours.hpp"

namespace smppguard::policy {
namespace {

using namespace std::chrono;

int wrap_minute(int m) { return ((m % kMinutesPerDay) + kMinutesPerDay) % kMinutesPerDay; }

int local_minute(local_seconds local) {
  const auto day = floor<days>(local);
  return static_cast<int>(duration_cast<minutes>(local - day).count());
}

bool in_window(int start, int end, int minute) {
  if (start == end) return false;
  if (start < end) return minute >= start && minute < end;
  return minute >= start || minute < end;
}

}  // namespace

bool QuietHours::enabled() const { return wrap_minute(start_minute) != wrap_minute(end_minute); }

bool is_quiet(const QuietHours& window, const TimeZone& zone, TimePoint now) {
  return in_window(wrap_minute(window.start_minute), wrap_minute(window.end_minute),
                   local_minute(zone.to_local(now)));
}

TimePoint next_window_open(const QuietHours& window, const TimeZone& zone, TimePoint now) {
  const int start = wrap_minute(window.start_minute);
  const int end = wrap_minute(window.end_minute);
  const local_seconds local = zone.to_local(now);
  const int minute = local_minute(local);
  if (!in_window(start, end, minute)) return now;

  // Inside a wrapping window before midnight, the window ends on the next local day.
  local_days day = floor<days>(local);
  if (start > end && minute >= start) day += days{1};
  for (int i = 0; i < 3; ++i, day += days{1}) {
    const TimePoint open =
        zone.to_utc(local_seconds{day} + minutes{end}, TimeZone::Choose::earliest);
    if (open > now) return open;
  }
  return now;  // unreachable for real zones: a window end exists within three days
}

std::optional<int> parse_minute_of_day(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  const auto digit = [&](std::size_t i) -> int {
    return (text[i] >= '0' && text[i] <= '9') ? text[i] - '0' : -1;
  };
  const int h1 = digit(0), h2 = digit(1), m1 = digit(3), m2 = digit(4);
  if (h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0) return std::nullopt;
  const int hours = h1 * 10 + h2;
  const int mins = m1 * 10 + m2;
  if (hours > 23 || mins > 59) return std::nullopt;
  return hours * 60 + mins;
}

}  // namespace smppguard::policy
