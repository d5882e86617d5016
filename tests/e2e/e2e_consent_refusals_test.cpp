// SPEC 4 through the real daemon and carrier simulator, for what e2e_consent_mt_test.cpp and
// e2e_consent_confirm_test.cpp do not reach: data_sm and replace_sm obey the same checks as
// submit_sm; submit_multi in strict mode lists each refusal with its code; the account's
// default_category; the order of the checks (opted out, consent, quiet hours, frequency cap);
// an MT held for quiet hours is released when the window opens, or failed by a STOP; the opt-in
// request goes again once request_interval has passed.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <set>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/status.hpp>
#include <smppguard/proto/tlv.hpp>
#include <thread>

#include "consent_support.hpp"
#include "harness.hpp"

namespace {

using namespace e2e;
using namespace e2e::consent;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace proto = smppguard::proto;
namespace cmd = smppguard::proto::cmd;

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

int utc_second_of_minute() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(now).count() % 60);
}

proto::Pdu data_sm(const std::string& from, const std::string& to, const std::string& text,
                   std::optional<Category> category = std::nullopt) {
  proto::DataSm d;
  d.source_addr_ton = 1;
  d.source_addr_npi = 1;
  d.source_addr = from;
  d.dest_addr_ton = 1;
  d.dest_addr_npi = 1;
  d.destination_addr = to;
  d.data_coding = 1;
  d.tlvs.add(proto::tlv::kMessagePayload, text);
  if (category) {
    d.tlvs.add(proto::tlv::kSmppguardCategory,
               std::string(1, static_cast<char>(static_cast<std::uint8_t>(*category))));
  }
  return proto::Pdu{.command_id = cmd::kDataSm, .body = d};
}

std::uint32_t send_data_sm(SmppClient& c, proto::Pdu pdu) {
  const auto r = c.request(std::move(pdu), 10s);
  REQUIRE(r.id() == cmd::kDataSmResp);
  return r.status();
}

proto::DestAddress dest(const std::string& msisdn) {
  return {.dest_flag = 1, .dest_addr_ton = 1, .dest_addr_npi = 1, .destination_addr = msisdn};
}

std::size_t count_text(const std::vector<json::object>& sent, const std::string& text) {
  std::size_t n = 0;
  for (const auto& m : sent) n += json_string(m, "text") == text ? 1 : 0;
  return n;
}

}  // namespace

