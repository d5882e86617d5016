// MO handling through the real daemon and carrier simulator (SPEC 5, SPEC 8 "Addresses",
// "Repeated STOP", "Phrase rule"): every row of the effects table, the replies the proxy sends
// from the number the subscriber texted, keyword matching on decoded and reassembled text, and
// the forwarding of every MO to the tenant.
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
namespace proto = smppguard::proto;
namespace cmd = smppguard::proto::cmd;

// acme has a second program, so that STOPALL has more than one program to reach.
constexpr const char* kPromoNumber = "18005550101";

HarnessOptions options() {
  HarnessOptions o;
  o.config.programs[0].join_keywords = {"SUPPORT"};
  o.config.programs.push_back({.id = "acme-promo",
                               .tenant = "acme",
                               .name = "Acme Promo",
                               .numbers = {std::string("+") + kPromoNumber},
                               .help_contact = "promo@acme.example"});
  return o;
}

// The one submit_sm to `msisdn` among `sent` (REQUIREs exactly one).
json::object only_to(const std::vector<json::object>& sent, const std::string& msisdn) {
  std::vector<json::object> to;
  for (const auto& m : sent) {
    if (json_string(m, "destination_addr") == msisdn) to.push_back(m);
  }
  REQUIRE_MESSAGE(to.size() == 1, to.size() << " messages to " << msisdn);
  return to.front();
}

std::size_t count_to(const std::vector<json::object>& sent, const std::string& msisdn) {
  std::size_t n = 0;
  for (const auto& m : sent) n += json_string(m, "destination_addr") == msisdn ? 1 : 0;
  return n;
}

// A deliver_sm with a concatenation UDH (8-bit reference): one part of a multipart MO.
std::string part_hex(const std::string& from, const std::string& to, std::uint8_t ref,
                     std::uint8_t total, std::uint8_t seq, const std::string& text) {
  proto::SubmitSm d;
  d.source_addr_ton = 1;
  d.source_addr_npi = 1;
  d.source_addr = from;
  d.dest_addr_ton = 1;
  d.dest_addr_npi = 1;
  d.destination_addr = to;
  d.esm_class = 0x40;  // UDHI
  d.data_coding = 0;
  d.short_message = std::string("\x05\x00\x03", 3) + static_cast<char>(ref) +
                    static_cast<char>(total) + static_cast<char>(seq) + text;
  return to_hex(encode_pdu(proto::Pdu{.command_id = cmd::kDeliverSm, .sequence_number = 1,
                                      .body = d}));
}

}  // namespace

