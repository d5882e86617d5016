// MT policy through the real daemon and carrier simulator (SPEC 4 and SPEC 8 "Refusal
// precedence"): every refusal with its status, in strict mode; quiet hours (reject and hold)
// computed around the current time; the frequency cap; refuse_with: receipt; and the
// decision and MO metrics (SPEC 8 "Metrics").
//
// Not tested end to end: store_unavailable (0x406). Provoking an unreadable store under a
// running daemon needs a fault the daemon does not expose outside its unit tests (the store's
// FaultSwitch is compiled into test binaries only); only the policy unit tests cover it (a store
// error fails the mutation); see docs/consent-tests.md.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/status.hpp>

#include "consent_support.hpp"
#include "harness.hpp"

namespace {

using namespace e2e;
using namespace e2e::consent;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace proto = smppguard::proto;
namespace cmd = smppguard::proto::cmd;

constexpr const char* kSecondNumber = "18005550101";  // a second acme program

// A proxy id is "<node_id>-<boot>-<counter>".
bool is_proxy_id(const std::string& id) {
  return id.rfind(std::string(cfg::kNodeId) + "-", 0) == 0 && id.size() > 4;
}

// "HH:MM" of (now + offset) in UTC.
std::string utc_hhmm(std::chrono::minutes offset) {
  const auto now = std::chrono::system_clock::now() + offset;
  const auto minutes =
      std::chrono::duration_cast<std::chrono::minutes>(now.time_since_epoch()).count() % 1440;
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(minutes / 60),
                static_cast<int>(minutes % 60));
  return buf;
}

ProgramSpec second_program(const std::string& id) {
  return ProgramSpec{.id = id,
                     .tenant = "acme",
                     .name = "Acme Second",
                     .numbers = {std::string("+") + kSecondNumber},
                     .help_contact = "second@acme.example"};
}

}  // namespace

TEST_SUITE("consent_mt") {

TEST_CASE("unknown source 0x0A; no record 0x401 whatever the category; too low 0x403") {
  const std::string none = "15550200001";     // no record
  const std::string express = "15550200002";  // texted START
  HarnessOptions o;
  o.opt_in = {{express, cfg::kAcmeNumber}};
  Harness h(o);
  auto tx = h.bind(cmd::kBindTransmitter);

  // Source -> program: a number of no program, and a number of another tenant's program.
  CHECK(submit(*tx, mt(cfg::kUnknownNumber, express, "x")).status == kInvSrcAdr);
  CHECK(submit(*tx, mt(cfg::kGlobexNumber, express, "x")).status == kInvSrcAdr);

  // No record at all: no_consent, even for promotional (SPEC 8 precedence).
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, none, "x", Category::conversational)).status ==
        kNoConsent);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, none, "x", Category::informational)).status ==
        kNoConsent);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, none, "x", Category::promotional)).status == kNoConsent);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, none, "x", std::nullopt, 0, "PROMO")).status ==
        kNoConsent);

  // express consent: informational passes, promotional needs express_written.
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, express, "info", Category::informational)).status == 0);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, express, "x", Category::promotional)).status ==
        kConsentLevel);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, express, "x", std::nullopt, 0, "PROMO")).status ==
        kConsentLevel);

  // Only the one allowed MT reached the carrier.
  const auto sent = carrier_submits_after(h.sim());
  REQUIRE(sent.size() == 1);
  CHECK(json_string(sent[0], "text") == "info");

  // Every refusal is audited.
  CHECK(audit_events(h, "mt_refused", "+" + none).size() == 4);
  CHECK(audit_events(h, "mt_refused", "+" + express).size() == 2);
}

