// covers(), category_of(), classify_mt(), statuses and the Programs index.
#include <smppguard/proto/status.hpp>

#include "policy/numbers.hpp"
#include "unit/policy/engine_support.hpp"

using namespace smppguard;
using namespace smppguard::policy;
using namespace smppguard::policy::test;

namespace {

constexpr Category kCategories[] = {Category::conversational, Category::informational,
                                    Category::promotional};

}  // namespace

TEST_CASE("covers: every state x level x category") {
  const auto config = make_config();
  const auto& program = config.programs.front();
  const std::int64_t fresh_mo = ms(kDay) - kHour;
  // expected[level] = {conversational, informational, promotional} for state opted_in.
  struct Row {
    ConsentLevel level;
    bool expected[3];
  };
  const Row opted_in_rows[] = {
      {ConsentLevel::none, {false, false, false}},
      {ConsentLevel::implied, {true, false, false}},
      {ConsentLevel::express, {true, true, false}},
      {ConsentLevel::express_written, {true, true, true}},
  };
  for (const auto& row : opted_in_rows) {
    for (int c = 0; c < 3; ++c) {
      CAPTURE(store::to_string(row.level));
      CAPTURE(config::to_string(kCategories[c]));
      CHECK(covers(record(ConsentState::opted_in, row.level, fresh_mo), kCategories[c], program,
                   kDay) == row.expected[c]);
    }
  }
  // Only opted_in covers anything, whatever the level.
  for (auto state : {ConsentState::none, ConsentState::pending, ConsentState::opted_out}) {
    for (auto level : {ConsentLevel::none, ConsentLevel::implied, ConsentLevel::express,
                       ConsentLevel::express_written}) {
      for (auto category : kCategories) {
        CAPTURE(store::to_string(state));
        CAPTURE(store::to_string(level));
        CHECK_FALSE(covers(record(state, level, fresh_mo), category, program, kDay));
      }
    }
  }
}

TEST_CASE("covers: implied consent lasts implied_ttl after the last MO, boundary included") {
  auto config = make_config();
  auto& program = config.programs.front();
  const auto implied = [&](std::int64_t last_mo) {
    return record(ConsentState::opted_in, ConsentLevel::implied, last_mo);
  };
  const std::int64_t ttl = program.implied_ttl.count();
  CHECK(ttl == 24 * kHour);
  CHECK(covers(implied(ms(kDay) - ttl), Category::conversational, program, kDay));
  CHECK_FALSE(covers(implied(ms(kDay) - ttl - 1), Category::conversational, program, kDay));
  CHECK_FALSE(covers(implied(0), Category::conversational, program, kDay));  // never an MO
  program.implied_ttl = std::chrono::hours(1);
  CHECK(covers(implied(ms(kDay) - kHour), Category::conversational, program, kDay));
  CHECK_FALSE(covers(implied(ms(kDay) - kHour - 1), Category::conversational, program, kDay));
  // express does not depend on the MO time.
  CHECK(covers(record(ConsentState::opted_in, ConsentLevel::express, 0), Category::informational,
               program, kDay));
}

