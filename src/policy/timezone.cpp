#include "policy/timezone.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <limits>
#include <utility>

#include "policy/numbers.hpp"

namespace smppguard::policy {

namespace detail {

// A date of a POSIX TZ rule: Jn (1..365, February 29 never counted), n (0..365), or Mm.w.d.
struct PosixDate {
  enum class Kind { julian1, julian0, month };
  Kind kind = Kind::month;
  int n = 0;  // julian day
  int month = 0;
  int week = 0;                  // 1..5, 5 = last
  int weekday = 0;               // 0 = Sunday
  std::int32_t time = 2 * 3600;  // local time of day; may be negative or exceed 24 h (RFC 8536)
};

struct PosixTz {
  std::string std_abbreviation;
  std::int32_t std_offset = 0;  // east of UTC
  bool has_dst = false;
  std::string dst_abbreviation;
  std::int32_t dst_offset = 0;
  PosixDate start;
  PosixDate end;
};

}  // namespace detail

namespace {

using detail::PosixDate;
using detail::PosixTz;
using namespace std::chrono;

constexpr std::int64_t kSecondsPerDay = 86400;
constexpr std::size_t kMaxTzifSize = 1 << 20;

// --- POSIX TZ strings -------------------------------------------------------------------------

class PosixParser {
 public:
  explicit PosixParser(std::string_view s) : s_(s) {}

  std::optional<PosixTz> parse() {
    PosixTz tz;
    if (!abbreviation(tz.std_abbreviation)) return std::nullopt;
    const auto std_off = hms(24);
    if (!std_off) return std::nullopt;
    tz.std_offset = -*std_off;
    if (at_end()) return tz;

    tz.has_dst = true;
    if (!abbreviation(tz.dst_abbreviation)) return std::nullopt;
    tz.dst_offset = tz.std_offset + 3600;
    if (!at_end() && peek() != ',') {
      const auto dst_off = hms(24);
      if (!dst_off) return std::nullopt;
      tz.dst_offset = -*dst_off;
    }
    if (at_end()) {
      // POSIX leaves the default rule to the implementation; tzcode uses the US rule.
      tz.start = PosixDate{PosixDate::Kind::month, 0, 3, 2, 0, 2 * 3600};
      tz.end = PosixDate{PosixDate::Kind::month, 0, 11, 1, 0, 2 * 3600};
      return tz;
    }
    if (!consume(',') || !date(tz.start) || !consume(',') || !date(tz.end) || !at_end()) {
      return std::nullopt;
    }
    return tz;
  }

 private:
  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return s_[i_]; }
  bool consume(char c) {
    if (at_end() || peek() != c) return false;
    ++i_;
    return true;
  }
  static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  bool abbreviation(std::string& out) {
    if (consume('<')) {
      while (!at_end() && peek() != '>') {
        const char c = peek();
        if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-') return false;
        out.push_back(c);
        ++i_;
      }
      return consume('>') && out.size() >= 3;
    }
    while (!at_end() && is_alpha(peek())) out.push_back(s_[i_++]);
    return out.size() >= 3;
  }

  std::optional<int> number(int max_digits, int max_value) {
    int value = 0;
    int digits = 0;
    while (!at_end() && is_digit(peek()) && digits < max_digits) {
      value = value * 10 + (s_[i_++] - '0');
      ++digits;
    }
    if (digits == 0 || value > max_value) return std::nullopt;
    return value;
  }

  // [+-]hh[:mm[:ss]] in seconds.
  std::optional<std::int32_t> hms(int max_hours) {
    int sign = 1;
    if (consume('-')) {
      sign = -1;
    } else {
      consume('+');
    }
    const auto h = number(3, max_hours);
    if (!h) return std::nullopt;
    std::int32_t total = *h * 3600;
    if (consume(':')) {
      const auto m = number(2, 59);
      if (!m) return std::nullopt;
      total += *m * 60;
      if (consume(':')) {
        const auto sec = number(2, 59);
        if (!sec) return std::nullopt;
        total += *sec;
      }
    }
    return sign * total;
  }

