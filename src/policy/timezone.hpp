#pragma once
// Time zones without std::chrono::tzdb (absent from GCC 12's libstdc++): a TZif reader (RFC 8536,
// versions 1 to 3, with the footer's POSIX TZ rule for instants after the last transition), a
// thread-safe cache of loaded zones, and the subscriber's zone guessed from the number.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
#include "common/time.hpp"

namespace smppguard::policy {

enum class TzErrc {
  invalid_name = 1,  // not a zone name ("../etc/passwd", "", "/abs")
  not_found,         // no such file under the zoneinfo directory
  malformed,         // not a valid TZif file or POSIX TZ string
};
const std::error_category& tz_category();
std::error_code make_error_code(TzErrc e);

namespace detail {
struct PosixTz;
}

/// One time zone's rules. Immutable once built, so every const member is thread-safe.
class TimeZone {
 public:
  /// The local time type in effect at an instant.
  struct Info {
    std::chrono::seconds offset;  // local = UTC + offset
    bool is_dst = false;
    std::string abbreviation;  // "EST", "+1030"
  };
  /// Which instant to pick for a local time that happens twice (when clocks go back).
  enum class Choose { earliest, latest };

  /// Parses the contents of a TZif file. Leap-second records are ignored.
  static Result<TimeZone> from_tzif(std::string name, std::string_view data);
  /// A zone defined only by a POSIX TZ string ("EST5EDT,M3.2.0,M11.1.0", "<+1030>-10:30<+11>-11,
  /// M10.1.0,M4.1.0"), with the RFC 8536 extensions (hours up to 167, negative rule times).
  static Result<TimeZone> from_posix(std::string name, std::string_view tz);
  /// UTC.
  static TimeZone utc();

  const std::string& name() const { return name_; }
  Info info(TimePoint t) const;
  std::chrono::seconds utc_offset(TimePoint t) const;
  /// The local wall-clock time at an instant.
  std::chrono::local_seconds to_local(TimePoint t) const;
  /// The instant a local time denotes. A time that happens twice resolves by `choose`; a time that
  /// never happens (skipped when clocks go forward) resolves to the instant of that transition, the
  /// first instant whose local time is later than it.
  TimePoint to_utc(std::chrono::local_seconds local, Choose choose = Choose::earliest) const;

 private:
  struct Type {
    std::int32_t offset;
    bool is_dst;
    std::string abbreviation;
  };

  TimeZone() = default;
  std::int32_t offset_at(std::int64_t utc_seconds) const;
  Info info_at(std::int64_t utc_seconds) const;

  std::string name_;
  std::vector<std::int64_t> transitions_;
  std::vector<std::uint8_t> transition_types_;
  std::vector<Type> types_;
  std::shared_ptr<const detail::PosixTz> footer_;  // rule after the last transition, if any
};

/// Loads zones from a zoneinfo directory and keeps them for the life of the process.
/// Thread-safe: find() may be called from any thread; returned zones are immutable and shared.
/// Flow: find(name) -> name check -> cache hit under a shared lock, or read and parse the file
/// without holding it -> insert (the first of racing loaders wins). Failures are not cached.
class TimeZoneDb {
 public:
  static constexpr std::string_view kDefaultRoot = "/usr/share/zoneinfo";

  explicit TimeZoneDb(std::filesystem::path root = std::filesystem::path(kDefaultRoot));

  /// The zone with this IANA name ("America/New_York"). "UTC" and "Etc/UTC" work without tzdata.
  Result<std::shared_ptr<const TimeZone>> find(std::string_view name) const;
  /// Whether a name is syntactically a zone name (checked before touching the file system).
  static bool valid_name(std::string_view name);

  /// The process-wide database over kDefaultRoot.
  static TimeZoneDb& system();

 private:
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::filesystem::path root_;
  // Every MT looks its subscriber's zone up: hits take a shared lock and allocate nothing.
  mutable std::shared_mutex mutex_;
  mutable std::unordered_map<std::string, std::shared_ptr<const TimeZone>, NameHash,
                             std::equal_to<>>
      cache_;
};

/// The IANA zone of a North American area code (NPA) of a US, Canadian or Caribbean NANP number;
/// nullopt for non-geographic codes (8XX toll-free, 5XX, 900...) and unknown ones. Where an area
/// code spans zones the zone of most of its subscribers is given.
std::optional<std::string_view> zone_for_area_code(std::string_view npa);

/// The subscriber's zone for quiet hours: by area code for +1, by country for single-zone
/// countries (or the zone of most subscribers; see CountryInfo::zone), otherwise fallback_zone
/// (the program's zone). Thread-safe.
std::string zone_for_number(std::string_view e164, std::string_view fallback_zone);

}  // namespace smppguard::policy

template <>
struct std::is_error_code_enum<smppguard::policy::TzErrc> : std::true_type {};