TEST_CASE("category_of: TLV 0x1400 over service_type over the account default") {
  const auto config = make_config();
  const auto& app1 = config.accounts[0];  // default informational
  const auto& app2 = config.accounts[1];  // default promotional
  const proto::TlvList none;
  CHECK(category_of(config, app1, "", none) == Category::informational);
  CHECK(category_of(config, app2, "", none) == Category::promotional);
  CHECK(category_of(config, app1, "PROMO", none) == Category::promotional);
  CHECK(category_of(config, app2, "CONV", none) == Category::conversational);
  CHECK(category_of(config, app2, "WAP", none) == Category::promotional);      // unmapped
  CHECK(category_of(config, app1, "promo", none) == Category::informational);  // exact keys

  proto::TlvList tlv;
  tlv.set_u8(proto::tlv::kSmppguardCategory, 0);
  CHECK(category_of(config, app1, "PROMO", tlv) == Category::conversational);
  tlv.set_u8(proto::tlv::kSmppguardCategory, 2);
  CHECK(category_of(config, app1, "CONV", tlv) == Category::promotional);
  tlv.set_u8(proto::tlv::kSmppguardCategory, 1);
  CHECK(category_of(config, app2, "", tlv) == Category::informational);

  proto::TlvList bad;
  bad.set_u8(proto::tlv::kSmppguardCategory, 3);  // out of range: ignored
  CHECK(category_of(config, app1, "PROMO", bad) == Category::promotional);
  CHECK(category_of(config, app2, "", bad) == Category::promotional);
  proto::TlvList wide;
  wide.set_u16(proto::tlv::kSmppguardCategory, 0);  // two octets: ignored
  CHECK(category_of(config, app1, "CONV", wide) == Category::conversational);
  CHECK(category_of(config, app1, "", wide) == Category::informational);

  auto mapped = make_config();
  mapped.defaults.category_by_service_type = {{"MKT", Category::promotional}};
  CHECK(category_of(mapped, app1, "MKT", none) == Category::promotional);
  CHECK(category_of(mapped, app1, "PROMO", none) == Category::informational);  // map replaced
}

TEST_CASE("classify_mt: program by source, E.164 destination, category") {
  const auto config = make_config();
  const auto& app1 = config.accounts[0];
  const auto& app2 = config.accounts[1];
  proto::TlvList tlvs;

  auto c = classify_mt(config, app1, 1, 1, "18005550100", 1, 1, "12125550123", "PROMO", tlvs);
  CHECK(c.status == 0);
  REQUIRE(c.subject.program != nullptr);
  CHECK(c.subject.program->id == "alpha");
  CHECK(c.subject.msisdn == "+12125550123");
  CHECK(c.subject.category == Category::promotional);

  // A short code source, a national destination read in default_country.
  c = classify_mt(config, app1, 3, 0, "12345", 0, 0, "2125550123", "", tlvs);
  CHECK(c.status == 0);
  REQUIRE(c.subject.program != nullptr);
  CHECK(c.subject.program->id == "alpha");
  CHECK(c.subject.msisdn == "+12125550123");
  CHECK(c.subject.category == Category::informational);

  // Unknown sender number: ESME_RINVSRCADR, reason unknown_program.
  c = classify_mt(config, app1, 1, 1, "18005550177", 1, 1, "12125550123", "", tlvs);
  CHECK(c.status == proto::status::kEsmeRinvsrcadr);
  CHECK(c.reason == Reason::unknown_program);
  CHECK(c.subject.program == nullptr);
  // Another tenant's number: as unknown.
  c = classify_mt(config, app2, 1, 1, "18005550100", 1, 1, "12125550123", "", tlvs);
  CHECK(c.status == proto::status::kEsmeRinvsrcadr);
  CHECK(c.reason == Reason::unknown_program);
  // Bad destinations: ESME_RINVDSTADR with the number's error.
  c = classify_mt(config, app1, 1, 1, "18005550100", 1, 1, "12x", "", tlvs);
  CHECK(c.status == proto::status::kEsmeRinvdstadr);
  CHECK(c.error);
  c = classify_mt(config, app1, 1, 1, "18005550100", 3, 0, "55555", "", tlvs);
  CHECK(c.status == proto::status::kEsmeRinvdstadr);
  CHECK(c.error == make_error_code(NumberErrc::not_e164));
}