  bool date(PosixDate& d) {
    if (consume('J')) {
      d.kind = PosixDate::Kind::julian1;
      const auto n = number(3, 365);
      if (!n || *n < 1) return false;
      d.n = *n;
    } else if (consume('M')) {
      d.kind = PosixDate::Kind::month;
      const auto m = number(2, 12);
      if (!m || *m < 1 || !consume('.')) return false;
      const auto w = number(1, 5);
      if (!w || *w < 1 || !consume('.')) return false;
      const auto wd = number(1, 6);
      if (!wd) return false;
      d.month = *m;
      d.week = *w;
      d.weekday = *wd;
    } else {
      d.kind = PosixDate::Kind::julian0;
      const auto n = number(3, 365);
      if (!n) return false;
      d.n = *n;
    }
    if (consume('/')) {
      const auto t = hms(167);
      if (!t) return false;
      d.time = *t;
    }
    return true;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

std::int64_t day_number(sys_days d) { return d.time_since_epoch().count(); }

// Seconds since the epoch of the rule's local date and time in a year, as if local were UTC.
std::int64_t rule_local_seconds(const PosixDate& d, int y) {
  const year yr{y};
  sys_days day;
  switch (d.kind) {
    case PosixDate::Kind::julian1:
      day = sys_days{yr / January / 1} + days{d.n - 1 + ((yr.is_leap() && d.n >= 60) ? 1 : 0)};
      break;
    case PosixDate::Kind::julian0:
      day = sys_days{yr / January / 1} + days{d.n};
      break;
    case PosixDate::Kind::month: {
      const month m{static_cast<unsigned>(d.month)};
      const weekday wd{static_cast<unsigned>(d.weekday)};
      if (d.week == 5) {
        day = sys_days{yr / m / wd[last]};
      } else {
        day = sys_days{yr / m / wd[static_cast<unsigned>(d.week)]};
      }
      break;
    }
  }
  return day_number(day) * kSecondsPerDay + d.time;
}

int civil_year(std::int64_t seconds) {
  const sys_days day{days{
      static_cast<int>((seconds >= 0 ? seconds : seconds - kSecondsPerDay + 1) / kSecondsPerDay)}};
  return static_cast<int>(year_month_day{day}.year());
}

// Whether DST is in effect at a UTC instant under a rule with DST.
bool posix_is_dst(const PosixTz& tz, std::int64_t utc) {
  const int y = civil_year(utc + tz.std_offset);
  std::array<std::pair<std::int64_t, bool>, 6> events{};
  std::size_t k = 0;
  for (int yy = y - 1; yy <= y + 1; ++yy) {
    events[k++] = {rule_local_seconds(tz.start, yy) - tz.std_offset, true};
    events[k++] = {rule_local_seconds(tz.end, yy) - tz.dst_offset, false};
  }
  std::sort(events.begin(), events.end());
  bool dst = false;
  for (const auto& [instant, starts_dst] : events) {
    if (instant > utc) break;
    dst = starts_dst;
  }
  return dst;
}

// --- TZif -------------------------------------------------------------------------------------

class ByteReader {
 public:
  explicit ByteReader(std::string_view d) : d_(d) {}
  bool has(std::uint64_t n) const { return n <= d_.size() - pos_; }
  std::size_t pos() const { return pos_; }
  void skip(std::size_t n) { pos_ += n; }
  std::uint8_t u8() { return static_cast<std::uint8_t>(d_[pos_++]); }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | u8();
    return v;
  }
  std::int64_t i64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | u8();
    return static_cast<std::int64_t>(v);
  }
  std::int32_t i32() { return static_cast<std::int32_t>(u32()); }
  std::string_view take(std::size_t n) {
    const auto out = d_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  std::string_view rest() const { return d_.substr(pos_); }

 private:
  std::string_view d_;
  std::size_t pos_ = 0;
};

struct TzifHeader {
  char version = 0;
  std::uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;

