// SPEC 5 keyword sets and MO effects through the real daemon and carrier simulator, for what
// e2e_consent_mo_test.cpp does not reach: every default opt-out word and a program's own words
// (in Latin-1 and UCS2 full-width forms), program help/opt-in words, the still_opted_out
// reminder again after reminder_interval, and the STOP's audit entry as an auditor reads it
// (old/new state, actor, raw and normalised text, keyword, rule, the hash chain, the
// confirmation's send time).
#include <doctest/doctest.h>

#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/status.hpp>
#include <thread>

#include "consent_support.hpp"
#include "harness.hpp"

namespace {

using namespace e2e;
using namespace e2e::consent;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace cmd = smppguard::proto::cmd;

std::vector<json::object> to(const std::vector<json::object>& sent, const std::string& msisdn) {
  std::vector<json::object> out;
  for (const auto& m : sent) {
    if (json_string(m, "destination_addr") == msisdn) out.push_back(m);
  }
  return out;
}

struct Word {
  const char* text;
  const char* keyword;    // the audit entry's keyword
  const char* rule;       // exact | phrase
  int data_coding = -1;   // -1: the simulator's choice (GSM 7-bit when it can)
};

}  // namespace

TEST_SUITE("consent_keywords") {

TEST_CASE("every default opt-out word, a program's own word and encoded variants opt out") {
  // SPEC 5: STOP, STOPALL, "STOP ALL", UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT, "OPT OUT",
  // and the program's words (config: keywords.opt_out: [ARRET]), matched after normalisation.
  const std::vector<Word> words = {
      {"STOP", "STOP", "exact"},
      {"STOPALL", "STOPALL", "exact"},
      {"STOP ALL", "STOP ALL", "exact"},
      {"UNSUBSCRIBE", "UNSUBSCRIBE", "exact"},
      {"Cancel", "CANCEL", "exact"},
      {"end", "END", "exact"},
      {"QUIT!", "QUIT", "exact"},
      {"Revoke.", "REVOKE", "exact"},
      {"OptOut", "OPTOUT", "exact"},
      {"opt out", "OPT OUT", "exact"},
      {"ARRET", "ARRET", "exact"},
      {"Arr\xC3\xAAt", "ARRET", "exact", 3},                         // "Arrêt" in Latin-1
      {"\xEF\xBC\xB3\xEF\xBC\xB4\xEF\xBC\xAF\xEF\xBC\xB0", "STOP", "exact", 8},  // "ＳＴＯＰ", UCS2
      {"Unsubscribe me", "UNSUBSCRIBE", "phrase"},
      {"don't stop", "STOP", "phrase"},
  };
  HarnessOptions o;
  o.config.programs[0].opt_out_keywords = {"ARRET"};
  std::vector<std::string> subscribers;
  for (std::size_t i = 0; i < words.size(); ++i) {
    subscribers.push_back("155506000" + std::to_string(10 + i));
    o.opt_in.push_back({subscribers.back(), cfg::kAcmeNumber});
  }
  Harness h(o);
  auto tx = h.bind(cmd::kBindTransmitter);
  const auto t = acme_templates();

  for (std::size_t i = 0; i < words.size(); ++i) {
    const auto& w = words[i];
    const auto& s = subscribers[i];
    CAPTURE(w.text);
    CHECK(submit(*tx, mt(cfg::kAcmeNumber, s, "before")).status == 0);
    json::object extra;
    if (w.data_coding >= 0) extra["data_coding"] = w.data_coding;
    CHECK(mo(h.sim(), s, cfg::kAcmeNumber, w.text, extra) == 0);
    // Refused at once, on the wire.
    CHECK(submit(*tx, mt(cfg::kAcmeNumber, s, "after")).status == kOptedOut);
    const auto outs = audit_events(h, "opted_out", "+" + s);
    REQUIRE(outs.size() >= 1);
    CHECK(json_string(outs[0], "keyword") == w.keyword);
    CHECK(json_string(outs[0], "rule") == w.rule);
    CHECK(json_string(outs[0], "new_state") == "opted_out");
  }
  // One confirmation each, none of the refused MTs.
  const auto sent = wait_carrier_submits(h.sim(), 2 * words.size());
  const auto settled = carrier_submits_after(h.sim(), 500ms);
  CHECK(settled.size() == 2 * words.size());
  for (const auto& s : subscribers) {
    CAPTURE(s);
    const auto mine = to(settled, s);
    REQUIRE(mine.size() == 2);
    CHECK(json_string(mine[0], "text") == "before");
    CHECK(json_string(mine[1], "text") == t.opt_out_confirm);
  }
  CHECK(metric_or_0(h, "smppguard_mo_total", {{"program", cfg::kAcmeProgram}, {"kind", "opt_out"}}) ==
        static_cast<double>(words.size()));
}

TEST_CASE("a program's own help and opt-in words work like HELP and START") {
  const std::string a = "15550600101";
  const std::string b = "15550600102";
  HarnessOptions o;
  o.config.programs[0].help_keywords = {"AIDE"};
  o.config.programs[0].opt_in_keywords = {"OUI"};
  Harness h(o);
  auto tx = h.bind(cmd::kBindTransmitter);
  const auto t = acme_templates();

  CHECK(mo(h.sim(), a, cfg::kAcmeNumber, "aide") == 0);
  auto sent = wait_carrier_submits(h.sim(), 1);
  CHECK(json_string(sent[0], "destination_addr") == a);
  CHECK(json_string(sent[0], "text") == t.help);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, a, "x")).status == kNoConsent);  // HELP changes nothing
  CHECK(audit_events(h, "help", "+" + a).size() == 1);

  h.sim().clear_messages();
  CHECK(mo(h.sim(), b, cfg::kAcmeNumber, "Oui!") == 0);
  sent = wait_carrier_submits(h.sim(), 1);
  CHECK(json_string(sent[0], "destination_addr") == b);
  CHECK(json_string(sent[0], "text") == t.opt_in_confirm);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, b, "welcome")).status == 0);
  const auto ins = audit_events(h, "opted_in", "+" + b);
  REQUIRE(ins.size() == 1);
  CHECK(json_string(ins[0], "keyword") == "OUI");
  CHECK(json_string(ins[0], "source") == "keyword");
  // A word that is in no list is not a keyword anywhere: the other tenant's program ignores it.
  h.sim().clear_messages();
  CHECK(mo(h.sim(), a, cfg::kGlobexNumber, "AIDE") == 0);
  CHECK(carrier_submits_after(h.sim()).empty());
}

