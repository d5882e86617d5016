// Confirm (double opt-in) and disclaimer modes through the real daemon and carrier simulator
// (SPEC 4 `opt_in_mode`, SPEC 8 "Confirm mode", "Disclaimer mode"): held MTs get proxy ids, one
// opt-in request per request_interval, YES sends the confirmation and then the held MTs in order,
// their receipts reach the account under the held ids; hold: false; STOP fails held MTs with a
// REJECTD receipt; hold_ttl expiry gives an EXPIRED receipt; the disclaimer precedes the first MT.
#include <doctest/doctest.h>

#include <set>
#include <thread>
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

constexpr const char* kNoHoldNumber = "18005550101";

bool is_proxy_id(const std::string& id) {
  return id.rfind(std::string(cfg::kNodeId) + "-", 0) == 0 && id.size() > 4;
}

// acme-alerts in confirm mode (hold: true); acme-nohold in confirm mode with hold: false.
HarnessOptions confirm_options() {
  HarnessOptions o;
  o.config.programs[0].opt_in_mode = "confirm";
  o.config.programs[0].hold = true;
  o.config.programs.push_back({.id = "acme-nohold",
                               .tenant = "acme",
                               .name = "Acme Ask",
                               .numbers = {std::string("+") + kNoHoldNumber},
                               .help_contact = "ask@acme.example",
                               .opt_in_mode = "confirm",
                               .hold = false});
  return o;
}

}  // namespace