  std::uint64_t block_size(std::uint64_t time_size) const {
    return timecnt * time_size + timecnt + typecnt * 6ull + charcnt + leapcnt * (time_size + 4) +
           isstdcnt + isutcnt;
  }
};

std::optional<TzifHeader> read_header(ByteReader& r) {
  if (!r.has(44)) return std::nullopt;
  if (r.take(4) != "TZif") return std::nullopt;
  TzifHeader h;
  h.version = static_cast<char>(r.u8());
  r.skip(15);
  h.isutcnt = r.u32();
  h.isstdcnt = r.u32();
  h.leapcnt = r.u32();
  h.timecnt = r.u32();
  h.typecnt = r.u32();
  h.charcnt = r.u32();
  if (h.typecnt == 0 || h.typecnt > 256 || h.charcnt == 0) return std::nullopt;
  if ((h.isutcnt != 0 && h.isutcnt != h.typecnt) || (h.isstdcnt != 0 && h.isstdcnt != h.typecnt)) {
    return std::nullopt;
  }
  return h;
}

class TzErrorCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "smppguard.tz"; }
  std::string message(int ev) const override {
    switch (static_cast<TzErrc>(ev)) {
      case TzErrc::invalid_name:
        return "not a valid time zone name";
      case TzErrc::not_found:
        return "unknown time zone (no such file in the zoneinfo directory)";
      case TzErrc::malformed:
        return "malformed time zone data";
    }
    return "unknown time zone error";
  }
};

}  // namespace

const std::error_category& tz_category() {
  static const TzErrorCategory category;
  return category;
}

std::error_code make_error_code(TzErrc e) { return {static_cast<int>(e), tz_category()}; }

// --- TimeZone ---------------------------------------------------------------------------------

Result<TimeZone> TimeZone::from_posix(std::string name, std::string_view tz) {
  auto rule = PosixParser(tz).parse();
  if (!rule) return TzErrc::malformed;
  TimeZone zone;
  zone.name_ = std::move(name);
  zone.types_.push_back(Type{rule->std_offset, false, rule->std_abbreviation});
  zone.footer_ = std::make_shared<const PosixTz>(std::move(*rule));
  return zone;
}

TimeZone TimeZone::utc() {
  TimeZone zone;
  zone.name_ = "UTC";
  zone.types_.push_back(Type{0, false, "UTC"});
  return zone;
}

Result<TimeZone> TimeZone::from_tzif(std::string name, std::string_view data) {
  ByteReader r(data);
  auto header = read_header(r);
  if (!header) return TzErrc::malformed;
  std::uint64_t time_size = 4;
  if (header->version >= '2') {
    // Skip the version 1 block: the second header describes the same data with 64-bit times.
    const std::uint64_t v1 = header->block_size(4);
    if (!r.has(v1)) return TzErrc::malformed;
    r.skip(static_cast<std::size_t>(v1));
    header = read_header(r);
    if (!header) return TzErrc::malformed;
    time_size = 8;
  }
  const TzifHeader& h = *header;
  if (!r.has(h.block_size(time_size))) return TzErrc::malformed;

  TimeZone zone;
  zone.name_ = std::move(name);
  zone.transitions_.reserve(h.timecnt);
  for (std::uint32_t i = 0; i < h.timecnt; ++i) {
    const std::int64_t t = time_size == 8 ? r.i64() : r.i32();
    if (!zone.transitions_.empty() && t <= zone.transitions_.back()) return TzErrc::malformed;
    zone.transitions_.push_back(t);
  }
  zone.transition_types_.reserve(h.timecnt);
  for (std::uint32_t i = 0; i < h.timecnt; ++i) {
    const std::uint8_t idx = r.u8();
    if (idx >= h.typecnt) return TzErrc::malformed;
    zone.transition_types_.push_back(idx);
  }
  struct RawType {
    std::int32_t offset;
    std::uint8_t is_dst;
    std::uint8_t abbreviation_index;
  };
  std::vector<RawType> raw(h.typecnt);
  for (auto& t : raw) {
    t.offset = r.i32();
    t.is_dst = r.u8();
    t.abbreviation_index = r.u8();
    if (t.offset == std::numeric_limits<std::int32_t>::min() || t.is_dst > 1 ||
        t.abbreviation_index >= h.charcnt) {
      return TzErrc::malformed;
    }
  }
  const std::string_view chars = r.take(h.charcnt);
  for (const auto& t : raw) {
    std::string_view abbreviation = chars.substr(t.abbreviation_index);
    abbreviation = abbreviation.substr(0, abbreviation.find('\0'));
    zone.types_.push_back(Type{t.offset, t.is_dst == 1, std::string(abbreviation)});
  }
  r.skip(static_cast<std::size_t>(h.leapcnt * (time_size + 4) + h.isstdcnt + h.isutcnt));

  if (time_size == 8) {
    const std::string_view rest = r.rest();
    if (rest.size() < 2 || rest.front() != '\n') return TzErrc::malformed;
    const std::size_t end = rest.find('\n', 1);
    if (end == std::string_view::npos) return TzErrc::malformed;
    const std::string_view footer = rest.substr(1, end - 1);
    if (!footer.empty()) {
      auto rule = PosixParser(footer).parse();
      if (!rule) return TzErrc::malformed;
      zone.footer_ = std::make_shared<const PosixTz>(std::move(*rule));
    }
  }
  return zone;
}

