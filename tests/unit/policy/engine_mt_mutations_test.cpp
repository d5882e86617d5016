// The MT mutations against a real store: hold_for_consent, hold_for_quiet_hours,
// record_disclaimer, audit_refusal, release/expire, record_message_sent, audit_proxy_receipt.
#include "unit/policy/engine_support.hpp"

using namespace smppguard;
using namespace smppguard::policy;
using namespace smppguard::policy::test;

namespace {

const TimeZone& ny() {
  static const auto z = *TimeZoneDb::system().find("America/New_York");
  return *z;
}

struct MtFixture : EngineFixture {
  MtSubject subject;
  MtFixture() {
    subject.program = &program("alpha");
    subject.msisdn = kSub;
    subject.category = Category::informational;
  }
  MtContext context(TimePoint now) {
    return MtContext{config, program("alpha"), subject, now, ny(), 0};
  }
  MtMutationResult hold(TimePoint now, std::optional<store::HeldMessage> h) {
    return run(
        [&](store::Batch& b) { return hold_for_consent(b, context(now), h, Actor{"app1"}); });
  }
};

}  // namespace

TEST_CASE("hold_for_consent: pending, one request per request_interval, held with hold_ttl") {
  MtFixture f;
  auto r = f.hold(kDay, held_mt("gw1-1-1"));
  CHECK(r.send_opt_in_request);
  CHECK(r.held);
  CHECK(r.held_seq > 0);
  CHECK_FALSE(r.redecided);

  auto rec = f.at("alpha", kSub);
  CHECK(rec.state == ConsentState::pending);
  CHECK(rec.level == ConsentLevel::none);
  CHECK(rec.opt_in_requested_at_ms == ms(kDay));
  CHECK(rec.created_at_ms == ms(kDay));
  CHECK(rec.updated_at_ms == ms(kDay));

  auto held = f.held("alpha", kSub);
  REQUIRE(held.size() == 1);
  CHECK(held[0].program == "alpha");
  CHECK(held[0].msisdn == kSub);
  CHECK(held[0].account == "app1");
  CHECK(held[0].proxy_id == "gw1-1-1");
  CHECK(held[0].pdu == "pdu");
  CHECK(held[0].reason == store::HoldReason::pending_consent);
  CHECK(held[0].held_at_ms == ms(kDay));
  CHECK(held[0].release_at_ms == 0);
  CHECK(held[0].expires_at_ms == ms(kDay) + 72 * kHour);
  CHECK(held[0].wants_receipt);

  auto audit = f.audit();
  REQUIRE(audit.size() == 2);
  CHECK(audit[0].event == "pending");
  CHECK(audit[0].program == "alpha");
  CHECK(audit[0].msisdn == kSub);
  CHECK(audit[0].old_state == "none");
  CHECK(audit[0].new_state == "pending");
  CHECK(audit[0].actor == "app1");
  CHECK(audit[0].time_ms == ms(kDay));
  CHECK(audit[1].event == "mt_held");
  CHECK(audit[1].detail == "pending_consent gw1-1-1");
  CHECK(audit[1].actor == "app1");

  // A second MT an hour later: held too, no second request, no second `pending`.
  r = f.hold(kDay + hours(1), held_mt("gw1-1-2"));
  CHECK_FALSE(r.send_opt_in_request);
  CHECK(r.held);
  CHECK(f.at("alpha", kSub).opt_in_requested_at_ms == ms(kDay));
  CHECK(f.held("alpha", kSub).size() == 2);
  audit = f.audit();
  REQUIRE(audit.size() == 3);
  CHECK(audit[2].event == "mt_held");

  // Just before request_interval (24h): still none. At 24h: one more, no new `pending`.
  r = f.hold(kDay + hours(24) - milliseconds(1), std::nullopt);
  CHECK_FALSE(r.send_opt_in_request);
  CHECK_FALSE(r.held);
  r = f.hold(kDay + hours(24), std::nullopt);
  CHECK(r.send_opt_in_request);
  rec = f.at("alpha", kSub);
  CHECK(rec.state == ConsentState::pending);
  CHECK(rec.opt_in_requested_at_ms == ms(kDay + hours(24)));
  CHECK(f.audit().size() == 3);
  f.require_chain_whole();
}

TEST_CASE("hold_for_consent: request_interval is the program's") {
  MtFixture f;
  f.program("alpha").request_interval = hours(1);
  CHECK(f.hold(kDay, std::nullopt).send_opt_in_request);
  CHECK_FALSE(f.hold(kDay + minutes(59), std::nullopt).send_opt_in_request);
  CHECK(f.hold(kDay + minutes(60), std::nullopt).send_opt_in_request);
}

