#include "policy/quiet_hours.hpp"

#include <doctest/doctest.h>

#include <ostream>

using namespace smppguard;
using namespace smppguard::policy;
using namespace std::chrono;

namespace {

TimePoint utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return TimePoint{sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s}};
}

const TimeZone& zone(std::string_view name) {
  auto z = TimeZoneDb::system().find(name);
  REQUIRE_MESSAGE(z.has_value(), name);
  return **z;
}

std::string iso(TimePoint t) { return format_rfc3339(t); }

constexpr QuietHours kDefault{};

}  // namespace

TEST_CASE("the default window is 21:00-08:00 and wraps midnight") {
  const TimeZone& ny = zone("America/New_York");
  CHECK(kDefault.enabled());
  CHECK_FALSE(is_quiet(kDefault, ny, utc(2024, 6, 3, 0, 59)));  // 20:59 EDT
  CHECK(is_quiet(kDefault, ny, utc(2024, 6, 3, 1, 0)));         // 21:00 EDT
  CHECK(is_quiet(kDefault, ny, utc(2024, 6, 3, 4, 0)));         // midnight
  CHECK(is_quiet(kDefault, ny, utc(2024, 6, 3, 11, 59)));       // 07:59
  CHECK_FALSE(is_quiet(kDefault, ny, utc(2024, 6, 3, 12, 0)));  // 08:00
  const TimePoint noon = utc(2024, 6, 3, 16);
  CHECK(next_window_open(kDefault, ny, noon) == noon);
  CHECK(iso(next_window_open(kDefault, ny, utc(2024, 6, 3, 1, 0))) == "2024-06-03T12:00:00Z");
  CHECK(iso(next_window_open(kDefault, ny, utc(2024, 6, 3, 11, 59, 59))) == "2024-06-03T12:00:00Z");
}

TEST_CASE("the same instant is quiet in some zones and not in others") {
  const TimePoint t = utc(2024, 6, 1, 3);  // 23:00 in New York
  CHECK(is_quiet(kDefault, zone("America/New_York"), t));
  CHECK_FALSE(is_quiet(kDefault, zone("America/Los_Angeles"), t));              // 20:00
  CHECK(is_quiet(kDefault, zone("Europe/London"), t));                          // 04:00
  CHECK_FALSE(is_quiet(kDefault, zone("Asia/Kolkata"), t));                     // 08:30
  CHECK_FALSE(is_quiet(kDefault, zone("Asia/Tokyo"), t));                       // 12:00
  CHECK(is_quiet(kDefault, zone("Pacific/Honolulu"), utc(2024, 6, 1, 7, 30)));  // 21:30 HST
  // Kolkata's half-hour offset: 21:00-08:00 IST is 15:30-02:30 UTC.
  const TimeZone& kolkata = zone("Asia/Kolkata");
  CHECK_FALSE(is_quiet(kDefault, kolkata, utc(2024, 6, 1, 15, 29)));
  CHECK(is_quiet(kDefault, kolkata, utc(2024, 6, 1, 15, 30)));
  CHECK(iso(next_window_open(kDefault, kolkata, utc(2024, 6, 1, 16))) == "2024-06-02T02:30:00Z");
}

TEST_CASE("the night clocks go forward: the window opens at 08:00 new time") {
  const TimeZone& ny = zone("America/New_York");
  // 2024-03-10 02:00 EST -> 03:00 EDT. 21:00 EST on the 9th is 02:00 UTC.
  CHECK_FALSE(is_quiet(kDefault, ny, utc(2024, 3, 10, 1, 59)));
  CHECK(is_quiet(kDefault, ny, utc(2024, 3, 10, 2, 0)));
  CHECK(iso(next_window_open(kDefault, ny, utc(2024, 3, 10, 2, 0))) == "2024-03-10T12:00:00Z");
  CHECK(iso(next_window_open(kDefault, ny, utc(2024, 3, 10, 6, 30))) == "2024-03-10T12:00:00Z");
  CHECK(iso(next_window_open(kDefault, ny, utc(2024, 3, 10, 7, 30))) == "2024-03-10T12:00:00Z");
  CHECK(is_quiet(kDefault, ny, utc(2024, 3, 10, 11, 59)));
  CHECK_FALSE(is_quiet(kDefault, ny, utc(2024, 3, 10, 12, 0)));
  // London: 2024-03-31 01:00 GMT -> 02:00 BST.
  const TimeZone& london = zone("Europe/London");
  CHECK(iso(next_window_open(kDefault, london, utc(2024, 3, 30, 23))) == "2024-03-31T07:00:00Z");
  // A window ending inside the skipped hour opens at the transition.
  const QuietHours ends_in_gap{21 * 60, 2 * 60 + 30};
  CHECK(iso(next_window_open(ends_in_gap, ny, utc(2024, 3, 10, 4))) == "2024-03-10T07:00:00Z");
  CHECK(is_quiet(ends_in_gap, ny, utc(2024, 3, 10, 6, 59, 59)));
  CHECK_FALSE(is_quiet(ends_in_gap, ny, utc(2024, 3, 10, 7)));
}

