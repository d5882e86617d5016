// decide_mt(): the decision table over state x category x opt_in_mode, quiet hours, frequency cap.
#include <map>
#include <smppguard/proto/status.hpp>

#include "unit/policy/engine_support.hpp"

using namespace smppguard;
using namespace smppguard::policy;
using namespace smppguard::policy::test;

namespace {

const TimeZone& zone(std::string_view name) {
  auto z = TimeZoneDb::system().find(name);
  REQUIRE_MESSAGE(z.has_value(), name);
  return **z;
}

struct Mt {
  config::Config config = make_config();
  MtSubject subject;
  TimePoint now = kDay;
  std::string zone_name = "America/New_York";
  std::size_t sent = 0;

  Mt() {
    subject.program = &config.programs.front();
    subject.msisdn = kSub;
  }
  config::Program& program() { return config.programs.front(); }
  MtDecision decide(Category category, const store::ConsentPair& pair) {
    subject.category = category;
    const MtContext context{config, program(), subject, now, zone(zone_name), sent};
    return decide_mt(context, pair);
  }
};

// The states of the table, as (program record, tenant record).
struct State {
  const char* name;
  store::ConsentPair pair;
};

std::vector<State> states() {
  const std::int64_t fresh = ms(kDay) - kHour;
  const std::int64_t stale = ms(kDay) - 25 * kHour;
  auto pair = [](std::optional<ConsentRecord> p, std::optional<ConsentRecord> t = std::nullopt) {
    return store::ConsentPair{std::move(p), std::move(t)};
  };
  auto implied_with_disclaimer = record(ConsentState::opted_in, ConsentLevel::implied, stale);
  implied_with_disclaimer.disclaimer_sent_at_ms = stale;
  auto tenant_out = record(ConsentState::opted_out);
  return {
      {"no record", pair(std::nullopt)},
      {"state none", pair(record(ConsentState::none))},
      {"pending", pair(record(ConsentState::pending))},
      {"implied fresh", pair(record(ConsentState::opted_in, ConsentLevel::implied, fresh))},
      {"implied expired", pair(record(ConsentState::opted_in, ConsentLevel::implied, stale))},
      {"implied expired, disclaimer sent", pair(implied_with_disclaimer)},
      {"express", pair(record(ConsentState::opted_in, ConsentLevel::express))},
      {"express_written", pair(record(ConsentState::opted_in, ConsentLevel::express_written))},
      {"opted_out program",
       pair(record(ConsentState::opted_out, ConsentLevel::express_written, fresh))},
      {"opted_out tenant",
       pair(record(ConsentState::opted_in, ConsentLevel::express_written, fresh), tenant_out)},
      {"opted_out tenant, no program record", pair(std::nullopt, tenant_out)},
      {"tenant record lifted (none)",
       pair(record(ConsentState::opted_in, ConsentLevel::express), record(ConsentState::none))},
  };
}

// F forward, D disclaimer_then_forward, O/N/L refuse opted_out/no_consent/consent_level,
// H:N H:L hold_for_consent, R:N R:L refuse_and_request (reason after the colon).
MtDecision expected(const config::Config& config, const std::string& code) {
  const auto reason = [&](char c) {
    switch (c) {
      case 'O':
        return Reason::opted_out;
      case 'N':
        return Reason::no_consent;
      case 'L':
        return Reason::consent_level;
    }
    FAIL("bad code " << code);
    return Reason::none;
  };
  if (code == "F") return MtDecision{};
  if (code == "D") return MtDecision{MtAction::disclaimer_then_forward, Reason::none, 0, {}};
  if (code.size() == 1) return refusal(config, reason(code[0]));
  const Reason r = reason(code[2]);
  const auto action = code[0] == 'H' ? MtAction::hold_for_consent : MtAction::refuse_and_request;
  return MtDecision{action, r, status_for(config, r), {}};
}

void check_table(Mt& mt, const std::map<std::string, std::vector<std::string>>& table) {
  for (const auto& s : states()) {
    const auto row = table.find(s.name);
    REQUIRE_MESSAGE(row != table.end(), s.name);
    const Category categories[] = {Category::conversational, Category::informational,
                                   Category::promotional};
    for (int c = 0; c < 3; ++c) {
      CAPTURE(s.name);
      CAPTURE(config::to_string(categories[c]));
      const MtDecision want = expected(mt.config, row->second[c]);
      const MtDecision got = mt.decide(categories[c], s.pair);
      CHECK(to_string(got.action) == to_string(want.action));
      CHECK(to_string(got.reason) == to_string(want.reason));
      CHECK(got.status == want.status);
    }
  }
}

}  // namespace