TEST_CASE("quiet hours: reject 0x402, or hold with a proxy id and nothing at the carrier") {
  // A window from an hour ago to an hour from now in the program's zone (UTC), so it contains
  // "now" at any hour; +1555 has no area-code zone, so the program's zone applies.
  const QuietHoursSpec reject{utc_hhmm(-60min), utc_hhmm(60min), "reject"};
  const QuietHoursSpec hold{utc_hhmm(-60min), utc_hhmm(60min), "hold"};
  const std::string q = "15550200011";
  HarnessOptions o;
  o.config.programs[0].timezone = "UTC";
  o.config.programs[0].quiet_hours = reject;
  o.config.programs.push_back(second_program("acme-held"));
  o.config.programs.back().timezone = "UTC";
  o.config.programs.back().quiet_hours = hold;
  o.opt_in = {{q, cfg::kAcmeNumber}, {q, kSecondNumber}};
  Harness h(o);
  auto trx = h.bind(cmd::kBindTransceiver);

  CHECK(submit(*trx, mt(cfg::kAcmeNumber, q, "night", Category::informational)).status ==
        kQuietHours);
  // Conversational MTs are not subject to quiet hours.
  CHECK(submit(*trx, mt(cfg::kAcmeNumber, q, "reply", Category::conversational)).status == 0);
  const auto sent = wait_carrier_submits(h.sim(), 1);
  CHECK(json_string(sent[0], "text") == "reply");
  h.sim().clear_messages();

  const auto held =
      submit(*trx, mt(kSecondNumber, q, "wait for morning", Category::informational, 1));
  CHECK(held.status == 0);
  CHECK(is_proxy_id(held.message_id));
  // Nothing at the carrier, also after the held-MT sweeper (every second) has looked at it.
  CHECK(carrier_submits_after(h.sim(), 2500ms).empty());
  CHECK_FALSE(next_receipt(*trx, 300ms));
  CHECK(metric_or_0(h, "smppguard_mt_decisions_total",
                    {{"program", "acme-held"}, {"decision", "held"}, {"reason", "quiet_hours"}}) ==
        1);
  const auto audit = audit_events(h, "mt_held", "+" + q);
  REQUIRE(audit.size() == 1);
  CHECK(json_string(audit[0], "detail").find("quiet_hours " + held.message_id) !=
        std::string::npos);

  // A submit_multi cannot be answered now for a destination and later for another: its quiet
  // destination is refused quiet_hours, not held.
  proto::SubmitMulti m;
  m.source_addr_ton = 1;
  m.source_addr_npi = 1;
  m.source_addr = kSecondNumber;
  m.dest_addresses.push_back(
      {.dest_flag = 1, .dest_addr_ton = 1, .dest_addr_npi = 1, .destination_addr = q});
  m.short_message = "multi at night";
  const auto r = trx->request(proto::Pdu{.command_id = cmd::kSubmitMulti, .body = m}, 10s);
  CHECK(r.id() == cmd::kSubmitMultiResp);
  CHECK(r.status() == kQuietHours);
  CHECK(audit_events(h, "mt_held", "+" + q).size() == 1);
  CHECK(h.sim().messages("submit_multi").empty());
}

TEST_CASE("frequency cap: 0x404 once max MTs went to the subscriber within `per`") {
  const std::string f = "15550200021";
  const std::string g = "15550200022";
  HarnessOptions o;
  o.config.programs[0].frequency_cap =
      FrequencyCapSpec{.max = 2, .per = "1h", .categories = {"informational"}};
  o.opt_in = {{f, cfg::kAcmeNumber}, {g, cfg::kAcmeNumber}};
  Harness h(o);
  auto tx = h.bind(cmd::kBindTransmitter);

  CHECK(submit(*tx, mt(cfg::kAcmeNumber, f, "one")).status == 0);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, f, "two")).status == 0);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, f, "three")).status == kFrequencyCap);
  // Per subscriber, and only for the capped categories.
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, g, "one for g")).status == 0);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, f, "chat", Category::conversational)).status == 0);
  CHECK(carrier_submits_after(h.sim()).size() == 4);
}