TEST_SUITE("consent_mo") {

TEST_CASE("STOP: opted out, one confirmation from the number texted, the next MT refused") {
  const std::string a = "15550100001";  // texts the toll-free number
  const std::string b = "15550100002";  // texts the short code
  const std::string c = "15550100003";  // its handset's address comes as a national number
  auto o = options();
  o.opt_in = {{a, cfg::kAcmeNumber}, {b, cfg::kAcmeShortCode}, {c, cfg::kAcmeNumber}};
  Harness h(o);
  auto tx = h.bind(cmd::kBindTransmitter);
  auto rx = h.bind(cmd::kBindReceiver);
  const auto t = acme_templates();

  // Consent was there: MTs pass before the STOP.
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, a, "before")).status == 0);
  CHECK(submit(*tx, mt(cfg::kAcmeShortCode, b, "before")).status == 0);
  CHECK(submit(*tx, mt(cfg::kAcmeShortCode, c, "before")).status == 0);
  wait_carrier_submits(h.sim(), 3);
  h.sim().clear_messages();

  CHECK(mo(h.sim(), a, cfg::kAcmeNumber, "STOP") == 0);
  CHECK(mo(h.sim(), b, cfg::kAcmeShortCode, "STOP") == 0);
  json::object national;  // TON 2 (national), read in default_country US
  national["from"] = c.substr(1);
  national["source_addr_ton"] = 2;
  national["source_addr_npi"] = 1;
  CHECK(mo(h.sim(), c, cfg::kAcmeNumber, "STOP", national) == 0);

  // One confirmation each, from the number the subscriber texted (SPEC 8 "Addresses": E.164 as
  // TON 1 / NPI 1 digits without '+', a short code as TON 3 / NPI 0), to the subscriber.
  wait_carrier_submits(h.sim(), 3);
  const auto sent = carrier_submits_after(h.sim());
  CHECK(sent.size() == 3);
  const auto to_a = only_to(sent, a);
  CHECK(json_string(to_a, "text") == t.opt_out_confirm);
  CHECK(json_string(to_a, "source_addr") == cfg::kAcmeNumber);
  CHECK(json_int(to_a, "source_addr_ton") == 1);
  CHECK(json_int(to_a, "source_addr_npi") == 1);
  CHECK(json_int(to_a, "dest_addr_ton") == 1);
  CHECK(json_int(to_a, "dest_addr_npi") == 1);
  const auto to_b = only_to(sent, b);
  CHECK(json_string(to_b, "text") == t.opt_out_confirm);
  CHECK(json_string(to_b, "source_addr") == cfg::kAcmeShortCode);
  CHECK(json_int(to_b, "source_addr_ton") == 3);
  CHECK(json_int(to_b, "source_addr_npi") == 0);
  // Consent keys are E.164 whatever the address format: the national STOP reached c's record,
  // and the confirmation goes to c as TON 1 digits.
  const auto to_c = only_to(sent, c);
  CHECK(json_string(to_c, "text") == t.opt_out_confirm);
  CHECK(json_int(to_c, "dest_addr_ton") == 1);

  // The next MT is refused opted_out, from either number of the program.
  h.sim().clear_messages();
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, a, "after")).status == kOptedOut);
  CHECK(submit(*tx, mt(cfg::kAcmeShortCode, a, "after")).status == kOptedOut);
  CHECK(submit(*tx, mt(cfg::kAcmeShortCode, b, "after")).status == kOptedOut);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, c, "after")).status == kOptedOut);
  auto to_national = mt(cfg::kAcmeNumber, c.substr(1), "after");
  to_national.as<proto::SubmitSm>()->dest_addr_ton = 2;  // national, as the ESME may write it
  CHECK(submit(*tx, to_national).status == kOptedOut);

  // STOP again: no reply at all (SPEC 8 "Repeated STOP").
  CHECK(mo(h.sim(), a, cfg::kAcmeNumber, "STOP") == 0);
  CHECK(mo(h.sim(), b, cfg::kAcmeShortCode, "stop") == 0);
  CHECK(carrier_submits_after(h.sim()).empty());

  // The change is audited with the keyword and the rule that matched.
  const auto outs = audit_events(h, "opted_out", "+" + a);
  REQUIRE(outs.size() == 1);
  CHECK(json_string(outs[0], "keyword") == "STOP");
  CHECK(json_string(outs[0], "rule") == "exact");
  CHECK(json_string(outs[0], "new_state") == "opted_out");

  // Every MO, keywords included, reached the tenant's receiver.
  std::vector<std::string> got;
  while (auto f = rx->receive_deliver(0, got.size() < 5 ? 10s : 300ms)) {
    got.push_back(deliver_text(*f));
  }
  CHECK(got == std::vector<std::string>{"STOP", "STOP", "STOP", "STOP", "stop"});
}

TEST_CASE("HELP and INFO: help text from the number texted, no change, even when opted out") {
  const std::string c = "15550100011";  // no record
  const std::string d = "15550100012";  // opted out
  auto o = options();
  o.opt_in = {{d, cfg::kAcmeNumber}};
  Harness h(o);
  auto tx = h.bind(cmd::kBindTransmitter);
  const auto t = acme_templates();

  CHECK(mo(h.sim(), c, cfg::kAcmeShortCode, "HELP") == 0);
  auto sent = wait_carrier_submits(h.sim(), 1);
  CHECK(json_string(sent[0], "destination_addr") == c);
  CHECK(json_string(sent[0], "text") == t.help);
  CHECK(json_string(sent[0], "source_addr") == cfg::kAcmeShortCode);
  CHECK(json_int(sent[0], "source_addr_ton") == 3);
  // HELP changes nothing: still no consent.
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, c, "no consent yet")).status == kNoConsent);

  CHECK(mo(h.sim(), d, cfg::kAcmeNumber, "STOP") == 0);
  wait_carrier_submits(h.sim(), 2);
  h.sim().clear_messages();
  CHECK(mo(h.sim(), d, cfg::kAcmeNumber, "Help?") == 0);
  CHECK(mo(h.sim(), d, cfg::kAcmeNumber, "info") == 0);
  sent = wait_carrier_submits(h.sim(), 2);
  CHECK(carrier_submits_after(h.sim(), 300ms).size() == 2);
  for (const auto& m : sent) {
    CHECK(json_string(m, "destination_addr") == d);
    CHECK(json_string(m, "text") == t.help);
    CHECK(json_string(m, "source_addr") == cfg::kAcmeNumber);
  }
  // Still opted out after HELP.
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, d, "still out")).status == kOptedOut);
  CHECK(audit_events(h, "help", "+" + d).size() == 2);
}