TEST_CASE("decide_mt table: strict") {
  Mt mt;
  mt.program().opt_in_mode = OptInMode::strict;
  check_table(mt, {
                      {"no record", {"N", "N", "N"}},
                      {"state none", {"N", "N", "N"}},
                      {"pending", {"N", "N", "N"}},
                      {"implied fresh", {"F", "L", "L"}},
                      {"implied expired", {"L", "L", "L"}},
                      {"implied expired, disclaimer sent", {"L", "L", "L"}},
                      {"express", {"F", "F", "L"}},
                      {"express_written", {"F", "F", "F"}},
                      {"opted_out program", {"O", "O", "O"}},
                      {"opted_out tenant", {"O", "O", "O"}},
                      {"opted_out tenant, no program record", {"O", "O", "O"}},
                      {"tenant record lifted (none)", {"F", "F", "L"}},
                  });
}

TEST_CASE("decide_mt table: confirm with hold") {
  Mt mt;
  mt.program().opt_in_mode = OptInMode::confirm;
  mt.program().hold = true;
  check_table(mt, {
                      {"no record", {"H:N", "H:N", "N"}},
                      {"state none", {"H:N", "H:N", "N"}},
                      {"pending", {"H:N", "H:N", "N"}},
                      {"implied fresh", {"F", "H:L", "L"}},
                      {"implied expired", {"H:L", "H:L", "L"}},
                      {"implied expired, disclaimer sent", {"H:L", "H:L", "L"}},
                      {"express", {"F", "F", "L"}},
                      {"express_written", {"F", "F", "F"}},
                      {"opted_out program", {"O", "O", "O"}},
                      {"opted_out tenant", {"O", "O", "O"}},
                      {"opted_out tenant, no program record", {"O", "O", "O"}},
                      {"tenant record lifted (none)", {"F", "F", "L"}},
                  });
}

TEST_CASE("decide_mt table: confirm without hold") {
  Mt mt;
  mt.program().opt_in_mode = OptInMode::confirm;
  mt.program().hold = false;
  check_table(mt, {
                      {"no record", {"R:N", "R:N", "N"}},
                      {"state none", {"R:N", "R:N", "N"}},
                      {"pending", {"R:N", "R:N", "N"}},
                      {"implied fresh", {"F", "R:L", "L"}},
                      {"implied expired", {"R:L", "R:L", "L"}},
                      {"implied expired, disclaimer sent", {"R:L", "R:L", "L"}},
                      {"express", {"F", "F", "L"}},
                      {"express_written", {"F", "F", "F"}},
                      {"opted_out program", {"O", "O", "O"}},
                      {"opted_out tenant", {"O", "O", "O"}},
                      {"opted_out tenant, no program record", {"O", "O", "O"}},
                      {"tenant record lifted (none)", {"F", "F", "L"}},
                  });
}

TEST_CASE("decide_mt table: disclaimer") {
  Mt mt;
  mt.program().opt_in_mode = OptInMode::disclaimer;
  check_table(mt, {
                      {"no record", {"D", "D", "N"}},
                      {"state none", {"D", "D", "N"}},
                      {"pending", {"N", "N", "N"}},
                      {"implied fresh", {"F", "D", "L"}},
                      {"implied expired", {"D", "D", "L"}},
                      {"implied expired, disclaimer sent", {"L", "L", "L"}},
                      {"express", {"F", "F", "L"}},
                      {"express_written", {"F", "F", "F"}},
                      {"opted_out program", {"O", "O", "O"}},
                      {"opted_out tenant", {"O", "O", "O"}},
                      {"opted_out tenant, no program record", {"O", "O", "O"}},
                      {"tenant record lifted (none)", {"F", "F", "L"}},
                  });
}

