// validate_consent_request() and apply_consent_request() against a real store, and the YES that
// confirms an operator's request (apply_mo keeps the requested level).
#include "policy/consent_api.hpp"

#include "unit/policy/engine_support.hpp"

using namespace smppguard;
using namespace smppguard::policy;
using namespace smppguard::policy::test;

namespace {

ConsentRequest req(std::string state, std::string level = "express", std::string source = "") {
  ConsentRequest r;
  r.program = "alpha";
  r.msisdn = kSub;
  r.state = std::move(state);
  r.level = std::move(level);
  r.source = std::move(source);
  return r;
}

struct ApiFixture : EngineFixture {
  int counter = 0;

  ValidConsent valid(const ConsentRequest& r, ValidateOptions o = {}) {
    auto v = validate_consent_request(r, config, o);
    REQUIRE_MESSAGE(v.ok.has_value(), v.error.code << ": " << v.error.message);
    return *v.ok;
  }
  ConsentOutcome apply(const ConsentRequest& r, TimePoint now = kDay) {
    const auto v = valid(r);
    return run([&](store::Batch& b) { return apply_consent_request(b, v, Actor{"api:crm"}, now); });
  }
  MoOutcome mo(const std::string& text, TimePoint now = kDay) {
    const auto& p = program("alpha");
    const NormalizedText normalized = normalize_text(text);
    const MoInput in{config,
                     p,
                     kSub,
                     p.numbers.front(),
                     text,
                     normalized,
                     programs.match(p.id, normalized),
                     "mo-" + std::to_string(++counter),
                     now,
                     {}};
    return run([&](store::Batch& b) { return apply_mo(b, in); });
  }
  void hold_mt(const std::string& proxy_id) {
    static const auto zone = *TimeZoneDb::system().find("America/New_York");
    MtSubject subject{&program("alpha"), kSub, Category::informational};
    const MtContext ctx{config, program("alpha"), subject, kDay, *zone, 0};
    const auto r = run([&](store::Batch& b) {
      return hold_for_consent(b, ctx, held_mt(proxy_id), Actor{"app1"});
    });
    REQUIRE(r.held);
  }
};

}  // namespace