TEST_CASE("still_opted_out: one reminder per reminder_interval, again once it has passed") {
  const std::string s = "15550600201";
  HarnessOptions o;
  o.config.programs[0].reminder_interval = "4s";
  o.opt_in = {{s, cfg::kAcmeNumber}};
  Harness h(o);
  const auto t = acme_templates();

  CHECK(mo(h.sim(), s, cfg::kAcmeNumber, "STOP") == 0);
  wait_carrier_submits(h.sim(), 1);
  h.sim().clear_messages();
  CHECK(mo(h.sim(), s, cfg::kAcmeNumber, "hello?") == 0);
  auto sent = wait_carrier_submits(h.sim(), 1);
  CHECK(json_string(sent[0], "text") == t.still_opted_out);
  CHECK(mo(h.sim(), s, cfg::kAcmeNumber, "hello??") == 0);
  CHECK(carrier_submits_after(h.sim()).size() == 1);
  // A keyword never gets the reminder (SPEC 8), even after the interval.
  std::this_thread::sleep_for(4200ms);
  CHECK(mo(h.sim(), s, cfg::kAcmeNumber, "STOP") == 0);
  CHECK(carrier_submits_after(h.sim(), 500ms).size() == 1);
  CHECK(mo(h.sim(), s, cfg::kAcmeNumber, "anyone?") == 0);
  sent = wait_carrier_submits(h.sim(), 2);
  CHECK(carrier_submits_after(h.sim(), 300ms).size() == 2);
  CHECK(json_string(sent[1], "text") == t.still_opted_out);
  CHECK(json_string(sent[1], "destination_addr") == s);
}

TEST_CASE("the STOP's audit entry: states, actor, raw and normalised text, chain, confirmation") {
  const std::string s = "15550600301";
  HarnessOptions o;
  o.opt_in = {{s, cfg::kAcmeNumber}};
  Harness h(o);
  const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  CHECK(mo(h.sim(), s, cfg::kAcmeNumber, "  Stop!! \xF0\x9F\x9B\x91") == 0);
  wait_carrier_submits(h.sim(), 1);
  CHECK(eventually([&] { return !audit_events(h, "message_sent", "+" + s).empty(); }, 10s));

  const auto all = audit_entries(h);
  std::optional<json::object> stop;
  std::optional<json::object> confirm;
  for (std::size_t i = 0; i < all.size(); ++i) {
    // Each entry carries the hash of the one before it.
    if (i > 0) CHECK(json_string(all[i], "prev_hash") == json_string(all[i - 1], "hash"));
    CHECK(json_string(all[i], "hash").size() == 64);
    if (json_string(all[i], "msisdn") != "+" + s) continue;
    if (json_string(all[i], "event") == "opted_out") stop = all[i];
    if (json_string(all[i], "event") == "message_sent" &&
        json_string(all[i], "detail").starts_with("opt_out_confirm")) {
      confirm = all[i];
    }
  }
  REQUIRE(stop);
  CHECK(json_string(*stop, "program") == cfg::kAcmeProgram);
  CHECK(json_string(*stop, "old_state") == "opted_in");
  CHECK(json_string(*stop, "new_state") == "opted_out");
  CHECK(json_string(*stop, "source") == "keyword");
  CHECK(json_string(*stop, "actor").starts_with("keyword:STOP:"));
  CHECK(json_string(*stop, "mo_text") == "  Stop!! \xF0\x9F\x9B\x91");
  CHECK(json_string(*stop, "mo_normalized") == "stop");
  CHECK(json_string(*stop, "keyword") == "STOP");
  CHECK(json_string(*stop, "rule") == "exact");
  CHECK(json_int(*stop, "time_ms") >= before);
  // The MO id is the evidence and the actor's last field.
  const auto& ev = stop->at("evidence").as_object();
  REQUIRE(ev.contains("mo_id"));
  CHECK(json_string(*stop, "actor") == "keyword:STOP:" + std::string(ev.at("mo_id").as_string()));
  // The confirmation's send time is recorded, after the STOP and well within 5 minutes.
  REQUIRE(confirm);
  CHECK(json_int(*confirm, "time_ms") >= json_int(*stop, "time_ms"));
  CHECK(json_int(*confirm, "time_ms") - json_int(*stop, "time_ms") < 5 * 60 * 1000);
  CHECK(json_string(*confirm, "actor") == "proxy");
}

}  // TEST_SUITE