TEST_CASE("decide_mt uses the configured statuses") {
  Mt mt;
  mt.program().opt_in_mode = OptInMode::strict;
  mt.config.defaults.statuses = {0x500, 0x501, 0x502, 0x503, 0x504, 0x506};
  CHECK(mt.decide(Category::informational, {}).status == 0x501);
  CHECK(mt.decide(Category::promotional,
                  {record(ConsentState::opted_in, ConsentLevel::express), std::nullopt})
            .status == 0x503);
  CHECK(
      mt.decide(Category::conversational, {std::nullopt, record(ConsentState::opted_out)}).status ==
      0x500);
  mt.program().opt_in_mode = OptInMode::confirm;
  mt.program().hold = false;
  const auto d = mt.decide(Category::informational, {});
  CHECK(d.action == MtAction::refuse_and_request);
  CHECK(d.status == 0x501);
}

TEST_CASE("decide_mt: a subject without a program is unknown_program, ESME_RINVSRCADR") {
  Mt mt;
  mt.subject.program = nullptr;
  const auto d = mt.decide(Category::informational,
                           {record(ConsentState::opted_in, ConsentLevel::express_written), {}});
  CHECK(d.action == MtAction::refuse);
  CHECK(d.reason == Reason::unknown_program);
  CHECK(d.status == proto::status::kEsmeRinvsrcadr);
}

namespace {
const store::ConsentPair kWritten{record(ConsentState::opted_in, ConsentLevel::express_written),
                                  std::nullopt};
}

TEST_CASE("quiet hours: 22:00 in the subscriber's zone, by area code") {
  Mt mt;
  mt.now = kNight;  // 22:00 New York, 19:00 Los Angeles
  mt.zone_name = std::string(*zone_for_area_code("212"));
  auto d = mt.decide(Category::informational, kWritten);
  CHECK(d.action == MtAction::refuse);
  CHECK(d.reason == Reason::quiet_hours);
  CHECK(d.status == 0x402);
  CHECK(mt.decide(Category::promotional, kWritten).reason == Reason::quiet_hours);
  // Conversational messages are not subject to quiet hours.
  CHECK(mt.decide(Category::conversational, kWritten) == MtDecision{});

  mt.zone_name = subscriber_zone("+13105550123", mt.program())->name();
  CHECK(mt.zone_name == "America/Los_Angeles");
  CHECK(mt.decide(Category::promotional, kWritten) == MtDecision{});

  // The same instant in the daytime window: forwarded.
  mt.zone_name = "America/New_York";
  mt.now = kDay;
  CHECK(mt.decide(Category::promotional, kWritten) == MtDecision{});
}

TEST_CASE("quiet hours: the program's timezone when the number does not tell") {
  Mt mt;
  mt.now = kNight;                     // 03:00 London, 19:00 Los Angeles
  mt.subject.msisdn = "+18885550123";  // toll-free: no zone
  mt.program().timezone = "Europe/London";
  mt.zone_name = subscriber_zone(mt.subject.msisdn, mt.program())->name();
  CHECK(mt.decide(Category::informational, kWritten).reason == Reason::quiet_hours);
  mt.program().timezone = "America/Los_Angeles";
  mt.zone_name = subscriber_zone(mt.subject.msisdn, mt.program())->name();
  CHECK(mt.decide(Category::informational, kWritten) == MtDecision{});
}

TEST_CASE("quiet hours with action hold: released when the window opens, across DST") {
  Mt mt;
  mt.program().quiet_hours->action = config::QuietAction::hold;
  mt.now = kNight;
  auto d = mt.decide(Category::informational, kWritten);
  CHECK(d.action == MtAction::hold_for_quiet_hours);
  CHECK(d.reason == Reason::quiet_hours);
  CHECK(format_rfc3339(d.release_at) == "2026-01-15T13:00:00Z");  // 08:00 EST

  // Clocks go forward on 2026-03-08 at 02:00 EST: 01:30 EST is quiet; 08:00 EDT is 12:00Z.
  mt.now = utc(2026, 3, 8, 6, 30);
  d = mt.decide(Category::informational, kWritten);
  CHECK(d.action == MtAction::hold_for_quiet_hours);
  CHECK(format_rfc3339(d.release_at) == "2026-03-08T12:00:00Z");
  // Clocks go back on 2026-11-01 at 02:00 EDT: 01:30 EDT is quiet; 08:00 EST is 13:00Z.
  mt.now = utc(2026, 11, 1, 5, 30);
  d = mt.decide(Category::promotional, kWritten);
  CHECK(d.action == MtAction::hold_for_quiet_hours);
  CHECK(format_rfc3339(d.release_at) == "2026-11-01T13:00:00Z");
  // The same hour after the change is 01:30 EST, still quiet.
  mt.now = utc(2026, 11, 1, 6, 30);
  CHECK(format_rfc3339(mt.decide(Category::promotional, kWritten).release_at) ==
        "2026-11-01T13:00:00Z");
  // 08:00 EDT on the spring day is already open.
  mt.now = utc(2026, 3, 8, 12, 0);
  CHECK(mt.decide(Category::informational, kWritten) == MtDecision{});
}