TimeZone::Info TimeZone::info_at(std::int64_t utc) const {
  const bool after_transitions = transitions_.empty() || utc >= transitions_.back();
  if (footer_ && after_transitions) {
    const PosixTz& tz = *footer_;
    if (tz.has_dst && posix_is_dst(tz, utc)) {
      return Info{seconds{tz.dst_offset}, true, tz.dst_abbreviation};
    }
    return Info{seconds{tz.std_offset}, false, tz.std_abbreviation};
  }
  const Type* type = &types_.front();
  const auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
  if (it != transitions_.begin()) {
    type = &types_[transition_types_[static_cast<std::size_t>(it - transitions_.begin() - 1)]];
  }
  return Info{seconds{type->offset}, type->is_dst, type->abbreviation};
}

std::int32_t TimeZone::offset_at(std::int64_t utc) const {
  return static_cast<std::int32_t>(info_at(utc).offset.count());
}

TimeZone::Info TimeZone::info(TimePoint t) const {
  return info_at(floor<seconds>(t).time_since_epoch().count());
}

seconds TimeZone::utc_offset(TimePoint t) const { return info(t).offset; }

local_seconds TimeZone::to_local(TimePoint t) const {
  const std::int64_t s = floor<seconds>(t).time_since_epoch().count();
  return local_seconds{seconds{s + offset_at(s)}};
}

TimePoint TimeZone::to_utc(local_seconds local, Choose choose) const {
  const std::int64_t l = local.time_since_epoch().count();
  // Offsets in use within a day of this local time; a time is valid under offset o when the
  // instant l - o really has offset o.
  const std::array<std::int32_t, 3> candidates = {offset_at(l - kSecondsPerDay), offset_at(l),
                                                  offset_at(l + kSecondsPerDay)};
  std::optional<std::int64_t> best;
  std::int64_t lo = std::numeric_limits<std::int64_t>::max();
  std::int64_t hi = std::numeric_limits<std::int64_t>::min();
  for (const std::int32_t o : candidates) {
    const std::int64_t u = l - o;
    lo = std::min(lo, u);
    hi = std::max(hi, u);
    if (offset_at(u) != o) continue;
    if (!best || (choose == Choose::earliest ? u < *best : u > *best)) best = u;
  }
  if (!best) {
    // Skipped local time: the first instant whose local time is past it, found by bisection
    // (local time rises monotonically across a forward transition).
    while (lo < hi) {
      const std::int64_t mid = lo + (hi - lo) / 2;
      if (mid + offset_at(mid) > l) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    best = lo;
  }
  return TimePoint{duration_cast<TimePoint::duration>(seconds{*best})};
}

// --- TimeZoneDb -------------------------------------------------------------------------------

TimeZoneDb::TimeZoneDb(std::filesystem::path root) : root_(std::move(root)) {}

bool TimeZoneDb::valid_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '/' || name.back() == '/') return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t slash = std::min(name.find('/', start), name.size());
    const std::string_view part = name.substr(start, slash - start);
    if (part.empty() || part.front() == '.') return false;
    for (const char c : part) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '+' || c == '.';
      if (!ok) return false;
    }
    start = slash + 1;
  }
  return true;
}