TEST_CASE("START, YES, UNSTOP and a join keyword: opted in express, opt_in_confirm") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"15550100021", "START"}, {"15550100022", "yes"}, {"15550100023", "UNSTOP"},
      {"15550100024", "Support"}};
  const std::string after_stop = "15550100025";
  Harness h(options());
  auto tx = h.bind(cmd::kBindTransmitter);
  const auto t = acme_templates();

  for (const auto& [msisdn, keyword] : cases) {
    CAPTURE(keyword);
    CHECK(submit(*tx, mt(cfg::kAcmeNumber, msisdn, "before")).status == kNoConsent);
    h.sim().clear_messages();
    CHECK(mo(h.sim(), msisdn, cfg::kAcmeNumber, keyword) == 0);
    const auto sent = wait_carrier_submits(h.sim(), 1);
    CHECK(json_string(sent[0], "destination_addr") == msisdn);
    CHECK(json_string(sent[0], "source_addr") == cfg::kAcmeNumber);
    CHECK(json_string(sent[0], "text") == t.opt_in_confirm);
    // express covers informational (the account's default category) but not promotional.
    CHECK(submit(*tx, mt(cfg::kAcmeNumber, msisdn, "after")).status == 0);
    CHECK(submit(*tx, mt(cfg::kAcmeNumber, msisdn, "promo", Category::promotional)).status ==
          kConsentLevel);
  }
  // An opt-in keyword after a STOP subscribes again.
  CHECK(mo(h.sim(), after_stop, cfg::kAcmeNumber, "STOP") == 0);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, after_stop, "out")).status == kOptedOut);
  CHECK(mo(h.sim(), after_stop, cfg::kAcmeNumber, "UNSTOP") == 0);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, after_stop, "back")).status == 0);

  const auto ins = audit_events(h, "opted_in", "+15550100024");
  REQUIRE(ins.size() == 1);
  CHECK(json_string(ins[0], "keyword") == "SUPPORT");
  CHECK(json_string(ins[0], "source") == "keyword");
}

