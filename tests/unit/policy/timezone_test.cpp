#include "policy/timezone.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "policy/numbers.hpp"

using namespace smppguard;
using namespace smppguard::policy;
using namespace std::chrono;

namespace {

TimePoint utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return TimePoint{sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s}};
}

local_seconds local(int y, unsigned mo, unsigned d, int h = 0, int mi = 0) {
  return local_seconds{local_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi}};
}

std::shared_ptr<const TimeZone> zone(std::string_view name) {
  auto z = TimeZoneDb::system().find(name);
  REQUIRE_MESSAGE(z.has_value(), name);
  return *z;
}

// Minutes east of UTC at an instant.
long offset_minutes(const TimeZone& z, TimePoint t) {
  return static_cast<long>(duration_cast<minutes>(z.utc_offset(t)).count());
}

}  // namespace

TEST_CASE("America/New_York around both 2024 DST changes") {
  const auto ny = zone("America/New_York");
  CHECK(offset_minutes(*ny, utc(2024, 1, 15, 12)) == -300);
  CHECK(offset_minutes(*ny, utc(2024, 7, 1, 12)) == -240);
  CHECK(offset_minutes(*ny, utc(2024, 3, 10, 6, 59, 59)) == -300);
  CHECK(offset_minutes(*ny, utc(2024, 3, 10, 7)) == -240);
  CHECK(offset_minutes(*ny, utc(2024, 11, 3, 5, 59, 59)) == -240);
  CHECK(offset_minutes(*ny, utc(2024, 11, 3, 6)) == -300);
  CHECK(ny->info(utc(2024, 1, 15)).abbreviation == "EST");
  CHECK(ny->info(utc(2024, 7, 1)).abbreviation == "EDT");
  CHECK(ny->info(utc(2024, 7, 1)).is_dst);
  CHECK_FALSE(ny->info(utc(2024, 1, 15)).is_dst);
  CHECK(offset_minutes(*ny, utc(1970, 1, 1)) == -300);
  CHECK(ny->info(utc(1800, 1, 1)).abbreviation == "LMT");  // before the first transition
  CHECK(ny->name() == "America/New_York");
}

TEST_CASE("America/Los_Angeles, Europe/London, Asia/Kolkata") {
  const auto la = zone("America/Los_Angeles");
  CHECK(offset_minutes(*la, utc(2024, 3, 10, 9, 59, 59)) == -480);
  CHECK(offset_minutes(*la, utc(2024, 3, 10, 10)) == -420);
  CHECK(offset_minutes(*la, utc(2024, 12, 25)) == -480);

  const auto london = zone("Europe/London");
  CHECK(offset_minutes(*london, utc(2024, 3, 31, 0, 59, 59)) == 0);
  CHECK(offset_minutes(*london, utc(2024, 3, 31, 1)) == 60);
  CHECK(offset_minutes(*london, utc(2024, 10, 27, 0, 59, 59)) == 60);
  CHECK(offset_minutes(*london, utc(2024, 10, 27, 1)) == 0);
  CHECK(london->info(utc(2024, 7, 1)).abbreviation == "BST");

  const auto kolkata = zone("Asia/Kolkata");
  CHECK(offset_minutes(*kolkata, utc(2024, 6, 1)) == 330);
  CHECK(offset_minutes(*kolkata, utc(2024, 12, 1)) == 330);
  CHECK(offset_minutes(*kolkata, utc(2250, 1, 1)) == 330);
  CHECK(kolkata->info(utc(2024, 6, 1)).abbreviation == "IST");
}

TEST_CASE("Australia/Lord_Howe has a 30-minute DST") {
  const auto lh = zone("Australia/Lord_Howe");
  CHECK(offset_minutes(*lh, utc(2024, 4, 6, 14, 59, 59)) == 660);
  CHECK(offset_minutes(*lh, utc(2024, 4, 6, 15)) == 630);
  CHECK(offset_minutes(*lh, utc(2024, 10, 5, 15, 29, 59)) == 630);
  CHECK(offset_minutes(*lh, utc(2024, 10, 5, 15, 30)) == 660);
  CHECK(lh->info(utc(2024, 7, 1)).abbreviation == "+1030");
  CHECK(lh->info(utc(2024, 12, 1)).abbreviation == "+11");
  // Beyond the transitions in the file: the footer's rule.
  CHECK(offset_minutes(*lh, utc(2090, 1, 1)) == 660);
  CHECK(offset_minutes(*lh, utc(2090, 7, 1)) == 630);
}