TEST_CASE("refuse_with: receipt: accepted with an id, then a REJECTD receipt with the code") {
  const std::string r = "15550200031";   // no record
  const std::string r2 = "15550200032";  // opted out
  HarnessOptions o;
  o.config.accounts.push_back(
      {.system_id = "app3", .password = "pw3", .tenant = "acme", .refuse_with = "receipt"});
  o.opt_in = {{r2, cfg::kAcmeNumber}};
  Harness h(o);
  REQUIRE(mo(h.sim(), r2, cfg::kAcmeNumber, "STOP") == 0);
  wait_carrier_submits(h.sim(), 1);  // the confirmation
  h.sim().clear_messages();
  auto trx = h.bind(cmd::kBindTransceiver, "app3", "pw3");

  const auto a = submit(*trx, mt(cfg::kAcmeNumber, r, "refused quietly", std::nullopt, 1));
  CHECK(a.status == 0);
  CHECK(is_proxy_id(a.message_id));
  auto receipt = next_receipt(*trx);
  REQUIRE(receipt);
  CHECK(receipt->text_id == a.message_id);
  CHECK(receipt->tlv_id == a.message_id);
  CHECK(receipt->stat == "REJECTD");
  CHECK(receipt->err == "401");
  CHECK(receipt->message_state == std::optional<std::uint8_t>(8));

  const auto b = submit(*trx, mt(cfg::kAcmeNumber, r2, "opted out"));
  CHECK(b.status == 0);
  receipt = next_receipt(*trx);
  REQUIRE(receipt);
  CHECK(receipt->text_id == b.message_id);
  CHECK(receipt->stat == "REJECTD");
  CHECK(receipt->err == "400");

  CHECK(carrier_submits_after(h.sim()).empty());
  // An account with refuse_with: response gets the status itself.
  auto app1 = h.bind(cmd::kBindTransmitter);
  CHECK(submit(*app1, mt(cfg::kAcmeNumber, r, "x")).status == kNoConsent);
}

TEST_CASE("metrics: MT decisions by program, decision and reason; MOs by program and kind") {
  const std::string m = "15550200041";  // opted in, then STOP
  const std::string n = "15550200042";  // no record
  HarnessOptions o;
  o.opt_in = {{m, cfg::kAcmeNumber}};
  Harness h(o);
  auto tx = h.bind(cmd::kBindTransmitter);
  auto decisions = [&](const char* decision, const char* reason) {
    return metric_or_0(
        h, "smppguard_mt_decisions_total",
        {{"program", cfg::kAcmeProgram}, {"decision", decision}, {"reason", reason}});
  };
  auto mos = [&](const char* kind) {
    return metric_or_0(h, "smppguard_mo_total", {{"program", cfg::kAcmeProgram}, {"kind", kind}});
  };
  CHECK(mos("opt_in") == 1);  // the START of the fixture
  CHECK(decisions("forwarded", "none") == 0);

  CHECK(submit(*tx, mt(cfg::kAcmeNumber, m, "ok")).status == 0);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, m, "ok 2")).status == 0);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, m, "promo", Category::promotional)).status ==
        kConsentLevel);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, n, "no")).status == kNoConsent);
  CHECK(submit(*tx, mt(cfg::kUnknownNumber, n, "who")).status == kInvSrcAdr);
  CHECK(mo(h.sim(), m, cfg::kAcmeNumber, "HELP") == 0);
  CHECK(mo(h.sim(), n, cfg::kAcmeNumber, "hello") == 0);
  CHECK(mo(h.sim(), n, cfg::kAcmeNumber, "we should stop meeting like this, ok") == 0);
  CHECK(mo(h.sim(), m, cfg::kAcmeNumber, "STOP") == 0);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, m, "after")).status == kOptedOut);

  CHECK(decisions("forwarded", "none") == 2);
  CHECK(decisions("refused", "consent_level") == 1);
  CHECK(decisions("refused", "no_consent") == 1);
  CHECK(decisions("refused", "opted_out") == 1);
  CHECK(metric_or_0(h, "smppguard_mt_decisions_total",
                    {{"decision", "refused"}, {"reason", "unknown_program"}}) == 1);
  CHECK(mos("opt_in") == 1);
  CHECK(mos("help") == 1);
  CHECK(mos("other") == 1);
  CHECK(mos("possible_opt_out") == 1);
  CHECK(mos("opt_out") == 1);
  CHECK(metric_or_0(h, "smppguard_consent_changes_total",
                    {{"program", cfg::kAcmeProgram}, {"to", "opted_out"}, {"source", "keyword"}}) ==
        1);
  CHECK(metric_or_0(h, "smppguard_consent_changes_total",
                    {{"program", cfg::kAcmeProgram},
                     {"to", "opted_in"},
                     {"source", "mo_conversation"}}) == 1);
  CHECK(eventually([&] {
    return metric_or_0(h, "smppguard_proxy_messages_total",
                       {{"program", cfg::kAcmeProgram}, {"template", "opt_out_confirm"}}) ==
               1 &&
           metric_or_0(h, "smppguard_proxy_messages_total",
                       {{"program", cfg::kAcmeProgram}, {"template", "help"}}) == 1;
  }, 10s));
}

}  // TEST_SUITE