TEST_CASE("quiet hours: a custom window, and none at all") {
  Mt mt;
  mt.program().quiet_hours->start = std::chrono::minutes(23 * 60);
  mt.program().quiet_hours->end = std::chrono::minutes(7 * 60);
  mt.now = kNight;  // 22:00 New York
  CHECK(mt.decide(Category::informational, kWritten) == MtDecision{});
  mt.now = kNight + std::chrono::hours(1);  // 23:00
  CHECK(mt.decide(Category::informational, kWritten).reason == Reason::quiet_hours);
  mt.program().quiet_hours.reset();
  CHECK(mt.decide(Category::informational, kWritten) == MtDecision{});
}

TEST_CASE("quiet hours come after consent and before the frequency cap") {
  Mt mt;
  mt.now = kNight;
  mt.program().frequency_cap = config::FrequencyCap{};
  mt.sent = 10;
  // Opted out at night: opted_out, not quiet_hours.
  CHECK(
      mt.decide(Category::informational, {std::nullopt, record(ConsentState::opted_out)}).reason ==
      Reason::opted_out);
  // Strict without consent at night: no_consent.
  mt.program().opt_in_mode = OptInMode::strict;
  CHECK(mt.decide(Category::informational, {}).reason == Reason::no_consent);
  // Consent, at night, over the cap: quiet_hours.
  CHECK(mt.decide(Category::informational, kWritten).reason == Reason::quiet_hours);
  // Confirm mode holds for consent at night (the held MT is decided again when released).
  mt.program().opt_in_mode = OptInMode::confirm;
  CHECK(mt.decide(Category::informational, {}).action == MtAction::hold_for_consent);
  // Disclaimer mode at night: no disclaimer is sent into quiet hours.
  mt.program().opt_in_mode = OptInMode::disclaimer;
  CHECK(mt.decide(Category::informational, {}).reason == Reason::quiet_hours);
  mt.program().quiet_hours->action = config::QuietAction::hold;
  CHECK(mt.decide(Category::informational, {}).action == MtAction::hold_for_quiet_hours);
  mt.now = kDay;
  CHECK(mt.decide(Category::informational, {}).reason == Reason::frequency_cap);
  mt.sent = 0;
  CHECK(mt.decide(Category::informational, {}).action == MtAction::disclaimer_then_forward);
}

TEST_CASE("frequency cap: max MTs per window for the capped categories") {
  Mt mt;
  mt.program().frequency_cap =
      config::FrequencyCap{3, std::chrono::hours(24), {Category::promotional}};
  mt.sent = 2;
  CHECK(mt.decide(Category::promotional, kWritten) == MtDecision{});
  mt.sent = 3;
  auto d = mt.decide(Category::promotional, kWritten);
  CHECK(d.action == MtAction::refuse);
  CHECK(d.reason == Reason::frequency_cap);
  CHECK(d.status == 0x404);
  // Informational is not capped by this program.
  mt.sent = 50;
  CHECK(mt.decide(Category::informational, kWritten) == MtDecision{});
  // Default categories: informational and promotional.
  mt.program().frequency_cap = config::FrequencyCap{};
  CHECK(mt.decide(Category::informational, kWritten).reason == Reason::frequency_cap);
  CHECK(mt.decide(Category::conversational, kWritten) == MtDecision{});
  // No cap configured.
  mt.program().frequency_cap.reset();
  CHECK(mt.decide(Category::promotional, kWritten) == MtDecision{});
}