TEST_CASE("instants after the last transition follow the footer's POSIX rule") {
  const auto ny = zone("America/New_York");
  CHECK(offset_minutes(*ny, utc(2100, 3, 14, 6, 59, 59)) == -300);
  CHECK(offset_minutes(*ny, utc(2100, 3, 14, 7)) == -240);
  CHECK(offset_minutes(*ny, utc(2100, 11, 7, 5, 59, 59)) == -240);
  CHECK(offset_minutes(*ny, utc(2100, 11, 7, 6)) == -300);
  CHECK(ny->info(utc(2100, 7, 1)).abbreviation == "EDT");
  CHECK(offset_minutes(*zone("Europe/London"), utc(2200, 7, 1)) == 60);
  CHECK(offset_minutes(*zone("Australia/Sydney"), utc(2250, 1, 1)) == 660);
  // RFC 8536 version 3: negative rule times (America/Nuuk "<-02>2<-01>,M3.5.0/-1,M10.5.0/0").
  const auto nuuk = zone("America/Nuuk");
  CHECK(offset_minutes(*nuuk, utc(2050, 3, 27, 0, 59, 59)) == -120);
  CHECK(offset_minutes(*nuuk, utc(2050, 3, 27, 1)) == -60);
  CHECK(offset_minutes(*nuuk, utc(2050, 10, 30, 0, 59, 59)) == -60);
  CHECK(offset_minutes(*nuuk, utc(2050, 10, 30, 1)) == -120);
}

TEST_CASE("local time to UTC across gaps and overlaps") {
  const auto ny = zone("America/New_York");
  CHECK(ny->to_utc(local(2024, 7, 4, 12)) == utc(2024, 7, 4, 16));
  CHECK(ny->to_utc(local(2024, 1, 4, 12)) == utc(2024, 1, 4, 17));
  // 02:30 on 2024-03-10 never happens: the transition instant (03:00 EDT).
  CHECK(ny->to_utc(local(2024, 3, 10, 2, 30)) == utc(2024, 3, 10, 7));
  CHECK(ny->to_utc(local(2024, 3, 10, 2, 0)) == utc(2024, 3, 10, 7));
  CHECK(ny->to_utc(local(2024, 3, 10, 3, 0)) == utc(2024, 3, 10, 7));
  // 01:30 on 2024-11-03 happens twice.
  CHECK(ny->to_utc(local(2024, 11, 3, 1, 30)) == utc(2024, 11, 3, 5, 30));
  CHECK(ny->to_utc(local(2024, 11, 3, 1, 30), TimeZone::Choose::latest) == utc(2024, 11, 3, 6, 30));
  CHECK(ny->to_local(utc(2024, 7, 4, 16)) == local(2024, 7, 4, 12));
  const auto lh = zone("Australia/Lord_Howe");
  CHECK(lh->to_utc(local(2024, 10, 6, 2, 15)) == utc(2024, 10, 5, 15, 30));
  CHECK(lh->to_utc(local(2024, 4, 7, 1, 45)) == utc(2024, 4, 6, 14, 45));
  CHECK(lh->to_utc(local(2024, 4, 7, 1, 45), TimeZone::Choose::latest) == utc(2024, 4, 6, 15, 15));
  // Round trip for a year of instants in a zone with DST.
  for (int h = 0; h < 24 * 366; h += 7) {
    const TimePoint t = utc(2024, 1, 1) + hours{h} + minutes{h % 60};
    const local_seconds l = ny->to_local(t);
    CHECK((ny->to_utc(l) == t || ny->to_utc(l, TimeZone::Choose::latest) == t));
  }
}