TEST_SUITE("consent_refusals") {

TEST_CASE("data_sm MTs get the same checks as submit_sm, answered in data_sm_resp") {
  const std::string in = "15550700001";    // texted START, then STOP
  const std::string none = "15550700002";  // no record
  HarnessOptions o;
  o.opt_in = {{in, cfg::kAcmeNumber}};
  Harness h(o);
  auto tx = h.bind(cmd::kBindTransmitter);

  CHECK(send_data_sm(*tx, data_sm(cfg::kUnknownNumber, in, "x")) == kInvSrcAdr);
  CHECK(send_data_sm(*tx, data_sm(cfg::kAcmeNumber, none, "x")) == kNoConsent);
  CHECK(send_data_sm(*tx, data_sm(cfg::kAcmeNumber, in, "promo", Category::promotional)) ==
        kConsentLevel);
  CHECK(send_data_sm(*tx, data_sm(cfg::kAcmeNumber, in, "allowed")) == 0);
  REQUIRE(eventually([&] { return h.sim().messages("data_sm").size() == 1; }, 10s));

  REQUIRE(mo(h.sim(), in, cfg::kAcmeNumber, "STOP") == 0);
  CHECK(send_data_sm(*tx, data_sm(cfg::kAcmeNumber, in, "after the STOP")) == kOptedOut);
  std::this_thread::sleep_for(500ms);
  CHECK(h.sim().messages("data_sm").size() == 1);
  CHECK(audit_events(h, "mt_refused", "+" + none).size() == 1);
  CHECK(audit_events(h, "mt_refused", "+" + in).size() == 2);
  CHECK(metric_or_0(h, "smppguard_mt_decisions_total",
                    {{"program", cfg::kAcmeProgram}, {"decision", "refused"},
                     {"reason", "opted_out"}}) == 1);
}

TEST_CASE("replace_sm for a subscriber who has since opted out: 0x400, nothing replaced") {
  const std::string s = "15550700011";
  HarnessOptions o;
  o.opt_in = {{s, cfg::kAcmeNumber}};
  Harness h(o);
  auto tx = h.bind(cmd::kBindTransmitter);
  const auto a = submit(*tx, mt(cfg::kAcmeNumber, s, "original"));
  REQUIRE(a.status == 0);
  wait_carrier_submits(h.sim(), 1);

  proto::ReplaceSm rep{.message_id = a.message_id, .source_addr_ton = 1, .source_addr_npi = 1,
                       .source_addr = cfg::kAcmeNumber, .short_message = "replaced while in"};
  auto r = tx->request(proto::Pdu{.command_id = cmd::kReplaceSm, .body = rep}, 10s);
  CHECK(r.id() == cmd::kReplaceSmResp);
  CHECK(r.status() == 0);
  REQUIRE(eventually([&] { return h.sim().messages("replace_sm").size() == 1; }, 10s));

  REQUIRE(mo(h.sim(), s, cfg::kAcmeNumber, "STOP") == 0);
  rep.short_message = "replaced after the STOP";
  r = tx->request(proto::Pdu{.command_id = cmd::kReplaceSm, .body = rep}, 10s);
  CHECK(r.id() == cmd::kReplaceSmResp);
  CHECK(r.status() == kOptedOut);
  std::this_thread::sleep_for(500ms);
  CHECK(h.sim().messages("replace_sm").size() == 1);
  CHECK(audit_events(h, "mt_refused", "+" + s).size() == 1);
}

TEST_CASE("submit_multi, strict: each destination alone, refusals in unsuccess_sme with codes") {
  const std::string in = "15550700021";   // consent
  const std::string out = "15550700022";  // opted out
  const std::string none = "15550700023";  // no record
  HarnessOptions o;
  o.opt_in = {{in, cfg::kAcmeNumber}, {out, cfg::kAcmeNumber}};
  Harness h(o);
  REQUIRE(mo(h.sim(), out, cfg::kAcmeNumber, "STOP") == 0);
  wait_carrier_submits(h.sim(), 1);
  h.sim().clear_messages();
  auto tx = h.bind(cmd::kBindTransmitter);

  proto::SubmitMulti m;
  m.source_addr_ton = 1;
  m.source_addr_npi = 1;
  m.source_addr = cfg::kAcmeNumber;
  m.dest_addresses = {dest(in), dest(out), dest(none)};
  m.short_message = "to three";
  auto r = tx->request(proto::Pdu{.command_id = cmd::kSubmitMulti, .body = m}, 10s);
  REQUIRE(r.id() == cmd::kSubmitMultiResp);
  CHECK(r.status() == 0);
  {
    const auto resp = r.pdu();
    const auto* body = resp.as<proto::SubmitMultiResp>();
    REQUIRE(body != nullptr);
    std::set<std::pair<std::string, std::uint32_t>> refused;
    for (const auto& u : body->unsuccess_smes) refused.insert({u.destination_addr, u.error_status_code});
    CHECK(refused == std::set<std::pair<std::string, std::uint32_t>>{{out, kOptedOut},
                                                                     {none, kNoConsent}});
  }
  REQUIRE(eventually([&] { return h.sim().messages("submit_multi").size() == 1; }, 10s));
  const auto multi = h.sim().messages("submit_multi").front();
  const auto& dests = multi.at("destinations").as_array();
  REQUIRE(dests.size() == 1);
  CHECK(dests[0].as_string() == in);

  // Every destination refused: the command_status says so, nothing reaches the carrier.
  m.dest_addresses = {dest(out), dest(none)};
  r = tx->request(proto::Pdu{.command_id = cmd::kSubmitMulti, .body = m}, 10s);
  REQUIRE(r.id() == cmd::kSubmitMultiResp);
  CHECK((r.status() == kOptedOut || r.status() == kNoConsent));
  std::this_thread::sleep_for(500ms);
  CHECK(h.sim().messages("submit_multi").size() == 1);
  CHECK(audit_events(h, "mt_refused", "+" + out).size() == 2);
  CHECK(audit_events(h, "mt_refused", "+" + none).size() == 2);
}

TEST_CASE("the account's default_category decides when neither TLV nor service_type does") {
  const std::string express = "15550700031";  // texted START
  const std::string implied = "15550700032";  // texted something else
  HarnessOptions o;
  o.config.accounts.push_back({.system_id = "promo",
                               .password = "pwp",
                               .tenant = "acme",
                               .default_category = "promotional"});
  o.config.accounts.push_back({.system_id = "chat",
                               .password = "pwc",
                               .tenant = "acme",
                               .default_category = "conversational"});
  o.opt_in = {{express, cfg::kAcmeNumber}};
  Harness h(o);
  REQUIRE(mo(h.sim(), implied, cfg::kAcmeNumber, "are you open today?") == 0);
  auto promo = h.bind(cmd::kBindTransmitter, "promo", "pwp");
  auto chat = h.bind(cmd::kBindTransmitter, "chat", "pwc");
  auto app1 = h.bind(cmd::kBindTransmitter);  // informational (the default)

  CHECK(submit(*promo, mt(cfg::kAcmeNumber, express, "sale")).status == kConsentLevel);
  // The TLV and service_type override the account's default.
  CHECK(submit(*promo, mt(cfg::kAcmeNumber, express, "news", Category::informational)).status ==
        0);
  CHECK(submit(*promo, mt(cfg::kAcmeNumber, express, "news", std::nullopt, 0, "INFO")).status ==
        0);
  CHECK(submit(*chat, mt(cfg::kAcmeNumber, implied, "we are open")).status == 0);
  CHECK(submit(*app1, mt(cfg::kAcmeNumber, implied, "newsletter")).status == kConsentLevel);
  CHECK(submit(*chat, mt(cfg::kAcmeNumber, implied, "sale", Category::promotional)).status ==
        kConsentLevel);
  const auto sent = carrier_submits_after(h.sim());
  CHECK(sent.size() == 3);
  CHECK(count_text(sent, "sale") == 0);
  CHECK(count_text(sent, "newsletter") == 0);
}

TEST_CASE("the checks in order: opted out, consent, quiet hours, then the frequency cap") {
  const std::string out = "15550700041";
  const std::string none = "15550700042";
  const std::string in = "15550700043";
  HarnessOptions o;
  o.config.programs[0].timezone = "UTC";  // +1555 has no area-code zone
  o.config.programs[0].quiet_hours = QuietHoursSpec{utc_hhmm(-60min), utc_hhmm(60min), "reject"};
  o.config.programs[0].frequency_cap =
      FrequencyCapSpec{.max = 1, .per = "1h", .categories = {"conversational", "informational"}};
  o.opt_in = {{out, cfg::kAcmeNumber}, {in, cfg::kAcmeNumber}};
  Harness h(o);
  REQUIRE(mo(h.sim(), out, cfg::kAcmeNumber, "STOP") == 0);
  wait_carrier_submits(h.sim(), 1);
  h.sim().clear_messages();
  auto tx = h.bind(cmd::kBindTransmitter);

  // Quiet hours come after the consent checks.
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, out, "x", Category::informational)).status == kOptedOut);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, none, "x", Category::informational)).status ==
        kNoConsent);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, in, "x", Category::promotional)).status == kConsentLevel);
  // Quiet hours spare conversational MTs; the one allowed by the cap goes.
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, in, "chat 1", Category::conversational)).status == 0);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, in, "chat 2", Category::conversational)).status ==
        kFrequencyCap);
  // Capped and quiet at once: quiet hours first.
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, in, "news", Category::informational)).status ==
        kQuietHours);
  const auto sent = carrier_submits_after(h.sim());
  REQUIRE(sent.size() == 1);
  CHECK(json_string(sent[0], "text") == "chat 1");
  auto reason = [&](const char* r) {
    return metric_or_0(h, "smppguard_mt_decisions_total",
                       {{"program", cfg::kAcmeProgram}, {"decision", "refused"}, {"reason", r}});
  };
  CHECK(reason("quiet_hours") == 1);
  CHECK(reason("frequency_cap") == 1);
  CHECK(audit_events(h, "mt_refused", "+" + in).size() == 3);
}