TEST_SUITE("consent_confirm") {

TEST_CASE("confirm: held with a proxy id, one request, YES sends the confirmation then the MTs") {
  const std::string s = "15550300001";
  Harness h(confirm_options());
  auto trx = h.bind(cmd::kBindTransceiver);
  const auto t = acme_templates();

  auto first = mt(cfg::kAcmeNumber, s, "first held", std::nullopt, 1);
  first.sequence_number = trx->next_seq();
  const Bytes first_bytes = encode_pdu(first);
  const auto a = submit(*trx, first);
  CHECK(a.status == 0);
  CHECK(is_proxy_id(a.message_id));
  // The carrier gets the opt-in request, not the MT.
  auto sent = wait_carrier_submits(h.sim(), 1);
  CHECK(json_string(sent[0], "destination_addr") == s);
  CHECK(json_string(sent[0], "source_addr") == cfg::kAcmeNumber);
  CHECK(json_string(sent[0], "text") == t.opt_in_request);

  // A second MT within request_interval: held too, no second request.
  const auto b = submit(*trx, mt(cfg::kAcmeNumber, s, "second held", std::nullopt, 1));
  CHECK(b.status == 0);
  CHECK(is_proxy_id(b.message_id));
  CHECK(b.message_id != a.message_id);
  CHECK(carrier_submits_after(h.sim()).size() == 1);
  CHECK(metric_or_0(h, "smppguard_mt_decisions_total",
                    {{"program", cfg::kAcmeProgram},
                     {"decision", "held"},
                     {"reason", "no_consent"}}) == 2);

  // YES: the confirmation first, then the held MTs in their original order, as they came.
  CHECK(mo(h.sim(), s, cfg::kAcmeNumber, "YES") == 0);
  sent = wait_carrier_submits(h.sim(), 4);
  CHECK(carrier_submits_after(h.sim(), 300ms).size() == 4);
  CHECK(json_string(sent[1], "text") == t.opt_in_confirm);
  CHECK(json_string(sent[2], "text") == "first held");
  CHECK(json_string(sent[3], "text") == "second held");
  const auto carrier_bytes = from_hex(json_string(sent[2], "pdu_hex"));
  CHECK(to_hex(without_sequence(carrier_bytes)) == to_hex(without_sequence(first_bytes)));

  // The carrier's receipts reach the account under the ids it was given when they were held.
  std::set<std::string> text_ids, tlv_ids;
  std::vector<std::string> mos;
  for (int i = 0; i < 2; ++i) {
    auto r = next_receipt(*trx, 10s, &mos);
    REQUIRE(r);
    CHECK(r->stat == "DELIVRD");
    text_ids.insert(r->text_id);
    tlv_ids.insert(r->tlv_id);
  }
  CHECK(text_ids == std::set<std::string>{a.message_id, b.message_id});
  CHECK(tlv_ids == text_ids);
  // Now consented: the next MT goes straight through.
  CHECK(submit(*trx, mt(cfg::kAcmeNumber, s, "direct")).status == 0);
  CHECK(audit_events(h, "mt_released", "+" + s).size() == 2);
}

TEST_CASE("confirm with hold: false: 0x401 and the opt-in request, once per request_interval") {
  const std::string s = "15550300011";
  Harness h(confirm_options());
  auto tx = h.bind(cmd::kBindTransmitter);

  CHECK(submit(*tx, mt(kNoHoldNumber, s, "not held")).status == kNoConsent);
  const auto sent = wait_carrier_submits(h.sim(), 1);
  CHECK(json_string(sent[0], "destination_addr") == s);
  CHECK(json_string(sent[0], "source_addr") == kNoHoldNumber);
  CHECK(json_string(sent[0], "text") == templates("Acme Ask", "ask@acme.example").opt_in_request);
  CHECK(submit(*tx, mt(kNoHoldNumber, s, "again")).status == kNoConsent);
  CHECK(carrier_submits_after(h.sim()).size() == 1);
  // YES releases nothing: nothing was held.
  CHECK(mo(h.sim(), s, kNoHoldNumber, "YES") == 0);
  CHECK(carrier_submits_after(h.sim()).size() == 2);  // + the confirmation
}

TEST_CASE("confirm: STOP instead of YES fails the held MTs with a REJECTD receipt") {
  const std::string s = "15550300021";
  Harness h(confirm_options());
  auto trx = h.bind(cmd::kBindTransceiver);
  const auto t = acme_templates();

  const auto asked = submit(*trx, mt(cfg::kAcmeNumber, s, "wants a receipt", std::nullopt, 1));
  const auto silent = submit(*trx, mt(cfg::kAcmeNumber, s, "no receipt asked", std::nullopt, 0));
  REQUIRE(asked.status == 0);
  REQUIRE(silent.status == 0);
  wait_carrier_submits(h.sim(), 1);  // the request

  CHECK(mo(h.sim(), s, cfg::kAcmeNumber, "STOP") == 0);
  std::vector<std::string> mos;
  auto r = next_receipt(*trx, 10s, &mos);
  REQUIRE(r);
  CHECK(r->text_id == asked.message_id);
  CHECK(r->tlv_id == asked.message_id);
  CHECK(r->stat == "REJECTD");
  CHECK(r->err == "400");
  CHECK_FALSE(next_receipt(*trx, 800ms, &mos));  // none for the MT that did not ask
  const auto sent = carrier_submits(h.sim());
  REQUIRE(sent.size() == 2);  // the request, the opt-out confirmation; never the MTs
  CHECK(json_string(sent[1], "text") == t.opt_out_confirm);
  // A later YES does not bring them back.
  CHECK(mo(h.sim(), s, cfg::kAcmeNumber, "YES") == 0);
  CHECK(carrier_submits_after(h.sim()).size() == 3);  // + the opt-in confirmation only
}

TEST_CASE("confirm: a held MT expires after hold_ttl with an EXPIRED receipt") {
  const std::string s = "15550300031";
  auto o = confirm_options();
  o.config.programs[0].hold_ttl = "2s";
  Harness h(o);
  auto trx = h.bind(cmd::kBindTransceiver);

  const auto held = submit(*trx, mt(cfg::kAcmeNumber, s, "too late", std::nullopt, 1));
  REQUIRE(held.status == 0);
  auto r = next_receipt(*trx, 15s);
  REQUIRE(r);
  CHECK(r->text_id == held.message_id);
  CHECK(r->tlv_id == held.message_id);
  CHECK(r->stat == "EXPIRED");
  CHECK(r->message_state == std::optional<std::uint8_t>(3));
  CHECK(audit_events(h, "mt_expired", "+" + s).size() == 1);
  // A YES after the expiry releases nothing.
  CHECK(mo(h.sim(), s, cfg::kAcmeNumber, "YES") == 0);
  const auto sent = carrier_submits_after(h.sim());
  REQUIRE(sent.size() == 2);  // the request, the opt-in confirmation
  CHECK(json_string(sent[1], "text") == acme_templates().opt_in_confirm);
}

TEST_CASE("confirm: a submit_multi destination without consent is refused, never held") {
  // SPEC 4: each destination is decided alone, refused ones are listed in unsuccess_sme. One
  // submit_multi_resp cannot accept a destination later, so the one without consent is refused
  // (its opt-in request still goes); a later YES must not deliver what the account was told
  // had failed, nor repeat the message to the destinations that already got it.
  const std::string yes = "15550300061";  // texted START
  const std::string no = "15550300062";   // no record
  auto o = confirm_options();
  o.opt_in = {{yes, cfg::kAcmeNumber}};
  Harness h(o);
  auto tx = h.bind(cmd::kBindTransmitter);

  proto::SubmitMulti m;
  m.source_addr_ton = 1;
  m.source_addr_npi = 1;
  m.source_addr = cfg::kAcmeNumber;
  m.dest_addresses.push_back(
      {.dest_flag = 1, .dest_addr_ton = 1, .dest_addr_npi = 1, .destination_addr = yes});
  m.dest_addresses.push_back(
      {.dest_flag = 1, .dest_addr_ton = 1, .dest_addr_npi = 1, .destination_addr = no});
  m.registered_delivery = 1;
  m.short_message = "to both";
  const auto r = tx->request(proto::Pdu{.command_id = cmd::kSubmitMulti, .body = m}, 10s);
  REQUIRE(r.id() == cmd::kSubmitMultiResp);
  CHECK(r.status() == 0);
  const auto resp = r.pdu();
  const auto* body = resp.as<proto::SubmitMultiResp>();
  REQUIRE(body != nullptr);
  REQUIRE(body->unsuccess_smes.size() == 1);
  CHECK(body->unsuccess_smes[0].destination_addr == no);
  CHECK(body->unsuccess_smes[0].error_status_code == kNoConsent);

  // The carrier: the opt-in request to `no`, and the message to `yes` only.
  REQUIRE(eventually([&] { return h.sim().messages("submit_multi").size() == 1; }, 10s));
  const auto multi = h.sim().messages("submit_multi").front();
  const auto& dests = multi.at("destinations").as_array();
  REQUIRE(dests.size() == 1);
  CHECK(dests[0].as_string() == yes);
  const auto requests = wait_carrier_submits(h.sim(), 1);
  CHECK(json_string(requests[0], "destination_addr") == no);
  CHECK(json_string(requests[0], "text") == acme_templates().opt_in_request);

  // YES from `no`: the confirmation, and nothing else.
  h.sim().clear_messages();
  CHECK(mo(h.sim(), no, cfg::kAcmeNumber, "YES") == 0);
  wait_carrier_submits(h.sim(), 1);
  std::this_thread::sleep_for(800ms);
  CHECK(h.sim().messages("submit_multi").empty());
  const auto after = carrier_submits(h.sim());
  REQUIRE(after.size() == 1);
  CHECK(json_string(after[0], "text") == acme_templates().opt_in_confirm);
}

TEST_CASE("confirm with mo_requires_consent: an MO without consent is held until YES") {
  const std::string s = "15550300051";
  auto o = confirm_options();
  o.config.programs[0].mo_requires_consent = true;
  Harness h(o);
  auto rx = h.bind(cmd::kBindReceiver);

  CHECK(mo(h.sim(), s, cfg::kAcmeNumber, "what is this about") == 0);
  // Not forwarded; the opt-in request is the reply.
  CHECK_FALSE(rx->expect(cmd::kDeliverSm, 800ms));
  const auto sent = wait_carrier_submits(h.sim(), 1);
  CHECK(json_string(sent[0], "destination_addr") == s);
  CHECK(json_string(sent[0], "text") == acme_templates().opt_in_request);

  // YES: the held MO reaches the tenant (and the YES itself, like every MO).
  CHECK(mo(h.sim(), s, cfg::kAcmeNumber, "YES") == 0);
  std::multiset<std::string> got;
  while (auto f = rx->receive_deliver(0, got.size() < 2 ? 10s : 500ms)) {
    got.insert(deliver_text(*f));
  }
  CHECK(got == std::multiset<std::string>{"YES", "what is this about"});
}

TEST_CASE("disclaimer: the first MT is preceded by the disclaimer, the second is not") {
  const std::string s = "15550300041";
  const std::string p = "15550300042";
  HarnessOptions o;
  o.config.programs[0].opt_in_mode = "disclaimer";
  Harness h(o);
  auto tx = h.bind(cmd::kBindTransmitter);

  CHECK(submit(*tx, mt(cfg::kAcmeNumber, s, "first message")).status == 0);
  auto sent = wait_carrier_submits(h.sim(), 2);
  CHECK(json_string(sent[0], "destination_addr") == s);
  CHECK(json_string(sent[0], "source_addr") == cfg::kAcmeNumber);
  CHECK(json_string(sent[0], "text") == acme_templates().disclaimer);
  CHECK(json_string(sent[1], "text") == "first message");

  CHECK(submit(*tx, mt(cfg::kAcmeNumber, s, "second message")).status == 0);
  sent = wait_carrier_submits(h.sim(), 3);
  CHECK(carrier_submits_after(h.sim(), 300ms).size() == 3);
  CHECK(json_string(sent[2], "text") == "second message");

  // Promotional needs express_written: refused, with no disclaimer sent (no record: 0x401;
  // the disclaimer's express: 0x403).
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, p, "sale", Category::promotional)).status == kNoConsent);
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, s, "sale", Category::promotional)).status ==
        kConsentLevel);
  CHECK(carrier_submits_after(h.sim()).size() == 3);
  const auto ins = audit_events(h, "opted_in", "+" + s);
  REQUIRE(ins.size() == 1);
  CHECK(json_string(ins[0], "source") == "disclaimer");
}

TEST_CASE("disclaimer: MTs pipelined to a new subscriber get one disclaimer") {
  const std::string s = "15550300043";
  HarnessOptions o;
  o.config.programs[0].opt_in_mode = "disclaimer";
  Harness h(o);
  auto tx = h.bind(cmd::kBindTransmitter);
  std::vector<std::uint32_t> seqs;
  for (int i = 0; i < 3; ++i) {
    seqs.push_back(tx->send(mt(cfg::kAcmeNumber, s, "pipelined " + std::to_string(i))));
  }
  for (auto seq : seqs) {
    auto r = tx->response_to(seq, 10s);
    REQUIRE(r);
    CHECK(r->status() == 0);
  }
  const auto sent = carrier_submits_after(h.sim());
  std::size_t disclaimers = 0;
  for (const auto& m : sent) {
    disclaimers += json_string(m, "text") == acme_templates().disclaimer ? 1 : 0;
  }
  CHECK(disclaimers == 1);
  CHECK(sent.size() == 4);
  REQUIRE_FALSE(sent.empty());
  CHECK(json_string(sent[0], "text") == acme_templates().disclaimer);
}

}  // TEST_SUITE
