// apply_mo() against a real store: every row of SPEC 5's table and every MO rule of SPEC 8.
#include "unit/policy/engine_support.hpp"

using namespace smppguard;
using namespace smppguard::policy;
using namespace smppguard::policy::test;

namespace {

const TimeZone& ny() {
  static const auto z = *TimeZoneDb::system().find("America/New_York");
  return *z;
}

struct MoFixture : EngineFixture {
  int counter = 0;
  std::string last_mo_id;

  void rebuild() { programs = Programs(config); }

  MoOutcome mo(const std::string& text, std::string_view program_id = "alpha", TimePoint now = kDay,
               const std::string& msisdn = kSub, std::string pdu = {}) {
    const auto& p = program(program_id);
    const NormalizedText normalized = normalize_text(text);
    last_mo_id = "mo-" + std::to_string(++counter);
    const MoInput in{config,
                     p,
                     msisdn,
                     p.numbers.front(),
                     text,
                     normalized,
                     programs.match(p.id, normalized),
                     last_mo_id,
                     now,
                     std::move(pdu)};
    return run([&](store::Batch& b) { return apply_mo(b, in); });
  }

  // Holds an MT for consent, as the session does for an MT in confirm mode.
  void hold_mt(std::string_view program_id, const std::string& proxy_id, TimePoint now = kDay,
               const std::string& msisdn = kSub) {
    MtSubject subject{&program(program_id), msisdn, Category::informational};
    const MtContext ctx{config, program(program_id), subject, now, ny(), 0};
    const auto r = run([&](store::Batch& b) {
      return hold_for_consent(b, ctx, held_mt(proxy_id, "pdu-" + proxy_id), Actor{"app1"});
    });
    REQUIRE(r.held);
  }