TEST_CASE("the night clocks go back: the window opens at 08:00 standard time") {
  const TimeZone& ny = zone("America/New_York");
  // 2024-11-03 02:00 EDT -> 01:00 EST. 21:00 EDT on the 2nd is 01:00 UTC.
  CHECK(is_quiet(kDefault, ny, utc(2024, 11, 3, 1, 0)));
  CHECK(iso(next_window_open(kDefault, ny, utc(2024, 11, 3, 1, 0))) == "2024-11-03T13:00:00Z");
  CHECK(iso(next_window_open(kDefault, ny, utc(2024, 11, 3, 6, 30))) == "2024-11-03T13:00:00Z");
  CHECK(is_quiet(kDefault, ny, utc(2024, 11, 3, 12, 59)));
  CHECK_FALSE(is_quiet(kDefault, ny, utc(2024, 11, 3, 13, 0)));
  // London: 2024-10-27 02:00 BST -> 01:00 GMT.
  CHECK(iso(next_window_open(kDefault, zone("Europe/London"), utc(2024, 10, 26, 22))) ==
        "2024-10-27T08:00:00Z");
  // A window ending at a time that happens twice opens at its first occurrence.
  const QuietHours ends_in_overlap{22 * 60, 60 + 30};
  CHECK(iso(next_window_open(ends_in_overlap, ny, utc(2024, 11, 3, 4))) == "2024-11-03T05:30:00Z");
}

TEST_CASE("Lord Howe's 30-minute DST change") {
  const TimeZone& lh = zone("Australia/Lord_Howe");
  // 2024-10-06 02:00 +1030 -> 02:30 +11 (2024-10-05 15:30 UTC).
  CHECK(iso(next_window_open(kDefault, lh, utc(2024, 10, 5, 12))) == "2024-10-05T21:00:00Z");
  const QuietHours ends_in_gap{22 * 60, 2 * 60 + 15};
  CHECK(iso(next_window_open(ends_in_gap, lh, utc(2024, 10, 5, 12))) == "2024-10-05T15:30:00Z");
}

TEST_CASE("a zone without DST on a DST night elsewhere") {
  const TimeZone& phoenix = zone("America/Phoenix");
  CHECK(iso(next_window_open(kDefault, phoenix, utc(2024, 3, 10, 5))) == "2024-03-10T15:00:00Z");
  CHECK(iso(next_window_open(kDefault, phoenix, utc(2024, 11, 3, 5))) == "2024-11-03T15:00:00Z");
}

TEST_CASE("non-wrapping windows") {
  const TimeZone& ny = zone("America/New_York");
  const QuietHours lunch{12 * 60, 14 * 60};
  CHECK_FALSE(is_quiet(lunch, ny, utc(2024, 6, 3, 15, 59)));  // 11:59 EDT
  CHECK(is_quiet(lunch, ny, utc(2024, 6, 3, 16, 0)));
  CHECK(is_quiet(lunch, ny, utc(2024, 6, 3, 17, 59)));
  CHECK_FALSE(is_quiet(lunch, ny, utc(2024, 6, 3, 18, 0)));
  CHECK(iso(next_window_open(lunch, ny, utc(2024, 6, 3, 16, 30))) == "2024-06-03T18:00:00Z");
  const QuietHours early{0, 7 * 60};
  CHECK_FALSE(is_quiet(early, ny, utc(2024, 6, 4, 3, 59)));  // 23:59
  CHECK(is_quiet(early, ny, utc(2024, 6, 4, 4, 0)));         // 00:00
  CHECK(iso(next_window_open(early, ny, utc(2024, 6, 4, 5))) == "2024-06-04T11:00:00Z");
  // Spring forward inside a non-wrapping window.
  CHECK(iso(next_window_open(early, ny, utc(2024, 3, 10, 6))) == "2024-03-10T11:00:00Z");
}

TEST_CASE("start == end means no quiet hours; minutes wrap modulo a day") {
  const TimeZone& ny = zone("America/New_York");
  const QuietHours off{8 * 60, 8 * 60};
  CHECK_FALSE(off.enabled());
  for (int h = 0; h < 24; ++h) CHECK_FALSE(is_quiet(off, ny, utc(2024, 6, 3, h)));
  const TimePoint t = utc(2024, 6, 3, 3);
  CHECK(next_window_open(off, ny, t) == t);
  const QuietHours wrapped{kMinutesPerDay + 21 * 60, -16 * 60};  // 21:00 and 08:00
  CHECK(is_quiet(wrapped, ny, t));
  CHECK(next_window_open(wrapped, ny, t) == next_window_open(kDefault, ny, t));
  CHECK_FALSE(QuietHours{0, kMinutesPerDay}.enabled());
}

TEST_CASE("HH:MM parsing") {
  CHECK(parse_minute_of_day("21:00") == 21 * 60);
  CHECK(parse_minute_of_day("08:00") == 8 * 60);
  CHECK(parse_minute_of_day("00:00") == 0);
  CHECK(parse_minute_of_day("23:59") == 23 * 60 + 59);
  CHECK_FALSE(parse_minute_of_day("24:00"));
  CHECK_FALSE(parse_minute_of_day("8:00"));
  CHECK_FALSE(parse_minute_of_day("08:60"));
  CHECK_FALSE(parse_minute_of_day("08-00"));
  CHECK_FALSE(parse_minute_of_day(""));
  CHECK_FALSE(parse_minute_of_day("0a:00"));
}
