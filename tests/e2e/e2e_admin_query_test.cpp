// The read side: GET /v1/consents (paged export), GET /v1/audit (NDJSON with the hash chain),
// GET /v1/reports/summary and GET /v1/sessions, with their error paths.
#include <doctest/doctest.h>

#include <set>
#include <smppguard/proto/status.hpp>

#include "e2e_admin_support.hpp"

namespace {

using namespace e2e;
using namespace e2e::admin;
namespace cmd = smppguard::proto::cmd;

void import_lines(Harness& h, const std::string& body) {
  Request r;
  r.method = "POST";
  r.path = "/v1/consents/import";
  r.body = body;
  const auto reply = call(h.http_port(), r);
  REQUIRE_MESSAGE(reply.status == 200, reply.body);
  REQUIRE(reply.lines().back().at("summary").as_object().at("rejected").to_number<int>() == 0);
}

json::object mo(const std::string& from, const std::string& to, const std::string& text) {
  json::object o;
  o["from"] = from;
  o["to"] = to;
  o["text"] = text;
  return o;
}

}  // namespace

TEST_SUITE("admin_query") {
  TEST_CASE("export: pages with a cursor, state and program filters, errors") {
    auto hp = admin_harness();
    auto& h = *hp;
    std::string body;
    for (int i = 0; i < 25; ++i) {
      body += import_line("acme-alerts", number(i), i % 5 == 0 ? "opted_out" : "opted_in",
                          i % 5 == 0 ? "" : "express") +
              "\n";
    }
    for (int i = 0; i < 7; ++i) body += import_line("globex-news", number(100 + i)) + "\n";
    import_lines(h, body);

    // Every record once, across pages of 10, programs in config order.
    std::set<std::string> seen;
    std::string cursor;
    int pages = 0;
    std::vector<std::string> order;
    while (true) {
      const auto r = get(h, "/v1/consents?limit=10" + (cursor.empty() ? "" : "&cursor=" + cursor));
      REQUIRE_MESSAGE(r.status == 200, r.body);
      const auto o = r.object();
      for (const auto& c : o.at("consents").as_array()) {
        const auto& rec = c.as_object();
        order.push_back(std::string(rec.at("program").as_string()));
        CHECK(seen.insert(std::string(rec.at("program").as_string()) + " " +
                          std::string(rec.at("msisdn").as_string()))
                  .second);
      }
      ++pages;
      if (o.at("next_cursor").is_null()) break;
      cursor = std::string(o.at("next_cursor").as_string());
      REQUIRE(pages < 10);
    }
    CHECK(seen.size() == 32);
    CHECK(pages == 4);
    CHECK(order.front() == "acme-alerts");
    CHECK(order.back() == "globex-news");

    const auto out = get(h, "/v1/consents?program=acme-alerts&state=opted_out&limit=100").object();
    CHECK(out.at("consents").as_array().size() == 5);
    CHECK(out.at("next_cursor").is_null());
    for (const auto& c : out.at("consents").as_array()) {
      CHECK(c.as_object().at("state").as_string() == "opted_out");
    }
    CHECK(get(h, "/v1/consents?program=globex-news").object().at("consents").as_array().size() ==
          7);
    CHECK(get(h, "/v1/consents?program=nope").status == 404);
    CHECK(get(h, "/v1/consents?program=nope").code() == "unknown_program");
    CHECK(get(h, "/v1/consents?state=happy").code() == "invalid_parameter");
    CHECK(get(h, "/v1/consents?cursor=garbage").code() == "invalid_cursor");
    CHECK(get(h, "/v1/consents?cursor=nope/15551234567").code() == "invalid_cursor");
    CHECK(get(h, "/v1/consents?limit=0").code() == "invalid_parameter");
    CHECK(get(h, "/v1/consents?colour=red").code() == "unknown_parameter");

    // Tenant-wide records (STOPALL) export under tenant:<t>.
    REQUIRE(h.sim().post_mo(mo("15559990001", cfg::kAcmeNumber, "STOPALL")).status == 200);
    REQUIRE(eventually([&] {
      return get(h, "/v1/consents?program=tenant:acme").object().at("consents").as_array().size() ==
             1;
    }));
    CHECK(get(h, "/v1/consents?program=tenant:nobody").status == 404);
  }

  TEST_CASE("audit: NDJSON with hashes, filters by msisdn, program and time, limit") {
    auto hp = admin_harness();
    auto& h = *hp;
    auto tx = h.bind(cmd::kBindTransceiver);
    // Some history: an MT refused, consent by the API, an MO STOP, HELP.
    CHECK(tx->request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "x")).status() == 0x401);
    CHECK(put_consent(h, "acme-alerts", "15551234567",
                      json::parse(R"({"state":"opted_in","level":"express"})").as_object())
              .status == 201);
    REQUIRE(h.sim().post_mo(mo(cfg::kSubscriber, cfg::kAcmeNumber, "Stop")).status == 200);
    REQUIRE(h.sim().post_mo(mo(cfg::kSubscriber, cfg::kAcmeNumber, "HELP")).status == 200);
    import_lines(h, import_line("globex-news", "+15553330001") + "\n");
    // Replies go out and their receipts come back (audited too): let the log settle.
    REQUIRE(eventually([&] {
      return get(h, "/v1/audit?msisdn=%2B15551234567").lines().size() >= 8;  // + sent, receipts
    }));
    std::this_thread::sleep_for(1s);

    const auto all = get(h, "/v1/audit");
    REQUIRE(all.status == 200);
    CHECK(all.header("content-type") == "application/x-ndjson");
    CHECK(all.header("transfer-encoding") == "chunked");
    const auto entries = all.lines();
    REQUIRE(entries.size() >= 7);
    // The chain: seq 1, 2, ...; each prev_hash is the previous entry's hash.
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const auto& e = entries[i];
      CHECK(e.at("seq").to_number<std::size_t>() == i + 1);
      for (const char* key :
           {"time", "program", "msisdn", "event", "old_state", "new_state", "source", "actor",
            "evidence", "mo_text", "keyword", "rule", "prev_hash", "hash"}) {
        CHECK_MESSAGE(e.contains(key), key);
      }
      if (i == 0) {
        CHECK(e.at("prev_hash").as_string() == std::string(64, '0'));
      } else {
        CHECK(e.at("prev_hash").as_string() == entries[i - 1].at("hash").as_string());
      }
    }
    std::vector<std::string> events;
    for (const auto& e : get(h, "/v1/audit?msisdn=%2B15551234567").lines()) {
      CHECK(e.at("msisdn").as_string() == kSub);
      events.emplace_back(e.at("event").as_string());
    }
    REQUIRE(events.size() >= 4);
    CHECK(events[0] == "mt_refused");
    CHECK(events[1] == "opted_in");
    CHECK(std::find(events.begin(), events.end(), "opted_out") != events.end());
    CHECK(std::find(events.begin(), events.end(), "help") != events.end());
    // The STOP entry carries the MO text, the keyword and the rule.
    for (const auto& e : get(h, "/v1/audit?msisdn=15551234567&program=acme-alerts").lines()) {
      if (e.at("event").as_string() != "opted_out") continue;
      CHECK(e.at("mo_text").as_string() == "Stop");
      CHECK(e.at("keyword").as_string() == "STOP");
      CHECK(e.at("rule").as_string() == "exact");
    }
    // A bare '+' in the query decodes to a space: still the same subscriber.
    CHECK(get(h, "/v1/audit?msisdn=+15551234567").lines().size() == events.size());
    CHECK(get(h, "/v1/audit?program=globex-news").lines().size() == 1);
    CHECK(get(h, "/v1/audit?limit=2").lines().size() == 2);
    CHECK(get(h, "/v1/audit?after_seq=2&limit=1").lines().front().at("seq").to_number<int>() == 3);
    CHECK(get(h, "/v1/audit?since=2000-01-01&until=2000-01-02").lines().empty());
    CHECK(get(h, "/v1/audit?since=2000-01-01T00:00:00Z").lines().size() >= entries.size());
    CHECK(get(h, "/v1/audit?until=2000-01-01T00:00:00%2B01:00").lines().empty());
    CHECK(get(h, "/v1/audit?since=2030-01-01&until=2029-01-01").code() == "invalid_parameter");
    // until at the epoch is an empty range, not "no bound" (0 is the scan's "no bound").
    CHECK(get(h, "/v1/audit?until=1970-01-01T00:00:00Z").code() == "invalid_parameter");
    CHECK(get(h, "/v1/audit?msisdn=12").code() == "invalid_msisdn");
    CHECK(get(h, "/v1/audit?since=2026-13-45").code() == "invalid_parameter");
    // Years far from 1970 do not fit the clock (nanoseconds): 400, never an overflow that
    // takes the daemon down.
    CHECK(get(h, "/v1/audit?since=0001-01-01T00:00:00Z").code() == "invalid_parameter");
    CHECK(get(h, "/v1/audit?until=9999-12-31").code() == "invalid_parameter");
    CHECK(get(h, "/v1/reports/summary?since=1000-01-01&until=1000-01-02").code() ==
          "invalid_parameter");
    CHECK(get(h, "/v1/audit?limit=1").lines().size() == 1);
    // ctl audit prints a table, and the raw NDJSON with --json.
    const std::map<std::string, std::string> env = {
        {"SMPPGUARD_URL", "http://127.0.0.1:" + std::to_string(h.http_port())},
        {"SMPPGUARD_TOKEN", kToken}};
    const auto table = run_smppguard({"ctl", "audit", "--msisdn", kSub}, env);
    CHECK_MESSAGE(table.status == 0, table.out);
    CHECK(table.out.find("SEQ") == 0);
    CHECK(table.out.find("keyword STOP (exact)") != std::string::npos);
    const auto raw =
        run_smppguard({"ctl", "--json", "audit", "--program", "globex-news"}, env, false);
    CHECK(raw.out.find("\"program\":\"globex-news\"") != std::string::npos);
  }

  TEST_CASE("reports: per day opt-ins, opt-outs, HELPs and refusals by reason") {
    auto hp = admin_harness();
    auto& h = *hp;
    auto tx = h.bind(cmd::kBindTransceiver);
    CHECK(tx->request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "a")).status() == 0x401);
    CHECK(tx->request(make_submit(cfg::kAcmeNumber, "15557770001", "b")).status() == 0x401);
    import_lines(h, import_line("acme-alerts", "+15557770002") + "\n" +
                        import_line("acme-alerts", "+15557770003") + "\n");
    REQUIRE(h.sim().post_mo(mo("15557770002", cfg::kAcmeNumber, "STOP")).status == 200);
    REQUIRE(h.sim().post_mo(mo("15557770003", cfg::kAcmeNumber, "HELP")).status == 200);
    CHECK(tx->request(make_submit(cfg::kAcmeNumber, "15557770002", "c")).status() == 0x400);
    REQUIRE(eventually([&] {
      return get(h, "/v1/reports/summary")
                 .object()
                 .at("totals")
                 .as_object()
                 .at("refusals_total")
                 .to_number<int>() == 3;
    }));
    const auto o = get(h, "/v1/reports/summary?program=acme-alerts").object();
    CHECK(o.at("program").as_string() == "acme-alerts");
    const auto& days = o.at("days").as_array();
    CHECK(days.size() == 30);
    const auto& today = days.back().as_object();
    CHECK(today.at("opt_ins").to_number<int>() == 2);
    CHECK(today.at("opt_outs").to_number<int>() == 1);
    CHECK(today.at("helps").to_number<int>() == 1);
    CHECK(today.at("refusals").as_object().at("no_consent").to_number<int>() == 2);
    CHECK(today.at("refusals").as_object().at("opted_out").to_number<int>() == 1);
    CHECK(o.at("totals").as_object().at("opt_ins").to_number<int>() == 2);
    CHECK(get(h, "/v1/reports/summary?program=globex-news")
              .object()
              .at("totals")
              .as_object()
              .at("opt_ins")
              .to_number<int>() == 0);
    const auto one = get(h, "/v1/reports/summary?since=2026-01-01&until=2026-01-02").object();
    CHECK(one.at("days").as_array().size() == 1);
    CHECK(get(h, "/v1/reports/summary?since=1990-01-01").code() == "invalid_parameter");
    CHECK(get(h, "/v1/reports/summary?since=bad").code() == "invalid_parameter");
    CHECK(get(h, "/v1/reports/summary?top=3").code() == "unknown_parameter");
  }

  TEST_CASE("sessions: every ESME bind and every upstream bind") {
    auto hp = admin_harness();
    auto& h = *hp;
    auto trx = h.bind(cmd::kBindTransceiver);
    auto rx = h.bind(cmd::kBindReceiver, cfg::kApp2, cfg::kApp2Password);
    CHECK(trx->request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "x")).status() == 0x401);
    const auto o = get(h, "/v1/sessions").object();
    const auto& esme = o.at("esme").as_array();
    REQUIRE(esme.size() == 2);
    const auto& a = esme[0].as_object();
    CHECK(a.at("account").as_string() == cfg::kApp1);
    CHECK(a.at("bind_type").as_string() == "transceiver");
    CHECK(a.at("peer").as_string().find("127.0.0.1:") == 0);
    CHECK(a.at("since").is_string());
    CHECK(a.at("window").to_number<int>() == 64);
    CHECK(a.at("in_flight").to_number<int>() == 0);
    CHECK(a.at("submitted").to_number<int>() == 1);
    CHECK(esme[1].as_object().at("bind_type").as_string() == "receiver");
    CHECK(esme[1].as_object().at("tenant").as_string() == "globex");
    const auto& up = o.at("upstreams").as_array();
    REQUIRE(up.size() == 1);
    CHECK(up[0].as_object().at("upstream").as_string() == "sim");
    CHECK(up[0].as_object().at("state").as_string() == "bound");
    CHECK(up[0].as_object().at("role").as_string() == "transceiver");
    CHECK(up[0].as_object().at("reconnects").is_number());

    // The carrier drops the link: the upstream shows it and comes back.
    h.sim().disconnect();
    REQUIRE(eventually(
        [&] {
          const auto u = get(h, "/v1/sessions").object().at("upstreams").as_array()[0].as_object();
          return u.at("state").as_string() == "bound" && u.at("reconnects").to_number<int>() >= 1;
        },
        20s));
    trx.reset();
    REQUIRE(eventually(
        [&] { return get(h, "/v1/sessions").object().at("esme").as_array().size() == 1; }));

    const std::map<std::string, std::string> env = {
        {"SMPPGUARD_URL", "http://127.0.0.1:" + std::to_string(h.http_port())},
        {"SMPPGUARD_TOKEN", kToken}};
    const auto table = run_smppguard({"ctl", "sessions"}, env);
    CHECK_MESSAGE(table.status == 0, table.out);
    CHECK(table.out.find("ESME binds") == 0);
    CHECK(table.out.find("app2") != std::string::npos);
    CHECK(table.out.find("sim") != std::string::npos);
  }

  TEST_CASE("audit head: published by the API, the metric and the log; verify checks it") {
    auto hp = admin_harness();
    auto& h = *hp;
    REQUIRE(put_consent(h, "acme-alerts", "15551234567",
                        json::parse(R"({"state":"opted_in","level":"express"})").as_object())
                .status == 201);
    const auto head = get(h, "/v1/audit/head");
    REQUIRE(head.status == 200);
    const auto seq = head.object().at("seq").to_number<std::uint64_t>();
    const std::string hash(head.object().at("hash").as_string());
    REQUIRE(seq >= 1);
    // The newest entry of the log, as GET /v1/audit streams it.
    const auto entries = get(h, "/v1/audit").lines();
    REQUIRE(!entries.empty());
    CHECK(entries.back().at("seq").to_number<std::uint64_t>() == seq);
    CHECK(std::string(entries.back().at("hash").as_string()) == hash);
    CHECK(h.metric("smppguard_audit_head_seq").value_or(-1) == static_cast<double>(seq));
    CHECK(get(h, "/v1/audit/head", "").status == 401);  // like every /v1 path: a token
    CHECK(send(h, "POST", "/v1/audit/head", "").status == 405);

    REQUIRE(h.stop_daemon() == std::optional<int>(0));
    CHECK(h.daemon_log().find("event=audit_head seq=" + std::to_string(seq) + " hash=" + hash) !=
          std::string::npos);
    const std::string store = h.store_path().string();
    auto good = run_smppguard(
        {"audit", "verify", "--store", store, "--expect-head", std::to_string(seq) + ":" + hash});
    CHECK_MESSAGE(good.status == 0, good.out);
    CHECK(good.out.find("matches the expected hash") != std::string::npos);
    // What an operator sees after the whole chain was rewritten: the anchor no longer matches.
    auto other = run_smppguard({"audit", "verify", "--store", store, "--expect-head",
                                std::to_string(seq) + ":" + std::string(64, 'a')});
    CHECK(other.status == 1);
    CHECK(other.out.find("does NOT match the expected hash") != std::string::npos);
    auto bad = run_smppguard({"audit", "verify", "--store", store, "--expect-head", "x"});
    CHECK(bad.status == 2);
  }

}  // TEST_SUITE