TEST_CASE("hold_for_consent (refuse_and_request): pending and the request, nothing held") {
  MtFixture f;
  f.program("alpha").hold = false;
  const auto r = f.hold(kDay, std::nullopt);
  CHECK(r.send_opt_in_request);
  CHECK_FALSE(r.held);
  CHECK(f.at("alpha", kSub).state == ConsentState::pending);
  CHECK(f.held("alpha", kSub).empty());
}

TEST_CASE("hold_for_consent: an opted_in record whose level is too low stays opted_in") {
  MtFixture f;
  f.put("alpha", kSub, record(ConsentState::opted_in, ConsentLevel::implied, ms(kDay) - kHour));
  const auto r = f.hold(kDay, held_mt("gw1-1-1"));
  CHECK(r.send_opt_in_request);
  CHECK(r.held);
  const auto rec = f.at("alpha", kSub);
  CHECK(rec.state == ConsentState::opted_in);
  CHECK(rec.level == ConsentLevel::implied);
  CHECK(rec.opt_in_requested_at_ms == ms(kDay));
  const auto audit = f.audit();
  REQUIRE(audit.size() == 1);  // no `pending`: the state did not change
  CHECK(audit[0].event == "mt_held");
}

TEST_CASE("hold_for_consent redecides when a YES or a STOP arrived meanwhile") {
  SUBCASE("YES: forward") {
    MtFixture f;
    f.put("alpha", kSub, record(ConsentState::opted_in, ConsentLevel::express));
    const auto r = f.hold(kDay, held_mt("gw1-1-1"));
    REQUIRE(r.redecided);
    CHECK(*r.redecided == MtDecision{});
    CHECK_FALSE(r.held);
    CHECK_FALSE(r.send_opt_in_request);
    CHECK(f.held("alpha", kSub).empty());
    CHECK(f.audit().empty());
  }
  SUBCASE("STOP: refuse opted_out with the configured status") {
    MtFixture f;
    f.config.defaults.statuses.opted_out = 0x510;
    f.put_tenant("acme", kSub, record(ConsentState::opted_out));
    const auto r = f.hold(kDay, held_mt("gw1-1-1"));
    REQUIRE(r.redecided);
    CHECK(*r.redecided == MtDecision{MtAction::refuse, Reason::opted_out, 0x510, {}});
    CHECK(f.held("alpha", kSub).empty());
    CHECK_FALSE(f.get("alpha", kSub));
  }
  SUBCASE("the overload without a context: default statuses") {
    MtFixture f;
    f.put("alpha", kSub, record(ConsentState::opted_out));
    auto r = f.run([&](store::Batch& b) {
      return hold_for_consent(b, f.program("alpha"), kSub, held_mt("x"), Actor{"app1"}, kDay);
    });
    REQUIRE(r.redecided);
    CHECK(*r.redecided == MtDecision{MtAction::refuse, Reason::opted_out, 0x400, {}});
    f.put("alpha", kSub, record(ConsentState::opted_in, ConsentLevel::express_written));
    r = f.run([&](store::Batch& b) {
      return hold_for_consent(b, f.program("alpha"), kSub, held_mt("x"), Actor{"app1"}, kDay);
    });
    REQUIRE(r.redecided);
    CHECK(r.redecided->action == MtAction::forward);
    // Without consent it holds like the other overload.
    f.put("alpha", kSub, record(ConsentState::none));
    r = f.run([&](store::Batch& b) {
      return hold_for_consent(b, f.program("alpha"), kSub, held_mt("x"), Actor{"app1"}, kDay);
    });
    CHECK_FALSE(r.redecided);
    CHECK(r.held);
    CHECK(r.send_opt_in_request);
  }
}

TEST_CASE("hold_for_quiet_hours stores the MT until the window opens") {
  MtFixture f;
  auto h = held_mt("gw1-1-9");
  h.program = "alpha";
  h.msisdn = kSub;
  h.release_at_ms = ms(utc(2026, 1, 15, 13));
  const auto r =
      f.run([&](store::Batch& b) { return hold_for_quiet_hours(b, h, Actor{"app1"}, kNight); });
  CHECK(r.held);
  CHECK_FALSE(r.send_opt_in_request);
  const auto held = f.held("alpha", kSub);
  REQUIRE(held.size() == 1);
  CHECK(held[0].reason == store::HoldReason::quiet_hours);
  CHECK(held[0].release_at_ms == ms(utc(2026, 1, 15, 13)));
  CHECK(held[0].held_at_ms == ms(kNight));
  CHECK(held[0].seq == r.held_seq);
  // Due at the release time.
  auto due = f.store->held_due(ms(utc(2026, 1, 15, 13)) - 1, 10);
  REQUIRE(due.has_value());
  CHECK(due->empty());
  due = f.store->held_due(ms(utc(2026, 1, 15, 13)), 10);
  REQUIRE(due.has_value());
  CHECK(due->size() == 1);

  const auto audit = f.audit();
  REQUIRE(audit.size() == 1);
  CHECK(audit[0].event == "mt_held");
  CHECK(audit[0].program == "alpha");
  CHECK(audit[0].actor == "app1");
  CHECK(audit[0].detail == "quiet_hours gw1-1-9 until 2026-01-15T13:00:00Z");

  // Released by the session when the window opens.
  f.run([&](store::Batch& b) {
    release_held(b, held[0], Actor{"app1"}, utc(2026, 1, 15, 13));
    return 0;
  });
  CHECK(f.held("alpha", kSub).empty());
  const auto after = f.audit();
  REQUIRE(after.size() == 2);
  CHECK(after[1].event == "mt_released");
  CHECK(after[1].detail == "gw1-1-9");
  f.require_chain_whole();
}