TEST_SUITE("consent_api") {
  TEST_CASE("validation: program, number, state, level, source, evidence, confirm") {
    const auto c = make_config();
    auto error = [&](ConsentRequest r, ValidateOptions o = {}) {
      auto v = validate_consent_request(r, c, o);
      REQUIRE_FALSE(v.ok.has_value());
      return v.error;
    };
    {
      auto r = req("opted_in");
      r.msisdn = "12125550123";  // bare digits
      const auto v = validate_consent_request(r, c);
      REQUIRE(v.ok);
      CHECK(v.ok->msisdn == "+12125550123");
      CHECK(v.ok->level == ConsentLevel::express);
      CHECK(v.ok->source == ConsentSource::api);
      CHECK(v.ok->program->id == "alpha");
    }
    auto r = req("opted_in");
    r.program = "nope";
    CHECK(error(r).kind == ConsentApiError::Kind::unknown_program);
    r = req("opted_in");
    r.msisdn = "+0123";
    CHECK(error(r).code == "invalid_msisdn");
    r.msisdn = "";
    CHECK(error(r).code == "invalid_msisdn");
    CHECK(error(req("pending")).code == "invalid_state");
    CHECK(error(req("")).code == "invalid_state");
    CHECK(error(req("opted_in", "")).code == "missing_level");
    CHECK(error(req("opted_in", "none")).code == "invalid_level");
    CHECK(error(req("opted_in", "super")).code == "invalid_level");
    CHECK(validate_consent_request(req("opted_out", ""), c).ok.has_value());
    for (const char* s : {"keyword", "mo_conversation", "disclaimer", "none", "API"}) {
      CHECK_MESSAGE(error(req("opted_in", "express", s)).code == "invalid_source", s);
    }
    for (const char* s : {"api", "web_form", "verbal", "paper", "import"}) {
      CHECK_MESSAGE(validate_consent_request(req("opted_in", "express", s), c).ok.has_value(), s);
    }
    {
      ValidateOptions o;
      o.default_source = ConsentSource::import;
      CHECK(validate_consent_request(req("opted_in"), c, o).ok->source == ConsentSource::import);
    }
    r = req("opted_in");
    for (int i = 0; i < 33; ++i) r.evidence["k" + std::to_string(i)] = "v";
    CHECK(error(r).code == "invalid_evidence");
    r = req("opted_in");
    r.evidence[""] = "v";
    CHECK(error(r).code == "invalid_evidence");
    r = req("opted_in");
    r.evidence["k"] = std::string(kMaxEvidenceValue + 1, 'x');
    CHECK(error(r).code == "invalid_evidence");
    r = req("opted_out", "");
    r.confirm = true;
    CHECK(error(r).code == "invalid_confirm");
    r = req("opted_in");
    r.confirm = true;
    CHECK(validate_consent_request(r, c).ok.has_value());
    CHECK(error(r, ValidateOptions{.allow_confirm = false}).code == "invalid_confirm");
  }

  TEST_CASE_FIXTURE(ApiFixture,
                    "PUT opted_in creates, changes, then is unchanged; all audited once") {
    auto r = req("opted_in", "express_written", "web_form");
    r.evidence = {{"form_url", "https://acme.example/join"}, {"ip", "192.0.2.1"}};
    auto o = apply(r);
    CHECK(o.effect == ConsentEffect::created);
    CHECK(o.old_state == "none");
    auto rec = at("alpha", kSub);
    CHECK(rec.state == ConsentState::opted_in);
    CHECK(rec.level == ConsentLevel::express_written);
    CHECK(rec.source == ConsentSource::web_form);
    CHECK(rec.evidence == r.evidence);
    CHECK(rec.created_at_ms == ms(kDay));
    REQUIRE(o.changes.size() == 1);
    CHECK(o.changes[0] == ConsentChange{"alpha", ConsentState::opted_in, ConsentSource::web_form});

    CHECK(apply(r).effect == ConsentEffect::unchanged);
    r.level = "express";
    o = apply(r, kDay + hours(1));
    CHECK(o.effect == ConsentEffect::changed);
    CHECK(at("alpha", kSub).level == ConsentLevel::express);
    CHECK(at("alpha", kSub).updated_at_ms == ms(kDay + hours(1)));
    CHECK(at("alpha", kSub).created_at_ms == ms(kDay));

    const auto log = audit();
    REQUIRE(log.size() == 2);
    CHECK(log[0].event == "opted_in");
    CHECK(log[0].actor == "api:crm");
    CHECK(log[0].old_state == "none");
    CHECK(log[0].new_state == "opted_in");
    CHECK(log[0].source == "web_form");
    CHECK(log[0].evidence == r.evidence);
    CHECK(log[1].old_state == "opted_in");
    require_chain_whole();
  }

  TEST_CASE_FIXTURE(ApiFixture, "an API opt-out fails held MTs like a STOP and sends no text") {
    hold_mt("gw1-a");
    hold_mt("gw1-b");
    REQUIRE(held("alpha", kSub).size() == 2);
    auto r = req("opted_out", "", "verbal");
    r.evidence = {{"agent", "42"}};
    const auto o = apply(r);
    CHECK(o.effect == ConsentEffect::changed);  // the pending record made by the holds
    CHECK(o.old_state == "pending");
    CHECK_FALSE(o.opt_in_request.has_value());
    REQUIRE(o.failed.size() == 2);
    CHECK(o.failed[0].proxy_id == "gw1-a");
    CHECK(o.failed[1].proxy_id == "gw1-b");
    CHECK(held("alpha", kSub).empty());
    const auto rec = at("alpha", kSub);
    CHECK(rec.state == ConsentState::opted_out);
    CHECK(rec.source == ConsentSource::verbal);
    CHECK(rec.opt_out_confirmed_at_ms == 0);
    int refused = 0;
    for (const auto& e : audit()) refused += e.event == "mt_refused" ? 1 : 0;
    CHECK(refused == 2);
    CHECK(audit().back().event == "opted_out");
    CHECK(audit().back().actor == "api:crm");
    // The next MT is refused as opted out.
    CHECK(decide_mt(MtContext{config, program("alpha"),
                              MtSubject{&program("alpha"), kSub, Category::conversational}, kDay,
                              **TimeZoneDb::system().find("UTC"), 0},
                    pair("alpha", kSub))
              .reason == Reason::opted_out);
    // Again: unchanged.
    CHECK(apply(r).effect == ConsentEffect::unchanged);
    // An opt-out of a subscriber with no record creates the record.
    auto other = req("opted_out", "");
    other.msisdn = "+13125550123";
    CHECK(apply(other).effect == ConsentEffect::created);
    require_chain_whole();
  }

  TEST_CASE_FIXTURE(ApiFixture, "an opt-out by text can only be undone by the subscriber") {
    mo("STOP");
    REQUIRE(at("alpha", kSub).state == ConsentState::opted_out);
    auto o = apply(req("opted_in"));
    CHECK(o.effect == ConsentEffect::refused);
    REQUIRE(o.error.has_value());
    CHECK(o.error->code == "opted_out_by_subscriber");
    CHECK(o.error->kind == ConsentApiError::Kind::conflict);
    CHECK(at("alpha", kSub).state == ConsentState::opted_out);
    auto c = req("opted_in");
    c.confirm = true;
    CHECK(apply(c).error->code == "opted_out");

    // An operator's own opt-out (a verbal one) may be followed by a new consent.
    auto sub2 = req("opted_out", "", "verbal");
    sub2.msisdn = "+13125550123";
    apply(sub2);
    auto back = req("opted_in", "express", "paper");
    back.msisdn = sub2.msisdn;
    CHECK(apply(back).effect == ConsentEffect::changed);

    // A tenant-wide opt-out (STOPALL at beta) blocks an API opt-in at alpha.
    auto sub3 = req("opted_in");
    sub3.msisdn = "+14155550123";
    CHECK(apply(sub3).effect == ConsentEffect::created);
    const auto& beta = program("beta");
    const NormalizedText stopall = normalize_text("STOPALL");
    const MoInput in{config,
                     beta,
                     sub3.msisdn,
                     beta.numbers.front(),
                     "STOPALL",
                     stopall,
                     programs.match("beta", stopall),
                     "mo-x",
                     kDay,
                     {}};
    run([&](store::Batch& b) { return apply_mo(b, in); });
    auto again = sub3;
    again.level = "express_written";
    CHECK(apply(again).error->code == "opted_out_by_subscriber");
  }

  TEST_CASE_FIXTURE(ApiFixture, "confirm: pending with the requested level; YES gives that level") {
    auto r = req("opted_in", "express_written", "web_form");
    r.evidence = {{"form", "v3"}};
    r.confirm = true;
    auto o = apply(r);
    CHECK(o.effect == ConsentEffect::created);
    REQUIRE(o.opt_in_request.has_value());
    CHECK(o.opt_in_request->template_name == "opt_in_request");
    CHECK(o.opt_in_request->text.find("Alpha") != std::string::npos);
    CHECK(o.from_number == "+18005550100");
    auto rec = at("alpha", kSub);
    CHECK(rec.state == ConsentState::pending);
    CHECK(rec.level == ConsentLevel::express_written);
    CHECK(rec.opt_in_requested_at_ms == ms(kDay));
    CHECK(audit().back().event == "pending");

    // Within request_interval no second request is sent.
    o = apply(r, kDay + hours(1));
    CHECK(o.effect == ConsentEffect::unchanged);
    CHECK_FALSE(o.opt_in_request.has_value());
    // An MT meanwhile does not send another request either (the same opt_in_requested_at).
    hold_mt("gw1-held");

    // YES: opted_in at the requested level with the operator's source and evidence kept.
    const auto yes = mo("YES", kDay + hours(2));
    rec = at("alpha", kSub);
    CHECK(rec.state == ConsentState::opted_in);
    CHECK(rec.level == ConsentLevel::express_written);
    CHECK(rec.source == ConsentSource::web_form);
    CHECK(rec.evidence == r.evidence);
    CHECK(rec.handset_confirmed);
    REQUIRE(yes.release.size() == 1);
    CHECK(yes.release[0].proxy_id == "gw1-held");
    REQUIRE(yes.changes.size() == 1);
    CHECK(yes.changes[0].source == ConsentSource::web_form);

    // Confirm again with that level in force: nothing to do.
    o = apply(r, kDay + hours(3));
    CHECK(o.effect == ConsentEffect::unchanged);
    CHECK_FALSE(o.opt_in_request.has_value());
    require_chain_whole();
  }

  TEST_CASE_FIXTURE(ApiFixture, "confirm with a requested level below express: YES gives express") {
    auto r = req("opted_in", "implied");
    r.confirm = true;
    apply(r);
    mo("YES");
    CHECK(at("alpha", kSub).level == ConsentLevel::express);
    CHECK(at("alpha", kSub).source == ConsentSource::api);
  }

  TEST_CASE_FIXTURE(ApiFixture,
                    "a plain YES from a pending MT hold still gives express by keyword") {
    hold_mt("gw1-1");
    REQUIRE(at("alpha", kSub).state == ConsentState::pending);
    mo("YES");
    const auto rec = at("alpha", kSub);
    CHECK(rec.level == ConsentLevel::express);
    CHECK(rec.source == ConsentSource::keyword);
  }

  TEST_CASE_FIXTURE(ApiFixture, "a STOP after confirm revokes; START later gives express only") {
    auto r = req("opted_in", "express_written", "web_form");
    r.confirm = true;
    apply(r);
    mo("STOP");
    CHECK(at("alpha", kSub).state == ConsentState::opted_out);
    mo("START");
    const auto rec = at("alpha", kSub);
    CHECK(rec.state == ConsentState::opted_in);
    CHECK(rec.level == ConsentLevel::express);
    CHECK(rec.source == ConsentSource::keyword);
  }

  TEST_CASE_FIXTURE(ApiFixture, "an API opt-in releases MTs held for consent") {
    hold_mt("gw1-x");
    const auto o = apply(req("opted_in", "express"));
    CHECK(o.effect == ConsentEffect::changed);
    REQUIRE(o.release.size() == 1);
    CHECK(o.release[0].proxy_id == "gw1-x");
    CHECK(held("alpha", kSub).empty());
    CHECK(audit().back().event == "mt_released");
  }

  TEST_CASE_FIXTURE(ApiFixture, "confirm on implied consent suspends it until YES") {
    mo("hello there");  // implied consent
    REQUIRE(at("alpha", kSub).level == ConsentLevel::implied);
    auto r = req("opted_in", "express");
    r.confirm = true;
    const auto o = apply(r);
    CHECK(o.effect == ConsentEffect::changed);
    CHECK(o.old_state == "opted_in");
    CHECK(o.opt_in_request.has_value());
    CHECK(at("alpha", kSub).state == ConsentState::pending);
  }

}  // TEST_SUITE
