#include "common/time.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace smppguard {
namespace {

bool read_int(std::string_view s, std::size_t pos, std::size_t len, int& out) {
  if (pos + len > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

const SystemClock& SystemClock::instance() {
  static const SystemClock clock;
  return clock;
}

std::string format_rfc3339(TimePoint t, bool millis) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::int64_t secs = ms / 1000;
  int frac = static_cast<int>(ms % 1000);
  if (frac < 0) {
    frac += 1000;
    secs -= 1;
  }
  const auto days = floor<std::chrono::days>(sys_seconds(seconds(secs)));
  const year_month_day ymd{days};
  const hh_mm_ss hms{seconds(secs) - days.time_since_epoch()};
  char buf[40];
  int n;
  if (millis) {
    n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                      unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                      int(hms.minutes().count()), int(hms.seconds().count()), frac);
  } else {
    n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", int(ymd.year()),
                      unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                      int(hms.minutes().count()), int(hms.seconds().count()));
  }
  return std::string(buf, static_cast<std::size_t>(n));
}

std::optional<TimePoint> parse_rfc3339(std::string_view s) {
  using namespace std::chrono;
  int y, mo, d, h, mi, se;
  if (s.size() < 20 || !read_int(s, 0, 4, y) || s[4] != '-' || !read_int(s, 5, 2, mo) ||
      s[7] != '-' || !read_int(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !read_int(s, 11, 2, h) || s[13] != ':' || !read_int(s, 14, 2, mi) || s[16] != ':' ||
      !read_int(s, 17, 2, se))
    return std::nullopt;
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return std::nullopt;
  std::size_t pos = 19;
  std::int64_t frac_ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    std::int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac_ms += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
  }
  if (pos >= s.size()) return std::nullopt;
  int offset_min = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!read_int(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !read_int(s, pos + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const auto tp = sys_days(ymd) + hours(h) + minutes(mi) + seconds(se) + milliseconds(frac_ms) -
                  minutes(offset_min);
  return time_point_cast<system_clock::duration>(tp);
}

std::optional<Millis> parse_duration(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  // At most 9 digits: 999999999d still fits int64 milliseconds.
  if (i == 0 || i > 9) return std::nullopt;
  std::int64_t n = 0;
  std::from_chars(s.data(), s.data() + i, n);
  const std::string_view unit = s.substr(i);
  if (unit == "ms") return Millis(n);
  if (unit == "s") return Millis(n * 1000);
  if (unit == "m") return Millis(n * 60'000);
  if (unit == "h") return Millis(n * 3'600'000);
  if (unit == "d") return Millis(n * 86'400'000);
  return std::nullopt;
}

std::string format_duration(Millis d) {
  const auto ms = d.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace smppguard