TEST_CASE("expire_held removes the message and audits mt_expired") {
  MtFixture f;
  f.hold(kDay, held_mt("gw1-1-1"));
  const auto held = f.held("alpha", kSub);
  REQUIRE(held.size() == 1);
  f.run([&](store::Batch& b) {
    expire_held(b, held[0], kDay + hours(72));
    return 0;
  });
  CHECK(f.held("alpha", kSub).empty());
  const auto audit = f.audit();
  REQUIRE(audit.size() == 3);
  CHECK(audit[2].event == "mt_expired");
  CHECK(audit[2].detail == "gw1-1-1");
  CHECK(audit[2].actor == "proxy");
  CHECK(audit[2].time_ms == ms(kDay + hours(72)));
}

TEST_CASE("record_disclaimer: opted_in express, source disclaimer, once") {
  MtFixture f;
  auto r = f.run([&](store::Batch& b) {
    return record_disclaimer(b, f.program("alpha"), kSub, Actor{"app1"}, kDay);
  });
  CHECK_FALSE(r.redecided);
  auto rec = f.at("alpha", kSub);
  CHECK(rec.state == ConsentState::opted_in);
  CHECK(rec.level == ConsentLevel::express);
  CHECK(rec.source == ConsentSource::disclaimer);
  CHECK(rec.disclaimer_sent_at_ms == ms(kDay));
  CHECK(rec.created_at_ms == ms(kDay));
  CHECK(rec.evidence == store::Evidence{{"account", "app1"}});
  CHECK_FALSE(rec.handset_confirmed);
  auto audit = f.audit();
  REQUIRE(audit.size() == 1);
  CHECK(audit[0].event == "opted_in");
  CHECK(audit[0].old_state == "none");
  CHECK(audit[0].new_state == "opted_in");
  CHECK(audit[0].source == "disclaimer");
  CHECK(audit[0].actor == "app1");
  CHECK(audit[0].detail == "disclaimer sent");

  // Idempotent: a second call changes nothing.
  r = f.run([&](store::Batch& b) {
    return record_disclaimer(b, f.program("alpha"), kSub, Actor{"app1"}, kDay + hours(1));
  });
  CHECK_FALSE(r.redecided);
  CHECK(f.at("alpha", kSub).disclaimer_sent_at_ms == ms(kDay));
  CHECK(f.audit().size() == 1);

  // After it, the next MT is forwarded without a disclaimer.
  store::ConsentPair pair = f.pair("alpha", kSub);
  f.program("alpha").opt_in_mode = OptInMode::disclaimer;
  CHECK(decide_mt(f.context(kDay), pair) == MtDecision{});
}

TEST_CASE("record_disclaimer upgrades implied consent and refuses after a STOP") {
  SUBCASE("implied") {
    MtFixture f;
    f.put("alpha", kSub, record(ConsentState::opted_in, ConsentLevel::implied, ms(kDay)));
    f.run([&](store::Batch& b) {
      return record_disclaimer(b, f.program("alpha"), kSub, Actor{"app1"}, kDay);
    });
    const auto rec = f.at("alpha", kSub);
    CHECK(rec.level == ConsentLevel::express);
    CHECK(rec.source == ConsentSource::disclaimer);
    CHECK(rec.last_mo_at_ms == ms(kDay));
    CHECK(rec.created_at_ms == ms(kDay) - 100 * kHour);
    REQUIRE(f.audit().size() == 1);
    CHECK(f.audit().at(0).old_state == "opted_in");
  }
  SUBCASE("a STOP arrived while the disclaimer was in flight") {
    MtFixture f;
    f.put("alpha", kSub, record(ConsentState::opted_out));
    const auto r = f.run([&](store::Batch& b) {
      return record_disclaimer(b, f.program("alpha"), kSub, Actor{"app1"}, kDay);
    });
    REQUIRE(r.redecided);
    CHECK(r.redecided->action == MtAction::refuse);
    CHECK(r.redecided->reason == Reason::opted_out);
    CHECK(f.at("alpha", kSub).state == ConsentState::opted_out);
    CHECK(f.audit().empty());
  }
  SUBCASE("a tenant-wide STOP") {
    MtFixture f;
    f.put_tenant("acme", kSub, record(ConsentState::opted_out));
    const auto r = f.run([&](store::Batch& b) {
      return record_disclaimer(b, f.program("alpha"), kSub, Actor{"app1"}, kDay);
    });
    REQUIRE(r.redecided);
    CHECK(r.redecided->reason == Reason::opted_out);
    CHECK_FALSE(f.get("alpha", kSub));
  }
  SUBCASE("express_written stays") {
    MtFixture f;
    f.put("alpha", kSub, record(ConsentState::opted_in, ConsentLevel::express_written));
    const auto r = f.run([&](store::Batch& b) {
      return record_disclaimer(b, f.program("alpha"), kSub, Actor{"app1"}, kDay);
    });
    CHECK_FALSE(r.redecided);
    CHECK(f.at("alpha", kSub).level == ConsentLevel::express_written);
    CHECK(f.audit().empty());
  }
}

