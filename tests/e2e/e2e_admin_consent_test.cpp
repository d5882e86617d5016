// GET|PUT|DELETE /v1/consents/{program}/{msisdn} through the real daemon: the record, its
// history, every validation error, the MT path seeing the change, the opt-out that fails held MTs
// without a text, and confirm: true (the opt-in request, then YES giving the requested level).
#include <doctest/doctest.h>

#include <smppguard/proto/status.hpp>

#include "e2e_admin_support.hpp"

namespace {

using namespace e2e;
using namespace e2e::admin;
namespace proto = smppguard::proto;
namespace cmd = smppguard::proto::cmd;
namespace st = smppguard::proto::status;

json::object body(const std::string& state, const std::string& level = "",
                  const std::string& source = "") {
  json::object o;
  o["state"] = state;
  if (!level.empty()) o["level"] = level;
  if (!source.empty()) o["source"] = source;
  return o;
}

std::uint32_t submit_status(SmppClient& c, const proto::Pdu& pdu) {
  return c.request(pdu).status();
}

json::object mo(const std::string& to, const std::string& text) {
  json::object o;
  o["from"] = cfg::kSubscriber;
  o["to"] = to;
  o["text"] = text;
  return o;
}

// submit_sm the simulator received towards the subscriber, with their texts.
std::vector<std::string> texts_to_subscriber(Simulator& sim) {
  std::vector<std::string> out;
  for (const auto& m : sim.messages("submit_sm")) {
    if (json_string(m, "destination_addr") == cfg::kSubscriber)
      out.push_back(json_string(m, "text"));
  }
  return out;
}

}  // namespace