TEST_CASE("POSIX TZ strings") {
  const auto us = TimeZone::from_posix("us", "EST5EDT,M3.2.0,M11.1.0");
  REQUIRE(us.has_value());
  CHECK(offset_minutes(*us, utc(2024, 3, 10, 7)) == -240);
  CHECK(offset_minutes(*us, utc(2024, 3, 10, 6, 59, 59)) == -300);
  CHECK(offset_minutes(*us, utc(1999, 3, 20, 12)) == -240);  // the rule, not 1999's law
  const auto lh = TimeZone::from_posix("lh", "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
  REQUIRE(lh.has_value());
  CHECK(offset_minutes(*lh, utc(2024, 10, 5, 15, 30)) == 660);
  CHECK(offset_minutes(*lh, utc(2025, 1, 1)) == 660);
  CHECK(offset_minutes(*lh, utc(2025, 7, 1)) == 630);
  const auto ist = TimeZone::from_posix("ist", "IST-5:30");
  REQUIRE(ist.has_value());
  CHECK(offset_minutes(*ist, utc(2024, 1, 1)) == 330);
  CHECK_FALSE(ist->info(utc(2024, 1, 1)).is_dst);
  // A DST name without rules takes the US rule; the DST offset defaults to one hour ahead.
  const auto dflt = TimeZone::from_posix("d", "CST6CDT");
  REQUIRE(dflt.has_value());
  CHECK(offset_minutes(*dflt, utc(2024, 7, 1)) == -300);
  CHECK(offset_minutes(*dflt, utc(2024, 1, 1)) == -360);
  // Julian days, with and without February 29.
  const auto jul = TimeZone::from_posix("j", "AAA0BBB-1,J60/0,J300/0");
  REQUIRE(jul.has_value());
  CHECK(offset_minutes(*jul, utc(2024, 2, 29, 12)) == 0);  // J60 is March 1 in every year
  CHECK(offset_minutes(*jul, utc(2024, 3, 1, 0)) == 60);
  const auto zero = TimeZone::from_posix("z", "AAA0BBB-1,59/0,299/0");
  REQUIRE(zero.has_value());
  CHECK(offset_minutes(*zero, utc(2024, 2, 29, 0)) == 60);  // day 59 counts February 29
  CHECK(offset_minutes(*zero, utc(2023, 3, 1, 0)) == 60);
  CHECK(offset_minutes(*zero, utc(2023, 2, 28, 23)) == 0);
  // DST all year (RFC 8536 example).
  const auto always = TimeZone::from_posix("a", "EST5EDT4,0/0,J365/25");
  REQUIRE(always.has_value());
  for (unsigned m = 1; m <= 12; ++m) CHECK(offset_minutes(*always, utc(2024, m, 1)) == -240);
  CHECK(offset_minutes(*always, utc(2024, 12, 31, 23, 59)) == -240);

  for (const char* bad : {"", "E5", "EST", "EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M3.2.0", "EST5x",
                          "<AB>5", "EST25", "EST5EDT,M3.6.0,M11.1.0", "EST5EDT,M3.2.7,M11.1.0",
                          "EST5EDT,J0,J365", "EST5EDT,M3.2.0/168,M11.1.0"}) {
    CAPTURE(bad);
    CHECK(TimeZone::from_posix("bad", bad).error() == TzErrc::malformed);
  }
}

TEST_CASE("malformed TZif data is rejected, never read out of bounds") {
  CHECK(TimeZone::from_tzif("x", "").error() == TzErrc::malformed);
  CHECK(TimeZone::from_tzif("x", "TZif2").error() == TzErrc::malformed);
  CHECK(TimeZone::from_tzif("x", std::string(100, 'x')).error() == TzErrc::malformed);
  std::ifstream in(std::string(TimeZoneDb::kDefaultRoot) + "/America/New_York", std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(data.size() > 100);
  CHECK(TimeZone::from_tzif("ny", data).has_value());
  for (std::size_t cut = 0; cut + 1 < data.size(); cut += 37) {
    CHECK_FALSE(TimeZone::from_tzif("ny", std::string_view(data).substr(0, cut)).has_value());
  }
  std::string flipped = data;
  flipped[4] = '1';  // claims version 1 (no footer): the first block alone still reads
  CHECK(TimeZone::from_tzif("ny1", flipped).has_value());
}

TEST_CASE("every zone in the system zoneinfo directory parses") {
  namespace fs = std::filesystem;
  int parsed = 0;
  for (const auto& entry : fs::recursive_directory_iterator(TimeZoneDb::kDefaultRoot)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!data.starts_with("TZif")) continue;
    CAPTURE(entry.path().string());
    CHECK(TimeZone::from_tzif(entry.path().string(), data).has_value());
    ++parsed;
  }
  CHECK(parsed > 300);
}

TEST_CASE("the zone database validates names and caches zones") {
  TimeZoneDb& db = TimeZoneDb::system();
  const auto a = db.find("America/New_York");
  const auto b = db.find("America/New_York");
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  CHECK(a->get() == b->get());
  for (const char* bad :
       {"", "/etc/passwd", "../etc/passwd", "America/../../etc/passwd", "America//New_York",
        "America/New_York/", ".hidden", "a b", "America/New York"}) {
    CAPTURE(bad);
    CHECK(db.find(bad).error() == TzErrc::invalid_name);
  }
  CHECK(db.find("Nowhere/City").error() == TzErrc::not_found);
  CHECK(db.find("America").error() == TzErrc::not_found);  // a directory
  CHECK(TimeZoneDb::valid_name("Etc/GMT+5"));
  CHECK(TimeZoneDb::valid_name("America/Argentina/Buenos_Aires"));
  // UTC works without tzdata.
  TimeZoneDb empty("/nonexistent-zoneinfo");
  const auto u = empty.find("UTC");
  REQUIRE(u.has_value());
  CHECK(offset_minutes(**u, utc(2024, 7, 1)) == 0);
  CHECK(empty.find("Etc/UTC").has_value());
  CHECK(empty.find("America/New_York").error() == TzErrc::not_found);
  CHECK(std::error_code(TzErrc::not_found).message().find("unknown time zone") !=
        std::string::npos);
}

TEST_CASE("the zone database is safe to use from several threads") {
  TimeZoneDb db;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&db, &failures] {
      for (int k = 0; k < 50; ++k) {
        for (const char* name : {"America/Chicago", "Europe/Paris", "Asia/Tokyo"}) {
          const auto z = db.find(name);
          if (!z || (*z)->name() != name) ++failures;
          if (z) (void)(*z)->utc_offset(utc(2024, 1, 1) + hours{k});
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
}

TEST_CASE("area codes give the subscriber's zone") {
  CHECK(zone_for_area_code("212") == "America/New_York");
  CHECK(zone_for_area_code("415") == "America/Los_Angeles");
  CHECK(zone_for_area_code("312") == "America/Chicago");
  CHECK(zone_for_area_code("602") == "America/Phoenix");
  CHECK(zone_for_area_code("808") == "Pacific/Honolulu");
  CHECK(zone_for_area_code("907") == "America/Anchorage");
  CHECK(zone_for_area_code("416") == "America/Toronto");
  CHECK(zone_for_area_code("303") == "America/Denver");
  CHECK(zone_for_area_code("915") == "America/Denver");  // El Paso
  CHECK(zone_for_area_code("604") == "America/Vancouver");
  CHECK(zone_for_area_code("306") == "America/Regina");
  CHECK(zone_for_area_code("709") == "America/St_Johns");
  CHECK(zone_for_area_code("787") == "America/Puerto_Rico");
  CHECK(zone_for_area_code("876") == "America/Jamaica");
  CHECK_FALSE(zone_for_area_code("800").has_value());
  CHECK_FALSE(zone_for_area_code("888").has_value());
  CHECK_FALSE(zone_for_area_code("555").has_value());
  CHECK_FALSE(zone_for_area_code("12").has_value());
  CHECK_FALSE(zone_for_area_code("1a2").has_value());

  CHECK(zone_for_number("+12125551234", "Europe/Berlin") == "America/New_York");
  CHECK(zone_for_number("+14155551234", "Europe/Berlin") == "America/Los_Angeles");
  CHECK(zone_for_number("+14165551234", "Europe/Berlin") == "America/Toronto");
  CHECK(zone_for_number("+18005551234", "America/Chicago") == "America/Chicago");
  CHECK(zone_for_number("+15551234567", "America/Denver") == "America/Denver");
  CHECK(zone_for_number("+447700900123", "America/Chicago") == "Europe/London");
  CHECK(zone_for_number("+919876543210", "America/Chicago") == "Asia/Kolkata");
  CHECK(zone_for_number("+61412345678", "America/Chicago") == "Australia/Sydney");
  CHECK(zone_for_number("+999123456789", "America/Chicago") == "America/Chicago");
  CHECK(zone_for_number("12345", "America/Chicago") == "America/Chicago");
  CHECK(zone_for_number("", "UTC") == "UTC");
}

TEST_CASE("every US state and Canadian province has area codes, and every zone named loads") {
  int codes = 0;
  for (int npa = 200; npa <= 999; ++npa) {
    const std::string key = std::to_string(npa);
    const auto z = zone_for_area_code(key);
    if (!z) continue;
    ++codes;
    CAPTURE(key);
    CHECK(TimeZoneDb::system().find(*z).has_value());
  }
  CHECK(codes > 380);
  // One code per state and DC, as a sample that none is missing.
  for (const char* npa :
       {"205", "907", "480", "501", "213", "303", "203", "302", "202", "305", "404", "808", "208",
        "312", "317", "515", "316", "502", "504", "207", "410", "617", "313", "612", "601", "314",
        "406", "402", "702", "603", "201", "505", "212", "704", "701", "216", "405", "503", "215",
        "401", "803", "605", "615", "214", "801", "802", "703", "206", "304", "414", "307", "403",
        "604", "204", "506", "709", "902", "416", "514", "306", "867"}) {
    CAPTURE(npa);
    CHECK(zone_for_area_code(npa).has_value());
  }
  for (const char* c : {"GB", "DE", "FR", "IN", "AU", "BR", "MX", "JP", "ZA", "UA", "AR"}) {
    CAPTURE(c);
    CHECK(TimeZoneDb::system().find(find_country(c)->zone).has_value());
  }
}