TEST_CASE("audit_refusal records mt_refused with the reason") {
  MtFixture f;
  f.run([&](store::Batch& b) {
    audit_refusal(b, &f.program("alpha"), kSub, Reason::no_consent, Actor{"app1"}, kDay);
    audit_refusal(b, nullptr, kSub, Reason::unknown_program, Actor{"app2"}, kDay, "gw1-1-5");
    return 0;
  });
  const auto audit = f.audit();
  REQUIRE(audit.size() == 2);
  CHECK(audit[0].event == "mt_refused");
  CHECK(audit[0].program == "alpha");
  CHECK(audit[0].msisdn == kSub);
  CHECK(audit[0].actor == "app1");
  CHECK(audit[0].detail == "no_consent");
  CHECK(audit[0].old_state.empty());
  CHECK(audit[1].program.empty());
  CHECK(audit[1].detail == "unknown_program gw1-1-5");
  f.require_chain_whole();
}

TEST_CASE("record_message_sent: message_sent audited; the confirmation's send time recorded") {
  MtFixture f;
  auto out = record(ConsentState::opted_out);
  out.updated_at_ms = ms(kDay);
  out.opt_out_confirmed_at_ms = ms(kDay);
  f.put("alpha", kSub, out);
  f.put_tenant("acme", kSub, out);
  const TimePoint sent = kDay + seconds(7);
  f.run([&](store::Batch& b) {
    record_message_sent(b, f.program("alpha"), kSub, "opt_out_confirm", "gw1-1-3", sent);
    record_message_sent(b, f.program("alpha"), kSub, "help", "gw1-1-4", sent);
    return 0;
  });
  CHECK(f.at("alpha", kSub).opt_out_confirmed_at_ms == ms(sent));
  CHECK(f.tenant_at("acme", kSub).opt_out_confirmed_at_ms == ms(sent));
  const auto audit = f.audit();
  REQUIRE(audit.size() == 2);
  CHECK(audit[0].event == "message_sent");
  CHECK(audit[0].detail == "opt_out_confirm gw1-1-3");
  CHECK(audit[0].time_ms == ms(sent));
  CHECK(audit[0].actor == "proxy");
  CHECK(audit[1].detail == "help gw1-1-4");
}

TEST_CASE("audit_proxy_receipt records the receipt of a proxy message") {
  MtFixture f;
  store::MessageRoute route;
  route.proxy_id = "gw1-1-3";
  route.upstream = "up1";
  route.program = "alpha";
  route.msisdn = kSub;
  route.template_name = "opt_out_confirm";
  f.run([&](store::Batch& b) {
    audit_proxy_receipt(b, route, "id:77 sub:001 dlvrd:001 stat:DELIVRD err:000 text:x", kDay);
    return 0;
  });
  const auto audit = f.audit();
  REQUIRE(audit.size() == 1);
  CHECK(audit[0].event == "receipt");
  CHECK(audit[0].program == "alpha");
  CHECK(audit[0].actor == "upstream:up1");
  CHECK(audit[0].detail == "opt_out_confirm gw1-1-3 stat:DELIVRD");
}

TEST_CASE("a store read error fails the mutation: nothing is decided on a guess") {
  MtFixture f;
  // A NUL in the key makes the read inside the mutation fail.
  const std::string bad("+1212\0", 6);
  std::optional<MtMutationResult> result;
  const auto ec = f.commit([&](store::Batch& b) {
    result = hold_for_consent(b, f.program("alpha"), bad, held_mt("x"), Actor{"app1"}, kDay);
  });
  CHECK(ec == store::StoreErrc::mutation_failed);
  CHECK(f.audit().empty());
}