TEST_CASE("status_for: configured statuses, unknown_program is ESME_RINVSRCADR") {
  auto config = make_config();
  CHECK(status_for(config, Reason::none) == 0);
  CHECK(status_for(config, Reason::opted_out) == 0x400);
  CHECK(status_for(config, Reason::no_consent) == 0x401);
  CHECK(status_for(config, Reason::quiet_hours) == 0x402);
  CHECK(status_for(config, Reason::consent_level) == 0x403);
  CHECK(status_for(config, Reason::frequency_cap) == 0x404);
  CHECK(status_for(config, Reason::store_unavailable) == 0x406);
  CHECK(status_for(config, Reason::unknown_program) == 0x0A);
  config.defaults.statuses = {0x500, 0x501, 0x502, 0x503, 0x504, 0x506};
  CHECK(status_for(config, Reason::opted_out) == 0x500);
  CHECK(status_for(config, Reason::no_consent) == 0x501);
  CHECK(status_for(config, Reason::quiet_hours) == 0x502);
  CHECK(status_for(config, Reason::consent_level) == 0x503);
  CHECK(status_for(config, Reason::frequency_cap) == 0x504);
  CHECK(status_for(config, Reason::store_unavailable) == 0x506);
  CHECK(refusal(config, Reason::store_unavailable) ==
        MtDecision{MtAction::refuse, Reason::store_unavailable, 0x506, {}});
}

TEST_CASE("reason and action names are the metric labels") {
  CHECK(to_string(Reason::none) == "none");
  CHECK(to_string(Reason::opted_out) == "opted_out");
  CHECK(to_string(Reason::no_consent) == "no_consent");
  CHECK(to_string(Reason::quiet_hours) == "quiet_hours");
  CHECK(to_string(Reason::consent_level) == "consent_level");
  CHECK(to_string(Reason::frequency_cap) == "frequency_cap");
  CHECK(to_string(Reason::store_unavailable) == "store_unavailable");
  CHECK(to_string(Reason::unknown_program) == "unknown_program");
  CHECK(to_string(MtAction::hold_for_quiet_hours) == "hold_for_quiet_hours");
  CHECK(to_string(MtAction::disclaimer_then_forward) == "disclaimer_then_forward");
}

TEST_CASE("Programs: one matcher per program with its own keywords and phrase flag") {
  auto config = make_config();
  config.programs[1].phrase_opt_out = false;    // beta
  config.programs[2].keywords.help = {"AIDE"};  // gamma
  const Programs programs(config);

  CHECK(programs.match("alpha", normalize_text("Arrêt")).kind == KeywordKind::opt_out);
  CHECK(programs.match("beta", normalize_text("ARRET")).kind == KeywordKind::none);
  const auto join = programs.match("alpha", normalize_text("support"));
  CHECK(join.kind == KeywordKind::opt_in);
  CHECK(join.is_join);
  CHECK(programs.match("gamma", normalize_text("aide")).kind == KeywordKind::help);
  CHECK(programs.match("alpha", normalize_text("aide")).kind == KeywordKind::none);

  CHECK(programs.match("alpha", normalize_text("please stop")).kind == KeywordKind::opt_out);
  const auto off = programs.match("beta", normalize_text("please stop"));
  CHECK(off.kind == KeywordKind::possible_opt_out);
  CHECK(off.rule == MatchRule::phrase);
  // Unknown program: the defaults.
  CHECK(programs.match("nope", normalize_text("STOP")).kind == KeywordKind::opt_out);
  CHECK(programs.match("nope", normalize_text("ARRET")).kind == KeywordKind::none);

  CHECK(programs.of_tenant("acme") == std::vector<std::string>{"alpha", "beta", "gamma"});
  CHECK(programs.of_tenant("zeta") == std::vector<std::string>{"zeta-one"});
  CHECK(programs.of_tenant("nobody").empty());
}

TEST_CASE("subscriber_zone: area code, then the program's zone, then UTC") {
  auto config = make_config();
  auto& program = config.programs.front();
  CHECK(subscriber_zone("+12125550123", program)->name() == "America/New_York");
  CHECK(subscriber_zone("+13105550123", program)->name() == "America/Los_Angeles");
  program.timezone = "Europe/London";
  CHECK(subscriber_zone("+18885550123", program)->name() == "Europe/London");  // toll-free NPA
  program.timezone = "Nowhere/Atlantis";
  CHECK(subscriber_zone("+18885550123", program)->name() == "UTC");
}