  MtDecision decide(std::string_view program_id, Category category, TimePoint now = kDay,
                    const std::string& msisdn = kSub) {
    MtSubject subject{&program(program_id), msisdn, category};
    const MtContext ctx{config, program(program_id), subject, now, ny(), 0};
    return decide_mt(ctx, pair(program_id, msisdn));
  }
};

std::vector<std::string> templates(const MoOutcome& o) {
  std::vector<std::string> out;
  for (const auto& r : o.replies) out.push_back(r.template_name);
  return out;
}

std::vector<std::string> proxy_ids(const std::vector<store::HeldMessage>& held) {
  std::vector<std::string> out;
  for (const auto& h : held) out.push_back(h.proxy_id);
  return out;
}

std::vector<std::string> events(const std::vector<store::AuditEntry>& audit, std::size_t from = 0) {
  std::vector<std::string> out;
  for (std::size_t i = from; i < audit.size(); ++i) {
    out.push_back(audit[i].event + " " + audit[i].program + " " + audit[i].old_state + "->" +
                  audit[i].new_state);
  }
  return out;
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("STOP: opted_out, one confirmation, the audit entry field by field") {
  MoFixture f;
  f.put("alpha", kSub, record(ConsentState::opted_in, ConsentLevel::express_written));
  const auto o = f.mo("Stop!");
  CHECK(o.kind == "opt_out");
  CHECK(o.changed_to == ConsentState::opted_out);
  CHECK(o.forward);
  CHECK_FALSE(o.hold_mo);
  CHECK(o.changes ==
        std::vector<ConsentChange>{{"alpha", ConsentState::opted_out, ConsentSource::keyword}});
  REQUIRE(o.replies.size() == 1);
  CHECK(o.replies[0].template_name == "opt_out_confirm");
  CHECK(o.replies[0].text ==
        "Alpha: you are unsubscribed and will receive no more messages. Reply START to "
        "resubscribe.");

  const auto rec = f.at("alpha", kSub);
  CHECK(rec.state == ConsentState::opted_out);
  CHECK(rec.source == ConsentSource::keyword);
  CHECK(rec.level == ConsentLevel::express_written);  // what was revoked
  CHECK(rec.evidence == store::Evidence{{"mo_id", "mo-1"}});
  CHECK(rec.updated_at_ms == ms(kDay));
  CHECK(rec.created_at_ms == ms(kDay) - 100 * kHour);
  CHECK(rec.opt_out_confirmed_at_ms == ms(kDay));
  CHECK(rec.last_mo_at_ms == ms(kDay));
  CHECK_FALSE(f.get_tenant("acme", kSub));

  const auto audit = f.audit();
  REQUIRE(audit.size() == 1);
  const auto& e = audit[0];
  CHECK(e.seq == 1);
  CHECK(e.time_ms == ms(kDay));
  CHECK(e.program == "alpha");
  CHECK(e.msisdn == kSub);
  CHECK(e.event == "opted_out");
  CHECK(e.old_state == "opted_in");
  CHECK(e.new_state == "opted_out");
  CHECK(e.source == "keyword");
  CHECK(e.actor == "keyword:STOP:mo-1");
  CHECK(e.evidence == store::Evidence{{"mo_id", "mo-1"}});
  CHECK(e.mo_text == "Stop!");
  CHECK(e.mo_normalized == "stop");
  CHECK(e.keyword == "STOP");
  CHECK(e.rule == "exact");
  CHECK(e.detail.empty());

  // The next MT is refused, whatever the category.
  for (auto c : {Category::conversational, Category::informational, Category::promotional}) {
    const auto d = f.decide("alpha", c);
    CHECK(d.reason == Reason::opted_out);
    CHECK(d.status == 0x400);
  }
  // Other programs of the tenant are not affected by a program-scope STOP.
  CHECK(f.decide("beta", Category::conversational).reason != Reason::opted_out);
  f.require_chain_whole();
}

TEST_CASE("STOP again: no reply, no change (the one confirmation was already sent)") {
  MoFixture f;
  f.mo("STOP");
  const auto before = f.get("alpha", kSub);
  for (const char* again : {"STOP", "stop", "Unsubscribe", "please stop", "end"}) {
    CAPTURE(again);
    const auto o = f.mo(again, "alpha", kDay + hours(1));
    CHECK(o.kind == "opt_out");
    CHECK(o.replies.empty());
    CHECK_FALSE(o.changed_to);
    CHECK(o.changes.empty());
  }
  CHECK(f.get("alpha", kSub) == before);
  CHECK(f.audit().size() == 1);
}

TEST_CASE("STOP from a subscriber without a record creates an opted_out record") {
  MoFixture f;
  const auto o = f.mo("Cancel");
  CHECK(o.changed_to == ConsentState::opted_out);
  const auto rec = f.at("alpha", kSub);
  CHECK(rec.state == ConsentState::opted_out);
  CHECK(rec.created_at_ms == ms(kDay));
  CHECK_FALSE(rec.handset_confirmed);
  const auto audit = f.audit();
  REQUIRE(audit.size() == 1);
  CHECK(audit[0].old_state == "none");
  CHECK(audit[0].keyword == "CANCEL");
}

TEST_CASE("phrase rule: a short message with an opt-out word opts out") {
  MoFixture f;
  const auto o = f.mo("Please stop texting me");
  CHECK(o.kind == "opt_out");
  CHECK(templates(o) == Strings{"opt_out_confirm"});
  const auto audit = f.audit();
  REQUIRE(audit.size() == 1);
  CHECK(audit[0].rule == "phrase");
  CHECK(audit[0].keyword == "STOP");
  CHECK(audit[0].mo_text == "Please stop texting me");
  CHECK(audit[0].mo_normalized == "please stop texting me");
  // A program keyword in another language.
  const auto arret = f.mo("Arrêt", "alpha", kDay, "+13105550123");
  CHECK(arret.kind == "opt_out");
  CHECK(f.audit().back().keyword == "ARRET");
  CHECK(f.audit().back().actor == "keyword:ARRET:mo-2");
}

TEST_CASE("STOPALL: tenant-wide and program opt-out; held MTs of every tenant program fail") {
  MoFixture f;
  f.hold_mt("alpha", "a1");
  f.hold_mt("beta", "b1");
  f.put("gamma", kSub, record(ConsentState::none));
  f.hold_mt("gamma", "g1");
  f.hold_mt("zeta-one", "z1");
  // Consent given elsewhere after the holds (the records, not the holds, matter here).
  f.put("beta", kSub, record(ConsentState::opted_in, ConsentLevel::express_written));
  f.put("zeta-one", kSub, record(ConsentState::opted_in, ConsentLevel::express_written));
  const std::size_t audit_before = f.audit().size();

  const auto o = f.mo("STOP ALL");
  CHECK(o.kind == "opt_out");
  CHECK(templates(o) == Strings{"opt_out_confirm"});
  CHECK(o.changes == std::vector<ConsentChange>{
                         {"alpha", ConsentState::opted_out, ConsentSource::keyword},
                         {"tenant:acme", ConsentState::opted_out, ConsentSource::keyword}});
  CHECK(proxy_ids(o.failed) == Strings{"a1", "b1", "g1"});
  CHECK(f.held("alpha", kSub).empty());
  CHECK(f.held("beta", kSub).empty());
  CHECK(f.held("gamma", kSub).empty());
  CHECK(f.held("zeta-one", kSub).size() == 1);  // another tenant

  const auto tenant = f.tenant_at("acme", kSub);
  CHECK(tenant.state == ConsentState::opted_out);
  CHECK(tenant.source == ConsentSource::keyword);
  CHECK(tenant.opt_out_confirmed_at_ms == ms(kDay));
  CHECK(f.at("alpha", kSub).state == ConsentState::opted_out);
  CHECK(f.at("beta", kSub).state == ConsentState::opted_in);  // covered by the tenant record

  const auto audit = f.audit();
  REQUIRE(events(audit, audit_before) ==
          Strings{"opted_out alpha pending->opted_out", "opted_out tenant:acme none->opted_out",
                  "mt_refused alpha ->", "mt_refused beta ->", "mt_refused gamma ->"});
  CHECK(audit[audit_before + 1].actor == "keyword:STOP ALL:mo-1");
  CHECK(audit[audit_before + 1].keyword == "STOP ALL");
  CHECK(audit[audit_before + 2].detail == "opted_out a1");

  for (const char* p : {"alpha", "beta", "gamma"}) {
    CAPTURE(p);
    CHECK(f.decide(p, Category::conversational).reason == Reason::opted_out);
  }
  CHECK(f.decide("zeta-one", Category::promotional) == MtDecision{});
  f.require_chain_whole();
}

TEST_CASE("stop_scope tenant: a plain STOP is tenant-wide") {
  MoFixture f;
  f.program("alpha").stop_scope = config::StopScope::tenant;
  const auto o = f.mo("stop");
  CHECK(o.changes.size() == 2);
  CHECK(f.tenant_at("acme", kSub).state == ConsentState::opted_out);
  CHECK(f.decide("gamma", Category::conversational).reason == Reason::opted_out);
  // Then a STOP at another program of the tenant: already opted out there, nothing.
  const auto again = f.mo("STOP", "beta");
  CHECK(again.replies.empty());
  CHECK(again.changes.empty());
}

TEST_CASE("STOPALL after a program STOP widens the opt-out and confirms once more") {
  MoFixture f;
  f.mo("STOP");
  const auto o = f.mo("STOPALL", "alpha", kDay + minutes(1));
  CHECK(templates(o) == Strings{"opt_out_confirm"});
  CHECK(o.changes == std::vector<ConsentChange>{
                         {"tenant:acme", ConsentState::opted_out, ConsentSource::keyword}});
  CHECK(f.at("alpha", kSub).opt_out_confirmed_at_ms == ms(kDay));  // untouched
  CHECK(events(f.audit()) ==
        Strings{"opted_out alpha none->opted_out", "opted_out tenant:acme none->opted_out"});
  // A plain STOP at beta is covered by the tenant-wide opt-out: nothing.
  CHECK(f.mo("STOP", "beta").replies.empty());
}

TEST_CASE("HELP: answered, also when opted out; no change; audited") {
  MoFixture f;
  auto o = f.mo("help");
  CHECK(o.kind == "help");
  CHECK(templates(o) == Strings{"help"});
  CHECK(o.replies[0].text ==
        "Alpha: help at help@alpha.example. Msg&data rates may apply. Reply STOP to cancel.");
  CHECK_FALSE(o.changed_to);
  CHECK_FALSE(f.get("alpha", kSub));  // no record created

  f.mo("STOPALL", "beta");
  o = f.mo("Info?");
  CHECK(templates(o) == Strings{"help"});
  CHECK_FALSE(o.changed_to);
  const auto audit = f.audit();
  REQUIRE(audit.size() == 4);
  CHECK(audit[0].event == "help");
  CHECK(audit[0].old_state == "none");
  CHECK(audit[0].new_state == "none");
  CHECK(audit[0].source.empty());
  CHECK(audit[0].actor == "keyword:HELP:mo-1");
  CHECK(audit[0].keyword == "HELP");
  CHECK(audit[0].rule == "exact");
  CHECK(audit[3].event == "help");
  CHECK(audit[3].old_state == "opted_out");  // tenant-wide
  CHECK(audit[3].new_state == "opted_out");
  CHECK(audit[3].mo_text == "Info?");
  CHECK(f.get("alpha", kSub) == std::nullopt);
}

TEST_CASE("START after STOPALL: the texted program opted_in, the others stay opted out") {
  MoFixture f;
  f.put("beta", kSub, record(ConsentState::opted_in, ConsentLevel::express_written));
  f.mo("STOPALL", "alpha");
  const std::size_t before = f.audit().size();

  const auto o = f.mo("START", "alpha", kDay + hours(2));
  CHECK(o.kind == "opt_in");
  CHECK(templates(o) == Strings{"opt_in_confirm"});
  CHECK(o.changed_to == ConsentState::opted_in);
  CHECK(o.changes ==
        std::vector<ConsentChange>{{"beta", ConsentState::opted_out, ConsentSource::keyword},
                                   {"gamma", ConsentState::opted_out, ConsentSource::keyword},
                                   {"tenant:acme", ConsentState::none, ConsentSource::keyword},
                                   {"alpha", ConsentState::opted_in, ConsentSource::keyword}});

  const auto alpha = f.at("alpha", kSub);
  CHECK(alpha.state == ConsentState::opted_in);
  CHECK(alpha.level == ConsentLevel::express);
  CHECK(alpha.source == ConsentSource::keyword);
  CHECK(alpha.handset_confirmed);
  CHECK(alpha.created_at_ms == ms(kDay));
  CHECK(alpha.updated_at_ms == ms(kDay + hours(2)));
  const auto beta = f.at("beta", kSub);
  CHECK(beta.state == ConsentState::opted_out);
  CHECK(beta.opt_out_confirmed_at_ms == ms(kDay));  // the STOPALL's confirmation
  CHECK(f.at("gamma", kSub).state == ConsentState::opted_out);
  CHECK(f.get("zeta-one", kSub) == std::nullopt);
  CHECK(f.tenant_at("acme", kSub).state == ConsentState::none);

  const auto audit = f.audit();
  REQUIRE(events(audit, before) ==
          Strings{"opted_out beta opted_in->opted_out", "opted_out gamma none->opted_out",
                  "opted_in tenant:acme opted_out->none", "opted_in alpha opted_out->opted_in"});
  CHECK(audit[before].detail == "tenant-wide opt-out kept for this program; START at alpha");
  CHECK(audit[before + 3].actor == "keyword:START:mo-2");
  CHECK(audit[before + 3].source == "keyword");

  CHECK(f.decide("alpha", Category::informational, kDay + hours(2)) == MtDecision{});
  CHECK(f.decide("beta", Category::informational, kDay + hours(2)).reason == Reason::opted_out);
  CHECK(f.decide("gamma", Category::informational, kDay + hours(2)).reason == Reason::opted_out);
  // START at beta later re-enables beta alone.
  f.mo("UNSTOP", "beta", kDay + hours(3));
  CHECK(f.decide("beta", Category::informational, kDay + hours(3)) == MtDecision{});
  CHECK(f.decide("gamma", Category::informational, kDay + hours(3)).reason == Reason::opted_out);
  f.require_chain_whole();
}

TEST_CASE("START after STOP gives express, never the revoked written consent back") {
  MoFixture f;
  f.put("alpha", kSub, record(ConsentState::opted_in, ConsentLevel::express_written));
  f.mo("STOP");
  f.mo("START");
  const auto rec = f.at("alpha", kSub);
  CHECK(rec.level == ConsentLevel::express);
  CHECK(f.decide("alpha", Category::promotional).reason == Reason::consent_level);
}

TEST_CASE("YES while opted_in express_written keeps the level and source") {
  MoFixture f;
  f.put("alpha", kSub, record(ConsentState::opted_in, ConsentLevel::express_written));
  auto o = f.mo("yes");
  CHECK(templates(o) == Strings{"opt_in_confirm"});
  CHECK(o.changed_to == ConsentState::opted_in);  // handset confirmed now
  auto rec = f.at("alpha", kSub);
  CHECK(rec.level == ConsentLevel::express_written);
  CHECK(rec.source == ConsentSource::api);
  CHECK(rec.handset_confirmed);
  REQUIRE(f.audit().size() == 1);
  CHECK(f.audit().at(0).source == "api");
  // Again: confirmation, but nothing changed, nothing audited.
  o = f.mo("YES");
  CHECK(templates(o) == Strings{"opt_in_confirm"});
  CHECK_FALSE(o.changed_to);
  CHECK(f.audit().size() == 1);
}

TEST_CASE("YES releases the held MTs after the confirmation, in their original order") {
  MoFixture f;
  f.hold_mt("alpha", "gw1-1-1");
  f.hold_mt("alpha", "gw1-1-2", kDay + minutes(1));
  f.hold_mt("alpha", "gw1-1-3", kDay + minutes(2));
  f.hold_mt("beta", "other-program");
  // A quiet-hours hold of the pair is not released by consent.
  auto quiet = held_mt("quiet-1");
  quiet.program = "alpha";
  quiet.msisdn = kSub;
  quiet.release_at_ms = ms(kDay + hours(20));
  f.run([&](store::Batch& b) { return hold_for_quiet_hours(b, quiet, Actor{"app1"}, kDay); });
  const std::size_t before = f.audit().size();

  const auto o = f.mo("Yes", "alpha", kDay + minutes(5));
  CHECK(o.kind == "opt_in");
  CHECK(templates(o) == Strings{"opt_in_confirm"});
  CHECK(proxy_ids(o.release) == Strings{"gw1-1-1", "gw1-1-2", "gw1-1-3"});
  CHECK(o.release[0].pdu == "pdu-gw1-1-1");
  CHECK(o.release[0].account == "app1");
  CHECK(o.failed.empty());
  CHECK(proxy_ids(f.held("alpha", kSub)) == Strings{"quiet-1"});
  CHECK(f.held("beta", kSub).size() == 1);

  const auto rec = f.at("alpha", kSub);
  CHECK(rec.state == ConsentState::opted_in);
  CHECK(rec.level == ConsentLevel::express);
  CHECK(rec.handset_confirmed);
  CHECK(rec.opt_in_requested_at_ms == ms(kDay));
  const auto audit = f.audit();
  REQUIRE(events(audit, before) == Strings{"opted_in alpha pending->opted_in",
                                           "mt_released alpha ->", "mt_released alpha ->",
                                           "mt_released alpha ->"});
  CHECK(audit[before + 1].detail == "gw1-1-1");
  CHECK(audit[before + 3].detail == "gw1-1-3");
  CHECK(audit[before + 1].actor == "keyword:YES:mo-1");
  f.require_chain_whole();
}

TEST_CASE("a join keyword is an opt-in") {
  MoFixture f;
  const auto o = f.mo("support");
  CHECK(o.kind == "opt_in");
  CHECK(f.at("alpha", kSub).state == ConsentState::opted_in);
  CHECK(f.audit().at(0).keyword == "SUPPORT");
}

TEST_CASE("STOP fails the held MTs of the pair") {
  MoFixture f;
  f.hold_mt("alpha", "gw1-1-1");
  f.hold_mt("alpha", "gw1-1-2");
  f.hold_mt("beta", "gw1-1-3");
  const auto o = f.mo("quit");
  CHECK(proxy_ids(o.failed) == Strings{"gw1-1-1", "gw1-1-2"});
  CHECK(o.failed[0].wants_receipt);
  CHECK(o.release.empty());
  CHECK(f.held("alpha", kSub).empty());
  CHECK(f.held("beta", kSub).size() == 1);
  const auto audit = f.audit();
  REQUIRE(audit.size() >= 2);
  CHECK(audit[audit.size() - 2].event == "mt_refused");
  CHECK(audit[audit.size() - 2].detail == "opted_out gw1-1-1");
  CHECK(audit.back().detail == "opted_out gw1-1-2");
}

TEST_CASE("still_opted_out: once per reminder_interval, never for keywords") {
  MoFixture f;
  f.mo("STOP");
  auto o = f.mo("hello?", "alpha", kDay + minutes(1));
  CHECK(o.kind == "other");
  CHECK(templates(o) == Strings{"still_opted_out"});
  CHECK(o.replies[0].text == "Alpha: you are unsubscribed. Reply START to resubscribe.");
  CHECK_FALSE(o.changed_to);
  CHECK(f.at("alpha", kSub).last_reminder_at_ms == ms(kDay + minutes(1)));
  CHECK(f.at("alpha", kSub).state == ConsentState::opted_out);

  CHECK(f.mo("hello again", "alpha", kDay + hours(2)).replies.empty());
  CHECK(f.mo("STOP", "alpha", kDay + hours(30)).replies.empty());  // keyword: no reminder
  CHECK(templates(f.mo("HELP", "alpha", kDay + hours(30))) == Strings{"help"});
  CHECK(f.mo("still there", "alpha", kDay + minutes(1) + hours(24) - milliseconds(1))
            .replies.empty());
  CHECK(templates(f.mo("still there", "alpha", kDay + minutes(1) + hours(24))) ==
        Strings{"still_opted_out"});
  // A long message containing "stop" is not a keyword: it may get the reminder.
  f.program("alpha").reminder_interval = hours(1);
  const auto p =
      f.mo("I told you to stop sending these messages yesterday", "alpha", kDay + hours(40));
  CHECK(p.kind == "possible_opt_out");
  CHECK(templates(p) == Strings{"still_opted_out"});
  // Only one audit entry beyond the STOP and the HELP: the possible_opt_out.
  CHECK(events(f.audit()) == Strings{"opted_out alpha none->opted_out",
                                     "help alpha opted_out->opted_out",
                                     "possible_opt_out alpha opted_out->opted_out"});
}

TEST_CASE("still_opted_out under a tenant-wide opt-out is rate-limited on the tenant record") {
  MoFixture f;
  f.mo("STOPALL", "alpha");
  CHECK(templates(f.mo("hi", "beta", kDay + hours(1))) == Strings{"still_opted_out"});
  CHECK(f.tenant_at("acme", kSub).last_reminder_at_ms == ms(kDay + hours(1)));
  CHECK(f.get("beta", kSub) == std::nullopt);  // no record materialised
  CHECK(f.mo("hi", "gamma", kDay + hours(2)).replies.empty());
}

TEST_CASE("other MOs: implied consent created, then refreshed") {
  MoFixture f;
  auto o = f.mo("Hi, is my order shipped?");
  CHECK(o.kind == "other");
  CHECK(o.replies.empty());
  CHECK(o.forward);
  CHECK(o.changed_to == ConsentState::opted_in);
  CHECK(o.changes == std::vector<ConsentChange>{
                         {"alpha", ConsentState::opted_in, ConsentSource::mo_conversation}});
  auto rec = f.at("alpha", kSub);
  CHECK(rec.state == ConsentState::opted_in);
  CHECK(rec.level == ConsentLevel::implied);
  CHECK(rec.source == ConsentSource::mo_conversation);
  CHECK(rec.last_mo_at_ms == ms(kDay));
  CHECK(rec.created_at_ms == ms(kDay));
  CHECK_FALSE(rec.handset_confirmed);
  auto audit = f.audit();
  REQUIRE(audit.size() == 1);
  CHECK(audit[0].event == "opted_in");
  CHECK(audit[0].old_state == "none");
  CHECK(audit[0].new_state == "opted_in");
  CHECK(audit[0].source == "mo_conversation");
  CHECK(audit[0].actor == "mo:mo-1");
  CHECK(audit[0].keyword.empty());
  CHECK(audit[0].rule.empty());
  CHECK(audit[0].mo_text == "Hi, is my order shipped?");
  CHECK(audit[0].mo_normalized == "hi, is my order shipped");

  CHECK(f.decide("alpha", Category::conversational, kDay + hours(23)) == MtDecision{});
  CHECK(f.decide("alpha", Category::conversational, kDay + hours(25)).action ==
        MtAction::hold_for_consent);
  // A later MO refreshes the window without an audit entry.
  o = f.mo("thanks", "alpha", kDay + hours(20));
  CHECK_FALSE(o.changed_to);
  rec = f.at("alpha", kSub);
  CHECK(rec.last_mo_at_ms == ms(kDay + hours(20)));
  CHECK(rec.updated_at_ms == ms(kDay));
  CHECK(f.audit().size() == 1);
  CHECK(f.decide("alpha", Category::conversational, kDay + hours(43)) == MtDecision{});
}

TEST_CASE("other MO from a pending subscriber: implied consent, held MTs stay held") {
  MoFixture f;
  f.hold_mt("alpha", "gw1-1-1");
  const auto o = f.mo("who is this");
  CHECK(o.changed_to == ConsentState::opted_in);
  CHECK(o.release.empty());
  const auto rec = f.at("alpha", kSub);
  CHECK(rec.level == ConsentLevel::implied);
  CHECK(rec.opt_in_requested_at_ms == ms(kDay));
  CHECK(f.held("alpha", kSub).size() == 1);
  CHECK(f.audit().back().old_state == "pending");
  // The next informational MT is held again, without a second request inside the interval.
  MtSubject subject{&f.program("alpha"), kSub, Category::informational};
  const MtContext ctx{f.config, f.program("alpha"), subject, kDay + hours(1), ny(), 0};
  const auto r = f.run(
      [&](store::Batch& b) { return hold_for_consent(b, ctx, held_mt("gw1-1-2"), Actor{"a"}); });
  CHECK(r.held);
  CHECK_FALSE(r.send_opt_in_request);
  CHECK(f.at("alpha", kSub).state == ConsentState::opted_in);
}

TEST_CASE("possible_opt_out is audited, not acted on, then handled as other") {
  MoFixture f;
  const std::string text = "I will not stop buying from you, great service and fast delivery";
  const auto o = f.mo(text);
  CHECK(o.kind == "possible_opt_out");
  CHECK(o.replies.empty());
  CHECK(o.forward);
  CHECK(f.at("alpha", kSub).state == ConsentState::opted_in);
  const auto audit = f.audit();
  REQUIRE(audit.size() == 2);
  CHECK(audit[0].event == "possible_opt_out");
  CHECK(audit[0].old_state == "none");
  CHECK(audit[0].new_state == "none");
  CHECK(audit[0].keyword == "STOP");
  CHECK(audit[0].rule == "long_message");
  CHECK(audit[0].actor == "mo:mo-1");
  CHECK(audit[0].mo_text == text);
  CHECK(audit[1].event == "opted_in");
  CHECK(audit[1].source == "mo_conversation");
}

TEST_CASE("phrase_opt_out off: a short phrase is possible_opt_out with rule phrase") {
  MoFixture f;
  f.program("alpha").phrase_opt_out = false;
  f.rebuild();
  const auto o = f.mo("please stop");
  CHECK(o.kind == "possible_opt_out");
  CHECK(f.at("alpha", kSub).state == ConsentState::opted_in);
  CHECK(f.audit().at(0).rule == "phrase");
}

TEST_CASE("forward_keywords false: keyword MOs are not forwarded, others are") {
  MoFixture f;
  f.program("alpha").forward_keywords = false;
  CHECK_FALSE(f.mo("HELP").forward);
  CHECK_FALSE(f.mo("START").forward);
  CHECK_FALSE(f.mo("STOP").forward);
  CHECK_FALSE(f.mo("STOP").forward);  // repeated
  CHECK(f.mo("hello").forward);
  CHECK(f.mo("please do not stop these messages, I enjoy them a lot").forward);
  f.program("alpha").forward_keywords = true;
  CHECK(f.mo("HELP").forward);
  CHECK(f.mo("STOP").forward);
}

TEST_CASE("mo_requires_consent: the MO is held and the opt-in request sent; YES releases it") {
  MoFixture f;
  f.program("alpha").mo_requires_consent = true;
  auto o = f.mo("hello there", "alpha", kDay, kSub, "mo-pdu-1");
  CHECK(o.kind == "other");
  CHECK(o.hold_mo);
  CHECK_FALSE(o.forward);
  CHECK(o.held_mo_seq > 0);
  CHECK(templates(o) == Strings{"opt_in_request"});
  CHECK(o.replies[0].text ==
        "Alpha wants to text you. Reply YES to agree, STOP to decline. Msg&data rates may "
        "apply.");
  CHECK(o.changed_to == ConsentState::pending);
  auto rec = f.at("alpha", kSub);
  CHECK(rec.state == ConsentState::pending);
  CHECK(rec.opt_in_requested_at_ms == ms(kDay));
  auto held = f.held("alpha", kSub);
  REQUIRE(held.size() == 1);
  CHECK(held[0].account.empty());
  CHECK(held[0].proxy_id == "mo-1");
  CHECK(held[0].pdu == "mo-pdu-1");
  CHECK(held[0].expires_at_ms == ms(kDay) + 72 * kHour);
  CHECK(events(f.audit()) == Strings{"pending alpha none->pending"});
  CHECK(f.audit().at(0).actor == "mo:mo-1");

  // A second MO inside request_interval: held, no second request.
  o = f.mo("anyone?", "alpha", kDay + hours(1), kSub, "mo-pdu-2");
  CHECK(o.hold_mo);
  CHECK(o.replies.empty());
  CHECK_FALSE(o.changed_to);
  // HELP is a keyword: answered, not held.
  o = f.mo("HELP", "alpha", kDay + hours(1));
  CHECK_FALSE(o.hold_mo);
  CHECK(o.forward);
  CHECK(templates(o) == Strings{"help"});
  // An MT held meanwhile, then YES: confirmation, then MOs and MT in arrival order.
  f.hold_mt("alpha", "gw1-1-1", kDay + hours(2));
  o = f.mo("YES", "alpha", kDay + hours(3));
  CHECK(templates(o) == Strings{"opt_in_confirm"});
  CHECK(proxy_ids(o.release) == Strings{"mo-1", "mo-2", "gw1-1-1"});
  CHECK(o.release[0].account.empty());
  CHECK(o.release[2].account == "app1");
  CHECK(f.held("alpha", kSub).empty());
  const auto audit = f.audit();
  CHECK(audit.back().event == "mt_released");  // for the MT only
  CHECK(audit[audit.size() - 2].event == "opted_in");
  // With consent, MOs pass.
  o = f.mo("thanks", "alpha", kDay + hours(4));
  CHECK_FALSE(o.hold_mo);
  CHECK(o.forward);
  f.require_chain_whole();
}

TEST_CASE("mo_requires_consent: STOP drops the held MO; ignored outside confirm mode") {
  SUBCASE("STOP") {
    MoFixture f;
    f.program("alpha").mo_requires_consent = true;
    f.mo("hello", "alpha", kDay, kSub, "mo-pdu");
    const auto o = f.mo("STOP", "alpha", kDay + minutes(1));
    REQUIRE(o.failed.size() == 1);
    CHECK(o.failed[0].account.empty());
    CHECK(f.held("alpha", kSub).empty());
    CHECK(events(f.audit()) ==
          Strings{"pending alpha none->pending", "opted_out alpha pending->opted_out"});
  }
  SUBCASE("strict mode") {
    MoFixture f;
    f.program("alpha").mo_requires_consent = true;
    f.program("alpha").opt_in_mode = OptInMode::strict;
    const auto o = f.mo("hello", "alpha", kDay, kSub, "mo-pdu");
    CHECK_FALSE(o.hold_mo);
    CHECK(o.forward);
    CHECK(f.at("alpha", kSub).level == ConsentLevel::implied);
  }
  SUBCASE("implied consent exists") {
    MoFixture f;
    f.program("alpha").mo_requires_consent = true;
    f.put("alpha", kSub, record(ConsentState::opted_in, ConsentLevel::implied, 1));
    const auto o = f.mo("hello", "alpha", kDay, kSub, "mo-pdu");
    CHECK_FALSE(o.hold_mo);
    CHECK(f.at("alpha", kSub).last_mo_at_ms == ms(kDay));
  }
  SUBCASE("without the PDU the MO is not stored") {
    MoFixture f;
    f.program("alpha").mo_requires_consent = true;
    const auto o = f.mo("hello");
    CHECK(o.hold_mo);
    CHECK(o.held_mo_seq == 0);
    CHECK(f.held("alpha", kSub).empty());
  }
}

TEST_CASE("replies use the program's templates and the number the subscriber texted") {
  MoFixture f;
  f.program("alpha").messages.opt_out_confirm = "{program} ({number}): bye. Help: {help_contact}";
  const auto& p = f.program("alpha");
  const NormalizedText n = normalize_text("STOP");
  const MoInput in{f.config, p,    kSub, "12345", "STOP", n, f.programs.match("alpha", n),
                   "m1",     kDay, {}};
  const auto o = f.run([&](store::Batch& b) { return apply_mo(b, in); });
  REQUIRE(o.replies.size() == 1);
  CHECK(o.replies[0].text == "Alpha (12345): bye. Help: help@alpha.example");
}

TEST_CASE("a store read error fails the MO mutation as a whole") {
  MoFixture f;
  const std::string bad("+1212\0", 6);
  const auto& p = f.program("alpha");
  const NormalizedText n = normalize_text("STOP");
  const MoInput in{f.config, p,    bad, "12345", "STOP", n, f.programs.match("alpha", n),
                   "m1",     kDay, {}};
  const auto ec = f.commit([&](store::Batch& b) { (void)apply_mo(b, in); });
  CHECK(ec == store::StoreErrc::mutation_failed);
  CHECK(f.audit().empty());
}