Result<std::shared_ptr<const TimeZone>> TimeZoneDb::find(std::string_view name) const {
  if (!valid_name(name)) return TzErrc::invalid_name;
  {
    std::shared_lock lock(mutex_);
    if (const auto it = cache_.find(name); it != cache_.end()) return it->second;
  }
  const std::string key(name);

  std::shared_ptr<const TimeZone> zone;
  const std::filesystem::path path = root_ / key;
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) {
    std::ifstream in(path, std::ios::binary);
    std::string data;
    data.resize(kMaxTzifSize + 1);
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    data.resize(static_cast<std::size_t>(in.gcount()));
    if (data.size() > kMaxTzifSize) return TzErrc::malformed;
    auto parsed = TimeZone::from_tzif(key, data);
    if (!parsed) return parsed.error();
    zone = std::make_shared<const TimeZone>(std::move(parsed).value());
  } else if (key == "UTC" || key == "Etc/UTC") {
    zone = std::make_shared<const TimeZone>(TimeZone::utc());
  } else {
    return TzErrc::not_found;
  }

  std::unique_lock lock(mutex_);
  return cache_.try_emplace(key, std::move(zone)).first->second;
}

TimeZoneDb& TimeZoneDb::system() {
  static TimeZoneDb db;
  return db;
}

// --- Zones of numbers -------------------------------------------------------------------------