TEST_CASE("other text: implied consent (for implied_ttl) if not opted out, else one reminder") {
  const std::string e = "15550100031";  // writes first, no record
  const std::string f = "15550100032";  // opted out, then writes
  auto o = options();
  o.config.programs[2].implied_ttl = "2s";  // acme-promo
  Harness h(o);
  auto tx = h.bind(cmd::kBindTransmitter);
  const auto t = acme_templates();

  CHECK(submit(*tx, mt(cfg::kAcmeNumber, e, "hi", Category::conversational)).status ==
        kNoConsent);
  CHECK(mo(h.sim(), e, cfg::kAcmeNumber, "Is my order ready?") == 0);
  // No reply to a conversational MO.
  CHECK(carrier_submits_after(h.sim()).empty());
  // Implied consent covers conversational MTs only: TLV 0x1400 = 0, or service_type CONV.
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, e, "yes, ready", Category::conversational)).status == 0);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, e, "by CONV", std::nullopt, 0, "CONV")).status == 0);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, e, "newsletter", Category::informational)).status ==
        kConsentLevel);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, e, "default category")).status == kConsentLevel);
  const auto implied = audit_events(h, "opted_in", "+" + e);
  REQUIRE(implied.size() == 1);
  CHECK(json_string(implied[0], "source") == "mo_conversation");

  // Implied consent lasts implied_ttl after the last MO (acme-promo: 2 s); another MO renews it.
  const std::string e2 = "15550100033";
  CHECK(mo(h.sim(), e2, kPromoNumber, "hi") == 0);
  CHECK(submit(*tx, mt(kPromoNumber, e2, "hello", Category::conversational)).status == 0);
  std::this_thread::sleep_for(2500ms);
  CHECK(submit(*tx, mt(kPromoNumber, e2, "late", Category::conversational)).status ==
        kConsentLevel);
  CHECK(mo(h.sim(), e2, kPromoNumber, "me again") == 0);
  CHECK(submit(*tx, mt(kPromoNumber, e2, "renewed", Category::conversational)).status == 0);

  // Opted out, then other text: one still_opted_out within reminder_interval (24 h), no more.
  CHECK(mo(h.sim(), f, cfg::kAcmeNumber, "STOP") == 0);
  wait_carrier_submits(h.sim(), 5);  // the four MTs that passed above, the confirmation
  h.sim().clear_messages();
  CHECK(mo(h.sim(), f, cfg::kAcmeNumber, "who is this?") == 0);
  const auto sent = wait_carrier_submits(h.sim(), 1);
  CHECK(json_string(sent[0], "destination_addr") == f);
  CHECK(json_string(sent[0], "source_addr") == cfg::kAcmeNumber);
  CHECK(json_string(sent[0], "text") == t.still_opted_out);
  CHECK(mo(h.sim(), f, cfg::kAcmeNumber, "hello???") == 0);
  CHECK(mo(h.sim(), f, cfg::kAcmeShortCode, "anyone there") == 0);
  CHECK(carrier_submits_after(h.sim()).size() == 1);
  // Other text does not bring consent back.
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, f, "hi", Category::conversational)).status ==
        kOptedOut);
}

TEST_CASE("STOPALL opts out of every program of the tenant, not of the other tenant's") {
  const std::string x = "15550100041";  // STOPALL
  const std::string y = "15550100042";  // "stop all", at the other program
  const std::string z = "15550100043";  // plain STOP: that program only
  const std::string v = "15550100044";  // plain STOP at a program with stop_scope: tenant
  auto o = options();
  o.config.programs[2].stop_scope = "tenant";  // acme-promo
  for (const auto& s : {x, y, z, v}) {
    o.opt_in.push_back({s, cfg::kAcmeNumber});
    o.opt_in.push_back({s, kPromoNumber});
    o.opt_in.push_back({s, cfg::kGlobexNumber});
  }
  Harness h(o);
  auto acme = h.bind(cmd::kBindTransmitter);
  auto globex = h.bind(cmd::kBindTransmitter, cfg::kApp2, cfg::kApp2Password);

  CHECK(mo(h.sim(), x, cfg::kAcmeNumber, "STOPALL") == 0);
  CHECK(mo(h.sim(), y, kPromoNumber, "Stop all") == 0);
  CHECK(mo(h.sim(), z, cfg::kAcmeNumber, "STOP") == 0);
  CHECK(mo(h.sim(), v, kPromoNumber, "STOP") == 0);
  const auto sent = wait_carrier_submits(h.sim(), 4);
  CHECK(carrier_submits_after(h.sim(), 300ms).size() == 4);  // one confirmation each
  CHECK(json_string(only_to(sent, x), "source_addr") == cfg::kAcmeNumber);
  CHECK(json_string(only_to(sent, y), "source_addr") == kPromoNumber);
  CHECK(json_string(only_to(sent, y), "text") ==
        templates("Acme Promo", "promo@acme.example").opt_out_confirm);

  for (const auto& s : {x, y, v}) {
    CAPTURE(s);
    CHECK(submit(*acme, mt(cfg::kAcmeNumber, s, "alerts")).status == kOptedOut);
    CHECK(submit(*acme, mt(kPromoNumber, s, "promo")).status == kOptedOut);
    CHECK(submit(*globex, mt(cfg::kGlobexNumber, s, "news")).status == 0);
  }
  // A plain STOP stays with the program texted.
  CHECK(submit(*acme, mt(cfg::kAcmeNumber, z, "alerts")).status == kOptedOut);
  CHECK(submit(*acme, mt(kPromoNumber, z, "promo")).status == 0);
  CHECK(submit(*globex, mt(cfg::kGlobexNumber, z, "news")).status == 0);

  const auto tenant = audit_events(h, "opted_out", "+" + x);
  bool tenant_entry = false;
  for (const auto& e : tenant) {
    tenant_entry = tenant_entry || json_string(e, "program") == "tenant:acme";
  }
  CHECK(tenant_entry);

  // START at one program after a tenant-wide opt-out re-subscribes to that program only.
  CHECK(mo(h.sim(), x, kPromoNumber, "START") == 0);
  CHECK(submit(*acme, mt(kPromoNumber, x, "promo")).status == 0);
  CHECK(submit(*acme, mt(cfg::kAcmeNumber, x, "alerts")).status == kOptedOut);
}