TEST_CASE("quiet hours hold: released when the window opens; a STOP meanwhile fails it") {
  // The window closes at the next minute boundary: at least 30 s after the MTs are held (the
  // harness starts meanwhile), at most ~60 s.
  if (const int sec = utc_second_of_minute(); sec > 30) {
    std::this_thread::sleep_for(std::chrono::seconds(61 - sec));
  }
  const std::string kept = "15550700051";
  const std::string stopped = "15550700052";
  HarnessOptions o;
  o.config.programs[0].timezone = "UTC";
  o.config.programs[0].quiet_hours = QuietHoursSpec{utc_hhmm(-60min), utc_hhmm(1min), "hold"};
  o.opt_in = {{kept, cfg::kAcmeNumber}, {stopped, cfg::kAcmeNumber}};
  Harness h(o);
  auto trx = h.bind(cmd::kBindTransceiver);

  const auto a = submit(*trx, mt(cfg::kAcmeNumber, kept, "good morning", Category::informational, 1));
  const auto b =
      submit(*trx, mt(cfg::kAcmeNumber, stopped, "never sent", Category::informational, 1));
  REQUIRE(a.status == 0);
  REQUIRE(b.status == 0);
  CHECK(a.message_id != b.message_id);
  CHECK(carrier_submits_after(h.sim(), 1500ms).empty());

  REQUIRE(mo(h.sim(), stopped, cfg::kAcmeNumber, "STOP") == 0);
  std::vector<std::string> mos;
  auto r = next_receipt(*trx, 10s, &mos);
  REQUIRE(r);
  CHECK(r->text_id == b.message_id);
  CHECK(r->stat == "REJECTD");
  CHECK(r->err == "400");

  // The window opens: the held MT goes, its receipt comes under the id it was given.
  const auto sent = wait_carrier_submits(h.sim(), 2, 90s);  // + the opt-out confirmation
  CHECK(carrier_submits_after(h.sim(), 1500ms).size() == 2);
  CHECK(count_text(sent, "good morning") == 1);
  CHECK(count_text(sent, "never sent") == 0);
  r = next_receipt(*trx, 15s, &mos);
  REQUIRE(r);
  CHECK(r->text_id == a.message_id);
  CHECK(r->tlv_id == a.message_id);
  CHECK(r->stat == "DELIVRD");
  CHECK(audit_events(h, "mt_released", "+" + kept).size() == 1);
  CHECK(audit_events(h, "mt_released", "+" + stopped).empty());
  // After the window, an MT goes straight through.
  CHECK(submit(*trx, mt(cfg::kAcmeNumber, kept, "day", Category::informational)).status == 0);
}

TEST_CASE("confirm: the opt-in request is sent again once request_interval has passed") {
  const std::string s = "15550700061";
  HarnessOptions o;
  o.config.programs[0].opt_in_mode = "confirm";
  o.config.programs[0].hold = false;
  o.config.programs[0].request_interval = "3s";
  Harness h(o);
  auto tx = h.bind(cmd::kBindTransmitter);
  const auto request = acme_templates().opt_in_request;

  CHECK(submit(*tx, mt(cfg::kAcmeNumber, s, "one")).status == kNoConsent);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, s, "two")).status == kNoConsent);
  CHECK(count_text(carrier_submits_after(h.sim()), request) == 1);
  std::this_thread::sleep_for(3000ms);  // + the 800 ms above: past request_interval
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, s, "three")).status == kNoConsent);
  const auto sent = wait_carrier_submits(h.sim(), 2);
  CHECK(carrier_submits_after(h.sim(), 500ms).size() == 2);
  CHECK(count_text(sent, request) == 2);
  CHECK(audit_events(h, "pending", "+" + s).size() >= 1);
}

}  // TEST_SUITE