namespace {

struct AreaCode {
  std::uint16_t npa;
  std::string_view zone;
};

constexpr std::string_view kEastern = "America/New_York";
constexpr std::string_view kCentral = "America/Chicago";
constexpr std::string_view kMountain = "America/Denver";
constexpr std::string_view kArizona = "America/Phoenix";
constexpr std::string_view kPacific = "America/Los_Angeles";
constexpr std::string_view kIndiana = "America/Indiana/Indianapolis";
constexpr std::string_view kDetroit = "America/Detroit";
constexpr std::string_view kToronto = "America/Toronto";

// Geographic NANP area codes in service or assigned (NANPA), by state, province or country. An
// area code spanning zones gets the zone of most of its subscribers; those are marked "majority".
// clang-format off
constexpr AreaCode kAreaCodes[] = {
    // Alabama
    {205, kCentral}, {251, kCentral}, {256, kCentral}, {334, kCentral}, {659, kCentral},
    {938, kCentral},
    // Alaska
    {907, "America/Anchorage"},
    // Arizona (no DST; the Navajo Nation's DST is a minority of 928)
    {480, kArizona}, {520, kArizona}, {602, kArizona}, {623, kArizona}, {928, kArizona},
    // Arkansas
    {327, kCentral}, {479, kCentral}, {501, kCentral}, {870, kCentral},
    // California
    {209, kPacific}, {213, kPacific}, {279, kPacific}, {310, kPacific}, {323, kPacific},
    {341, kPacific}, {350, kPacific}, {357, kPacific}, {369, kPacific}, {408, kPacific},
    {415, kPacific}, {424, kPacific}, {442, kPacific}, {510, kPacific}, {530, kPacific},
    {559, kPacific}, {562, kPacific}, {619, kPacific}, {626, kPacific}, {628, kPacific},
    {650, kPacific}, {657, kPacific}, {661, kPacific}, {669, kPacific}, {707, kPacific},
    {714, kPacific}, {738, kPacific}, {747, kPacific}, {760, kPacific}, {805, kPacific},
    {818, kPacific}, {820, kPacific}, {831, kPacific}, {840, kPacific}, {858, kPacific},
    {909, kPacific}, {916, kPacific}, {925, kPacific}, {949, kPacific}, {951, kPacific},
    // Colorado
    {303, kMountain}, {719, kMountain}, {720, kMountain}, {970, kMountain}, {983, kMountain},
    // Connecticut
    {203, kEastern}, {475, kEastern}, {860, kEastern}, {959, kEastern},
    // Delaware
    {302, kEastern},
    // District of Columbia
    {202, kEastern}, {771, kEastern},
    // Florida (850 and its overlay 448: majority Central, the western panhandle)
    {239, kEastern}, {305, kEastern}, {321, kEastern}, {324, kEastern}, {352, kEastern},
    {386, kEastern}, {407, kEastern}, {448, kCentral}, {561, kEastern}, {645, kEastern},
    {656, kEastern}, {689, kEastern}, {727, kEastern}, {728, kEastern}, {754, kEastern},
    {772, kEastern}, {786, kEastern}, {813, kEastern}, {850, kCentral}, {863, kEastern},
    {904, kEastern}, {941, kEastern}, {954, kEastern},
    // Georgia
    {229, kEastern}, {404, kEastern}, {470, kEastern}, {478, kEastern}, {678, kEastern},
    {706, kEastern}, {762, kEastern}, {770, kEastern}, {912, kEastern}, {943, kEastern},
    // Hawaii
    {808, "Pacific/Honolulu"},
    // Idaho (majority Mountain: the panhandle is Pacific)
    {208, "America/Boise"}, {986, "America/Boise"},
    // Illinois
    {217, kCentral}, {224, kCentral}, {309, kCentral}, {312, kCentral}, {331, kCentral},
    {447, kCentral}, {464, kCentral}, {618, kCentral}, {630, kCentral}, {708, kCentral},
    {730, kCentral}, {773, kCentral}, {779, kCentral}, {815, kCentral}, {847, kCentral},
    {861, kCentral}, {872, kCentral},
    // Indiana (219: the Chicago area, Central; 812/930: majority Eastern, Evansville is Central)
    {219, kCentral}, {260, kIndiana}, {317, kIndiana}, {463, kIndiana}, {574, kIndiana},
    {765, kIndiana}, {812, kIndiana}, {930, kIndiana},
    // Iowa
    {319, kCentral}, {515, kCentral}, {563, kCentral}, {641, kCentral}, {712, kCentral},
    // Kansas (majority Central; four western counties are Mountain)
    {316, kCentral}, {620, kCentral}, {785, kCentral}, {913, kCentral},
    // Kentucky (270/364 western, Central; 502 Louisville; 606/859 Eastern)
    {270, kCentral}, {364, kCentral}, {502, "America/Kentucky/Louisville"}, {606, kEastern},
    {859, kEastern},
    // Louisiana
    {225, kCentral}, {318, kCentral}, {337, kCentral}, {457, kCentral}, {504, kCentral},
    {985, kCentral},
    // Maine
    {207, kEastern},
    // Maryland
    {227, kEastern}, {240, kEastern}, {301, kEastern}, {410, kEastern}, {443, kEastern},
    {667, kEastern},
    // Massachusetts
    {339, kEastern}, {351, kEastern}, {413, kEastern}, {508, kEastern}, {617, kEastern},
    {774, kEastern}, {781, kEastern}, {857, kEastern}, {978, kEastern},
    // Michigan (906: majority Eastern; four Upper Peninsula counties are Central)
    {231, kDetroit}, {248, kDetroit}, {269, kDetroit}, {313, kDetroit}, {517, kDetroit},
    {586, kDetroit}, {616, kDetroit}, {679, kDetroit}, {734, kDetroit}, {810, kDetroit},
    {906, kDetroit}, {947, kDetroit}, {989, kDetroit},
    // Minnesota
    {218, kCentral}, {320, kCentral}, {507, kCentral}, {612, kCentral}, {651, kCentral},
    {763, kCentral}, {924, kCentral}, {952, kCentral},
    // Mississippi
    {228, kCentral}, {601, kCentral}, {662, kCentral}, {769, kCentral},
    // Missouri
    {235, kCentral}, {314, kCentral}, {417, kCentral}, {557, kCentral}, {573, kCentral},
    {636, kCentral}, {660, kCentral}, {816, kCentral}, {975, kCentral},
    // Montana
    {406, kMountain},
    // Nebraska (308: majority Central; the western end is Mountain)
    {308, kCentral}, {402, kCentral}, {531, kCentral},
    // Nevada (775: majority Pacific; West Wendover is Mountain)
    {702, kPacific}, {725, kPacific}, {775, kPacific},
    // New Hampshire
    {603, kEastern},
    // New Jersey
    {201, kEastern}, {551, kEastern}, {609, kEastern}, {640, kEastern}, {732, kEastern},
    {848, kEastern}, {856, kEastern}, {862, kEastern}, {908, kEastern}, {973, kEastern},
    // New Mexico
    {505, kMountain}, {575, kMountain},
    // New York
    {212, kEastern}, {315, kEastern}, {329, kEastern}, {332, kEastern}, {347, kEastern},
    {363, kEastern}, {516, kEastern}, {518, kEastern}, {585, kEastern}, {607, kEastern},
    {624, kEastern}, {631, kEastern}, {646, kEastern}, {680, kEastern}, {716, kEastern},
    {718, kEastern}, {838, kEastern}, {845, kEastern}, {914, kEastern}, {917, kEastern},
    {929, kEastern}, {934, kEastern},
    // North Carolina
    {252, kEastern}, {336, kEastern}, {472, kEastern}, {704, kEastern}, {743, kEastern},
    {828, kEastern}, {910, kEastern}, {919, kEastern}, {980, kEastern}, {984, kEastern},
    // North Dakota (majority Central; the southwest is Mountain)
    {701, kCentral},
    // Ohio
    {216, kEastern}, {220, kEastern}, {234, kEastern}, {283, kEastern}, {326, kEastern},
    {330, kEastern}, {380, kEastern}, {419, kEastern}, {436, kEastern}, {440, kEastern},
    {513, kEastern}, {567, kEastern}, {614, kEastern}, {740, kEastern}, {937, kEastern},
    // Oklahoma
    {405, kCentral}, {539, kCentral}, {572, kCentral}, {580, kCentral}, {918, kCentral},
    // Oregon (541/458: majority Pacific; Malheur County is Mountain)
    {458, kPacific}, {503, kPacific}, {541, kPacific}, {971, kPacific},
    // Pennsylvania
    {215, kEastern}, {223, kEastern}, {267, kEastern}, {272, kEastern}, {412, kEastern},
    {445, kEastern}, {484, kEastern}, {570, kEastern}, {582, kEastern}, {610, kEastern},
    {717, kEastern}, {724, kEastern}, {814, kEastern}, {835, kEastern}, {878, kEastern},
    // Rhode Island
    {401, kEastern},
    // South Carolina
    {803, kEastern}, {839, kEastern}, {843, kEastern}, {854, kEastern}, {864, kEastern},
    // South Dakota (majority Central; the west is Mountain)
    {605, kCentral},
    // Tennessee (423/865 East Tennessee, Eastern; the rest Central; 931 majority Central)
    {423, kEastern}, {615, kCentral}, {629, kCentral}, {731, kCentral}, {865, kEastern},
    {901, kCentral}, {931, kCentral},
    // Texas (915: El Paso, Mountain)
    {210, kCentral}, {214, kCentral}, {254, kCentral}, {281, kCentral}, {325, kCentral},
    {346, kCentral}, {361, kCentral}, {409, kCentral}, {430, kCentral}, {432, kCentral},
    {469, kCentral}, {512, kCentral}, {621, kCentral}, {682, kCentral}, {713, kCentral},
    {726, kCentral}, {737, kCentral}, {806, kCentral}, {817, kCentral}, {830, kCentral},
    {832, kCentral}, {903, kCentral}, {915, kMountain}, {936, kCentral}, {940, kCentral},
    {945, kCentral}, {956, kCentral}, {972, kCentral}, {979, kCentral},
    // Utah
    {385, kMountain}, {435, kMountain}, {801, kMountain},
    // Vermont
    {802, kEastern},
    // Virginia
    {276, kEastern}, {434, kEastern}, {540, kEastern}, {571, kEastern}, {686, kEastern},
    {703, kEastern}, {757, kEastern}, {804, kEastern}, {826, kEastern}, {948, kEastern},
    // Washington
    {206, kPacific}, {253, kPacific}, {360, kPacific}, {425, kPacific}, {509, kPacific},
    {564, kPacific},
    // West Virginia
    {304, kEastern}, {681, kEastern},
    // Wisconsin
    {262, kCentral}, {274, kCentral}, {353, kCentral}, {414, kCentral}, {534, kCentral},
    {608, kCentral}, {715, kCentral}, {920, kCentral},
    // Wyoming
    {307, kMountain},
    // US territories
    {340, "America/St_Thomas"}, {670, "Pacific/Saipan"}, {671, "Pacific/Guam"},
    {684, "Pacific/Pago_Pago"}, {787, "America/Puerto_Rico"}, {939, "America/Puerto_Rico"},
    // Alberta
    {368, "America/Edmonton"}, {403, "America/Edmonton"}, {587, "America/Edmonton"},
    {780, "America/Edmonton"}, {825, "America/Edmonton"},
    // British Columbia (250: majority Pacific; the Peace River and East Kootenay are Mountain)
    {236, "America/Vancouver"}, {250, "America/Vancouver"}, {257, "America/Vancouver"},
    {604, "America/Vancouver"}, {672, "America/Vancouver"}, {778, "America/Vancouver"},
    // Manitoba
    {204, "America/Winnipeg"}, {431, "America/Winnipeg"}, {584, "America/Winnipeg"},
    // New Brunswick
    {428, "America/Moncton"}, {506, "America/Moncton"},
    // Newfoundland and Labrador (majority Newfoundland time; most of Labrador is Atlantic)
    {709, "America/St_Johns"}, {879, "America/St_Johns"},
    // Nova Scotia and Prince Edward Island
    {782, "America/Halifax"}, {902, "America/Halifax"},
    // Ontario (807: majority Eastern, Thunder Bay; Kenora is Central)
    {226, kToronto}, {249, kToronto}, {289, kToronto}, {343, kToronto}, {365, kToronto},
    {382, kToronto}, {416, kToronto}, {437, kToronto}, {519, kToronto}, {548, kToronto},
    {613, kToronto}, {647, kToronto}, {683, kToronto}, {705, kToronto}, {742, kToronto},
    {753, kToronto}, {807, kToronto}, {905, kToronto}, {942, kToronto},
    // Quebec (Eastern; the Magdalen Islands are Atlantic)
    {263, kToronto}, {354, kToronto}, {367, kToronto}, {418, kToronto}, {438, kToronto},
    {450, kToronto}, {468, kToronto}, {514, kToronto}, {579, kToronto}, {581, kToronto},
    {819, kToronto}, {873, kToronto},
    // Saskatchewan (no DST)
    {306, "America/Regina"}, {474, "America/Regina"}, {639, "America/Regina"},
    // Yukon, Northwest Territories, Nunavut (majority Mountain: NWT and western Nunavut; Yukon
    // keeps UTC-7 all year, Nunavut's east is Central and Eastern)
    {867, "America/Edmonton"},
    // Caribbean NANP members
    {242, "America/Nassau"}, {246, "America/Barbados"}, {264, "America/Anguilla"},
    {268, "America/Antigua"}, {284, "America/Tortola"}, {345, "America/Cayman"},
    {441, "Atlantic/Bermuda"}, {473, "America/Grenada"}, {649, "America/Grand_Turk"},
    {658, "America/Jamaica"}, {664, "America/Montserrat"}, {721, "America/Lower_Princes"},
    {758, "America/St_Lucia"}, {767, "America/Dominica"}, {784, "America/St_Vincent"},
    {809, "America/Santo_Domingo"}, {829, "America/Santo_Domingo"},
    {849, "America/Santo_Domingo"}, {868, "America/Port_of_Spain"}, {869, "America/St_Kitts"},
    {876, "America/Jamaica"},
};
// clang-format on

constexpr bool area_codes_unique() {
  for (std::size_t i = 0; i < std::size(kAreaCodes); ++i) {
    if (kAreaCodes[i].npa < 200 || kAreaCodes[i].npa > 999) return false;
    for (std::size_t j = i + 1; j < std::size(kAreaCodes); ++j) {
      if (kAreaCodes[i].npa == kAreaCodes[j].npa) return false;
    }
  }
  return true;
}
static_assert(area_codes_unique(), "each area code appears once");

}  // namespace

std::optional<std::string_view> zone_for_area_code(std::string_view npa) {
  static const std::array<std::string_view, 1000> index = [] {
    std::array<std::string_view, 1000> out{};
    for (const auto& a : kAreaCodes) out[a.npa] = a.zone;
    return out;
  }();
  if (npa.size() != 3 ||
      !std::all_of(npa.begin(), npa.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  const std::size_t n =
      static_cast<std::size_t>((npa[0] - '0') * 100 + (npa[1] - '0') * 10 + (npa[2] - '0'));
  if (index[n].empty()) return std::nullopt;
  return index[n];
}

std::string zone_for_number(std::string_view e164, std::string_view fallback_zone) {
  std::string_view digits = e164;
  if (digits.starts_with('+')) digits.remove_prefix(1);
  if (digits.size() == 11 && digits.front() == '1') {
    if (const auto zone = zone_for_area_code(digits.substr(1, 3))) return std::string(*zone);
    return std::string(fallback_zone);
  }
  if (const CountryInfo* country = find_country_for_e164(digits);
      country && !country->zone.empty()) {
    return std::string(country->zone);
  }
  return std::string(fallback_zone);
}

}  // namespace smppguard::policy