TEST_CASE("phrase rule: short phrases opt out; a long message is only audited") {
  const std::string p1 = "15550100051";  // "please stop"
  const std::string p2 = "15550100052";  // "Stop texting me!"
  const std::string p3 = "15550100053";  // a long message with "stop"
  const std::string p4 = "15550100054";  // "please stop" to a program with phrase_opt_out off
  auto o = options();
  o.config.programs[1].phrase_opt_out = false;  // globex-news
  o.opt_in = {{p1, cfg::kAcmeNumber},
              {p2, cfg::kAcmeNumber},
              {p3, cfg::kAcmeNumber},
              {p4, cfg::kGlobexNumber}};
  Harness h(o);
  auto tx = h.bind(cmd::kBindTransmitter);
  auto globex = h.bind(cmd::kBindTransmitter, cfg::kApp2, cfg::kApp2Password);
  const auto t = acme_templates();

  CHECK(mo(h.sim(), p1, cfg::kAcmeNumber, "please stop") == 0);
  CHECK(mo(h.sim(), p2, cfg::kAcmeNumber, "Stop texting me!") == 0);
  const auto sent = wait_carrier_submits(h.sim(), 2);
  CHECK(json_string(only_to(sent, p1), "text") == t.opt_out_confirm);
  CHECK(json_string(only_to(sent, p2), "text") == t.opt_out_confirm);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, p1, "x")).status == kOptedOut);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, p2, "x")).status == kOptedOut);
  const auto phrase = audit_events(h, "opted_out", "+" + p1);
  REQUIRE(phrase.size() == 1);
  CHECK(json_string(phrase[0], "rule") == "phrase");

  // More than 4 words: not acted on, audited possible_opt_out, counted.
  h.sim().clear_messages();
  CHECK(mo(h.sim(), p3, cfg::kAcmeNumber, "I will never stop buying your great products") == 0);
  CHECK(mo(h.sim(), p4, cfg::kGlobexNumber, "please stop") == 0);
  CHECK(carrier_submits_after(h.sim()).empty());  // no confirmation
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, p3, "still subscribed")).status == 0);
  CHECK(submit(*globex, mt(cfg::kGlobexNumber, p4, "still subscribed")).status == 0);
  const auto possible = audit_events(h, "possible_opt_out", "+" + p3);
  REQUIRE(possible.size() == 1);
  CHECK(json_string(possible[0], "keyword") == "STOP");
  CHECK(json_string(possible[0], "mo_text") == "I will never stop buying your great products");
  CHECK(audit_events(h, "possible_opt_out", "+" + p4).size() == 1);
  CHECK(metric_or_0(h, "smppguard_mo_total",
                    {{"program", cfg::kAcmeProgram}, {"kind", "possible_opt_out"}}) == 1);
  CHECK(metric_or_0(h, "smppguard_mo_total",
                    {{"program", cfg::kGlobexProgram}, {"kind", "possible_opt_out"}}) == 1);
}