TEST_SUITE("admin_consent") {
  TEST_CASE("PUT creates (201), GET shows it with history, the MT path obeys; DELETE opts out") {
    auto hp = admin_harness();
    auto& h = *hp;
    auto tx = h.bind(cmd::kBindTransceiver);
    const std::string path = "/v1/consents/acme-alerts/%2B15551234567";

    // No record: 404, and the MT is refused for lack of consent.
    CHECK(get(h, path).status == 404);
    CHECK(get(h, path).code() == "not_found");
    CHECK(submit_status(*tx, make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "hi")) == 0x401);

    auto b = body("opted_in", "express", "web_form");
    json::object ev;
    ev["form_url"] = "https://acme.example/join";
    ev["ip"] = "192.0.2.7";
    b["evidence"] = ev;
    const auto created = put_consent(h, "acme-alerts", "%2B15551234567", b);
    REQUIRE_MESSAGE(created.status == 201, created.body);
    auto o = created.object();
    CHECK(o.at("effect").as_string() == "created");
    CHECK(o.at("state").as_string() == "opted_in");
    CHECK(o.at("level").as_string() == "express");
    CHECK(o.at("source").as_string() == "web_form");
    CHECK(o.at("msisdn").as_string() == kSub);
    CHECK(o.at("evidence").as_object().at("ip").as_string() == "192.0.2.7");

    // The same record under the three spellings of the number.
    for (const char* m : {"%2B15551234567", "+15551234567", "15551234567"}) {
      const auto r = get(h, std::string("/v1/consents/acme-alerts/") + m);
      REQUIRE_MESSAGE(r.status == 200, m << " " << r.body);
      o = r.object();
      CHECK(o.at("program").as_string() == "acme-alerts");
      CHECK(o.at("state").as_string() == "opted_in");
      CHECK(o.at("handset_confirmed").as_bool() == false);
      CHECK(o.at("created_at").as_string().size() == 24);  // 2026-01-15T15:00:00.000Z
      CHECK(o.at("updated_at").is_string());
      const auto& history = o.at("history").as_array();
      REQUIRE(history.size() == 2);  // the refused MT, then the consent
      CHECK(history[0].as_object().at("event").as_string() == "mt_refused");
      CHECK(history[0].as_object().at("detail").as_string() == "no_consent");
      const auto& e = history[1].as_object();
      CHECK(e.at("event").as_string() == "opted_in");
      CHECK(e.at("actor").as_string() == "api:crm");
      CHECK(e.at("source").as_string() == "web_form");
      CHECK(e.at("old_state").as_string() == "none");
      CHECK(e.at("hash").as_string().size() == 64);
    }
    CHECK(get(h, path + "?history=0").object().at("history").as_array().empty());

    // Now the MT goes through.
    CHECK(submit_status(*tx, make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "hi")) == 0);

    // Unchanged, then changed (200), by another token: its name is the actor.
    const auto same = put_consent(h, "acme-alerts", "+15551234567", b);
    CHECK(same.status == 200);
    CHECK(same.object().at("effect").as_string() == "unchanged");
    b["level"] = "express_written";
    const auto changed = send(h, "PUT", path, json::serialize(b), kOpsToken);
    CHECK(changed.status == 200);
    CHECK(changed.object().at("effect").as_string() == "changed");
    const auto hist = get(h, path).object().at("history").as_array();
    REQUIRE(hist.size() == 3);
    CHECK(hist[2].as_object().at("actor").as_string() == "api:ops");
    CHECK(hist[2].as_object().at("old_state").as_string() == "opted_in");

    // DELETE: opted_out with source verbal, no confirmation text, and the next MT is refused 0x400.
    h.sim().clear_messages();
    json::object del;
    del["source"] = "verbal";
    json::object agent;
    agent["agent"] = "42";
    del["evidence"] = agent;
    const auto deleted = send(h, "DELETE", path, json::serialize(del));
    REQUIRE_MESSAGE(deleted.status == 200, deleted.body);
    o = deleted.object();
    CHECK(o.at("state").as_string() == "opted_out");
    CHECK(o.at("source").as_string() == "verbal");
    CHECK(o.at("level").as_string() == "express_written");  // what was revoked
    CHECK(o.at("previous_state").as_string() == "opted_in");
    CHECK(submit_status(*tx, make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "hi")) == 0x400);
    std::this_thread::sleep_for(300ms);
    CHECK(texts_to_subscriber(h.sim()).empty());
    // A DELETE without a body works too (already opted out: unchanged).
    const auto again = send(h, "DELETE", path, "");
    CHECK(again.status == 200);
    CHECK(again.object().at("effect").as_string() == "unchanged");

    // Metrics and the log.
    CHECK(h.metric("smppguard_consent_changes_total",
                   {{"program", "acme-alerts"}, {"to", "opted_in"}, {"source", "web_form"}}) == 2);
    CHECK(h.metric("smppguard_consent_changes_total",
                   {{"program", "acme-alerts"}, {"to", "opted_out"}, {"source", "verbal"}}) == 1);
    const auto log = h.daemon_log();
    CHECK(log.find("event=consent_change program=acme-alerts to=opted_out source=verbal "
                   "actor=api:crm via=api") != std::string::npos);
  }

  TEST_CASE("every validation error, and 409 for an opt-out the subscriber texted") {
    auto hp = admin_harness();
    auto& h = *hp;
    const std::string path = "/v1/consents/acme-alerts/%2B15551234567";
    auto put_raw = [&](const std::string& text) { return send(h, "PUT", path, text); };
    struct Case {
      std::string body;
      int status;
      std::string code;
    };
    const std::vector<Case> cases = {
        {"", 400, "invalid_json"},
        {"{", 400, "invalid_json"},
        {"[]", 400, "invalid_json"},
        {R"({"state":"opted_in","level":"express","colour":"red"})", 400, "unknown_field"},
        {R"({"state":"opted_in"})", 400, "missing_level"},
        {R"({"state":"pending","level":"express"})", 400, "invalid_state"},
        {R"({"state":true,"level":"express"})", 400, "invalid_state"},
        {R"({"state":"opted_in","level":"gold"})", 400, "invalid_level"},
        {R"({"state":"opted_in","level":7})", 400, "invalid_level"},
        {R"({"state":"opted_in","level":"express","source":"keyword"})", 400, "invalid_source"},
        {R"({"state":"opted_in","level":"express","source":"disclaimer"})", 400, "invalid_source"},
        {R"({"state":"opted_in","level":"express","evidence":{"n":42}})", 400, "invalid_evidence"},
        {R"({"state":"opted_in","level":"express","evidence":[1]})", 400, "invalid_evidence"},
        {R"({"state":"opted_in","level":"express","confirm":"yes"})", 400, "invalid_confirm"},
        {R"({"state":"opted_out","confirm":true})", 400, "invalid_confirm"},
        {R"({"state":"opted_in","level":"express","state":"opted_in","x":{"y":{"z":{"w":{}}}}})",
         400, "invalid_json"},
    };
    for (const auto& c : cases) {
      const auto r = put_raw(c.body);
      CHECK_MESSAGE(r.status == c.status, c.body << " -> " << r.status << " " << r.body);
      CHECK_MESSAGE(r.code() == c.code, c.body << " -> " << r.body);
    }
    const auto ok = json::serialize(body("opted_in", "express"));
    CHECK(send(h, "PUT", "/v1/consents/no-such-program/%2B15551234567", ok).code() ==
          "unknown_program");
    CHECK(send(h, "PUT", "/v1/consents/no-such-program/%2B15551234567", ok).status == 404);
    CHECK(get(h, "/v1/consents/no-such-program/%2B15551234567").status == 404);
    for (const char* bad : {"%2B0123", "abc", "%2B1555123456789012", "%2B1055512345"}) {
      const auto r = send(h, "PUT", std::string("/v1/consents/acme-alerts/") + bad, ok);
      CHECK_MESSAGE(r.status == 400, bad);
      CHECK(r.code() == "invalid_msisdn");
      CHECK(get(h, std::string("/v1/consents/acme-alerts/") + bad).code() == "invalid_msisdn");
    }
    CHECK(send(h, "PUT", path + "?force=1", ok).code() == "unknown_parameter");
    CHECK(send(h, "DELETE", path, R"({"state":"opted_in"})").code() == "unknown_field");
    // Nothing was written by any of them.
    CHECK(get(h, path).status == 404);

    // The subscriber texts STOP: the CRM may not opt them back in, nor send a request.
    REQUIRE(h.sim().post_mo(mo(cfg::kAcmeNumber, "STOP")).status == 200);
    REQUIRE(eventually([&] { return get(h, path).status == 200; }));
    const auto conflict = send(h, "PUT", path, ok);
    CHECK(conflict.status == 409);
    CHECK(conflict.code() == "opted_out_by_subscriber");
    auto confirm = body("opted_in", "express");
    confirm["confirm"] = true;
    const auto c2 = send(h, "PUT", path, json::serialize(confirm));
    CHECK(c2.status == 409);
    CHECK(c2.code() == "opted_out");
    CHECK(get(h, path).object().at("state").as_string() == "opted_out");
    CHECK(h.daemon_log().find("event=consent_change_refused") != std::string::npos);
    // START from the handset lifts it; then the API may set the level.
    REQUIRE(h.sim().post_mo(mo(cfg::kAcmeNumber, "START")).status == 200);
    REQUIRE(
        eventually([&] { return get(h, path).object().at("state").as_string() == "opted_in"; }));
    CHECK(send(h, "PUT", path, json::serialize(body("opted_in", "express_written"))).status == 200);
  }

  TEST_CASE("confirm: true sends the opt-in request; YES gives the requested level") {
    auto hp = admin_harness();
    auto& h = *hp;
    const std::string path = std::string("/v1/consents/acme-promo/%2B15551234567");
    auto b = body("opted_in", "express_written", "web_form");
    b["confirm"] = true;
    json::object ev;
    ev["form"] = "promo-v2";
    b["evidence"] = ev;
    const auto r = send(h, "PUT", path, json::serialize(b));
    REQUIRE_MESSAGE(r.status == 201, r.body);
    CHECK(r.object().at("state").as_string() == "pending");
    CHECK(r.object().at("level").as_string() == "express_written");
    CHECK(r.object().at("opt_in_request_sent").as_bool());
    // The handset gets "Reply YES" from the program's number.
    REQUIRE(eventually([&] { return !texts_to_subscriber(h.sim()).empty(); }));
    const auto sent = h.sim().messages("submit_sm");
    CHECK(json_string(sent.front(), "source_addr") == kPromoNumber);
    CHECK(json_string(sent.front(), "text").find("Reply YES") != std::string::npos);
    // Counted once the carrier's submit_sm_resp accepts it, a moment after the carrier has it.
    CHECK(eventually([&] {
      return h.metric("smppguard_proxy_messages_total",
                      {{"program", "acme-promo"}, {"template", "opt_in_request"}}) == 1;
    }));
    // Again at once: no second request (request_interval).
    const auto again = send(h, "PUT", path, json::serialize(b));
    CHECK(again.object().at("effect").as_string() == "unchanged");
    CHECK(again.object().at("opt_in_request_sent").as_bool() == false);

    // An MT while pending is held, not refused; YES releases it and gives express_written.
    auto tx = h.bind(cmd::kBindTransceiver);
    const auto held = tx->request(promo_submit("promo while pending", 0));
    CHECK(held.status() == 0);
    REQUIRE(h.sim().post_mo(mo(kPromoNumber, "YES")).status == 200);
    REQUIRE(
        eventually([&] { return get(h, path).object().at("state").as_string() == "opted_in"; }));
    const auto o = get(h, path).object();
    CHECK(o.at("level").as_string() == "express_written");
    CHECK(o.at("source").as_string() == "web_form");
    CHECK(o.at("handset_confirmed").as_bool());
    CHECK(o.at("evidence").as_object().at("form").as_string() == "promo-v2");
    REQUIRE(eventually([&] {
      for (const auto& t : texts_to_subscriber(h.sim())) {
        if (t == "promo while pending") return true;
      }
      return false;
    }));
    // A promotional MT now passes (express_written covers it).
    auto promo = promo_submit("sale", 0);
    promo.as<proto::SubmitSm>()->tlvs.set_u8(0x1400, 2);
    CHECK(submit_status(*tx, promo) == 0);
  }

  TEST_CASE("DELETE fails held MTs like a STOP: REJECTD receipts, no text to the handset") {
    auto hp = admin_harness();
    auto& h = *hp;
    auto tx = h.bind(cmd::kBindTransceiver);
    // Two MTs held waiting for YES (confirm mode), the account asked for receipts.
    const auto first = tx->request(promo_submit("held one"));
    const auto second = tx->request(promo_submit("held two"));
    REQUIRE(first.status() == 0);
    REQUIRE(second.status() == 0);
    const auto id1 = first.pdu().as<proto::SubmitSmResp>()->message_id;
    REQUIRE(eventually([&] {
      return h.metric("smppguard_queue_depth", {{"queue", "held_mt"}}) == 2;
    }));
    // The first MT sent the handset "Reply YES"; wait for it (and its receipt) before clearing.
    REQUIRE(eventually([&] { return texts_to_subscriber(h.sim()).size() == 1; }));
    std::this_thread::sleep_for(500ms);
    h.sim().clear_messages();

    const auto r = send(h, "DELETE", "/v1/consents/acme-promo/15551234567", "");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(r.object().at("held_failed").to_number<int>() == 2);
    std::vector<std::string> receipts;
    for (int i = 0; i < 2; ++i) {
      auto f = tx->receive_deliver(st::kEsmeRok, 10s);
      REQUIRE(f);
      receipts.push_back(f->pdu().as<proto::SubmitSm>()->short_message);
    }
    CHECK(receipts[0].find("id:" + id1) == 0);
    for (const auto& t : receipts) {
      CHECK(t.find("stat:REJECTD") != std::string::npos);
      CHECK(t.find("err:400") != std::string::npos);
    }
    std::this_thread::sleep_for(300ms);
    CHECK(texts_to_subscriber(h.sim()).empty());  // neither the MTs nor a confirmation
    CHECK(h.metric("smppguard_queue_depth", {{"queue", "held_mt"}}) == 0);
    // The history shows the opt-out and the two refusals.
    const auto history =
        get(h, "/v1/consents/acme-promo/15551234567").object().at("history").as_array();
    std::vector<std::string> events;
    for (const auto& e : history) events.emplace_back(e.as_object().at("event").as_string());
    const auto out = std::find(events.begin(), events.end(), "opted_out");
    REQUIRE(out != events.end());
    CHECK(std::count(events.begin(), out, "mt_refused") == 2);  // failed in the same change
    CHECK(*(out - 1) == "mt_refused");
  }

}  // TEST_SUITE