TEST_CASE("keywords are matched on decoded text: UCS2, emoji, data_sm, a STOP in two parts") {
  const std::string u1 = "15550100061";  // "STOP" in UCS2
  const std::string u2 = "15550100062";  // "Stop 🛑" (UCS2 because of the emoji)
  const std::string u3 = "15550100063";  // "ST" + "OP" in two UDH parts
  const std::string u4 = "15550100064";  // "STOP" in a data_sm's message_payload
  auto o = options();
  o.opt_in = {{u1, cfg::kAcmeNumber}, {u2, cfg::kAcmeNumber}, {u3, cfg::kAcmeNumber},
              {u4, cfg::kAcmeNumber}};
  Harness h(o);
  auto tx = h.bind(cmd::kBindTransmitter);
  const auto t = acme_templates();

  json::object ucs2;
  ucs2["data_coding"] = 8;
  CHECK(mo(h.sim(), u1, cfg::kAcmeNumber, "STOP", ucs2) == 0);
  CHECK(mo(h.sim(), u2, cfg::kAcmeNumber, "Stop \xF0\x9F\x9B\x91") == 0);
  json::object data_sm;
  data_sm["command"] = "data_sm";
  CHECK(mo(h.sim(), u4, cfg::kAcmeNumber, "STOP", data_sm) == 0);
  auto sent = wait_carrier_submits(h.sim(), 3);
  CHECK(json_string(only_to(sent, u1), "text") == t.opt_out_confirm);
  CHECK(json_string(only_to(sent, u2), "text") == t.opt_out_confirm);
  CHECK(json_string(only_to(sent, u4), "text") == t.opt_out_confirm);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, u1, "x")).status == kOptedOut);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, u2, "x")).status == kOptedOut);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, u4, "x")).status == kOptedOut);

  h.sim().clear_messages();
  json::object first;
  first["pdu_hex"] = part_hex(u3, cfg::kAcmeNumber, 0x7b, 2, 1, "ST");
  CHECK(mo(h.sim(), u3, cfg::kAcmeNumber, "", first) == 0);
  // Half a keyword is nothing yet.
  CHECK(carrier_submits_after(h.sim(), 500ms).empty());
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, u3, "between the parts")).status == 0);
  h.sim().clear_messages();
  json::object second;
  second["pdu_hex"] = part_hex(u3, cfg::kAcmeNumber, 0x7b, 2, 2, "OP");
  CHECK(mo(h.sim(), u3, cfg::kAcmeNumber, "", second) == 0);
  sent = wait_carrier_submits(h.sim(), 1);
  CHECK(json_string(only_to(sent, u3), "text") == t.opt_out_confirm);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, u3, "x")).status == kOptedOut);
}

TEST_CASE("every MO is forwarded to the tenant, keywords too, unless forward_keywords is false") {
  const std::string w = "15550100071";
  auto o = options();
  o.config.programs[1].forward_keywords = false;  // globex-news
  Harness h(o);
  auto acme = h.bind(cmd::kBindReceiver);
  auto globex = h.bind(cmd::kBindReceiver, cfg::kApp2, cfg::kApp2Password);
  const std::vector<std::string> texts = {"HELP", "START", "hello there", "STOP"};

  for (const auto& text : texts) CHECK(mo(h.sim(), w, cfg::kAcmeNumber, text) == 0);
  std::vector<std::string> got;
  while (auto f = acme->receive_deliver(0, got.size() < texts.size() ? 10s : 300ms)) {
    got.push_back(deliver_text(*f));
  }
  CHECK(got == texts);

  for (const auto& text : texts) CHECK(mo(h.sim(), w, cfg::kGlobexNumber, text) == 0);
  std::vector<std::string> got_globex;
  while (auto f = globex->receive_deliver(0, got_globex.empty() ? 10s : 700ms)) {
    got_globex.push_back(deliver_text(*f));
  }
  CHECK(got_globex == std::vector<std::string>{"hello there"});
  // The keywords still took effect there: help, confirmations.
  CHECK(eventually([&] {
    std::size_t n = 0;
    for (const auto& m : carrier_submits(h.sim())) {
      n += json_string(m, "source_addr") == cfg::kGlobexNumber ? 1 : 0;
    }
    return n == 3;  // help, opt_in_confirm, opt_out_confirm
  }, 10s));
  CHECK(count_to(carrier_submits(h.sim()), w) == 6);
}

}  // TEST_SUITE
