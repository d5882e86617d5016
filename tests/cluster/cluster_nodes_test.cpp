// Cluster mode end to end: real smppguard nodes (each with its own carrier simulator and store)
// sharing one real PostgreSQL 15 (tests/e2e/pg_server.hpp), driven over SMPP and HTTP.
//   cluster_nodes — a STOP taken by one node refuses the next MT on another; an API opt-in on
//                   one node lets MTs pass on another; both replicas hold the same audit chain,
//                   and PostgreSQL holds it too; a YES or STOP on one node releases or fails
//                   the MTs held on another; a node that was down catches up at start.
//                   GET /v1/cluster and ctl cluster show the nodes, a dead one as down.
//   cluster_catch_up — a new empty node replays 100,000 imported records, refusing MTs and
//                   answering /readyz 503 until it has them all.
//   cluster_start — a second live process with the same node_id exits 2 naming it; a bad
//                   connection string and an unreachable server exit 1 with a clear error; a
//                   store with a single-node history is refused; a node without a cluster
//                   section has no /v1/cluster.
//   cluster_outage — PostgreSQL stopped: consent changes are refused (API 503
//                   cluster_unavailable, a STOP answered ESME_RMSGQFUL so the carrier resends it),
//                   MTs go on from the replica; once it is back the resent STOP is taken.
#include <doctest/doctest.h>

#include <fstream>
#include <smppguard/proto/status.hpp>

#include "cluster_support.hpp"
#include "consent_support.hpp"

namespace {

using namespace e2e;
using namespace e2e::admin;
using namespace e2e::cluster;
namespace cmd = smppguard::proto::cmd;
namespace st = smppguard::proto::status;

// The consent state node `h` holds for `msisdn` ("+digits"; "none" without a record).
std::string state_on(Harness& h, const std::string& msisdn = std::string("+") + cfg::kSubscriber) {
  const auto r = get(h, "/v1/consents/acme-alerts/" + msisdn);
  if (r.status == 404) return "none";
  if (r.status != 200) return "error " + std::to_string(r.status);
  return std::string(r.object().at("state").as_string());
}

// Whether node `h` shows `state` for `msisdn` within SPEC section 9's bound of 2 s.
bool becomes(Harness& h, const std::string& state,
             const std::string& msisdn = std::string("+") + cfg::kSubscriber) {
  return eventually([&] { return state_on(h, msisdn) == state; }, 2s);
}

std::string audit_head(Harness& h) {
  const auto r = get(h, "/v1/audit/head");
  return r.status == 200 ? r.body : "error " + std::to_string(r.status);
}

// Runs `smppguard run` on a config whose cluster section is `postgres`; its exit status and
// output.
RunResult run_with_postgres(TempDir& dir, const std::string& postgres) {
  ConfigSpec spec;
  spec.store_path = (dir.path() / "store-bad").string();
  spec.cluster_postgres = postgres;
  spec.upstream_port = free_loopback_port();
  const auto path = dir.path() / "bad.yaml";
  write_file(path, spec.render());
  return run_smppguard({"run", "--config", path.string()});
}

}  // namespace

TEST_SUITE("cluster_nodes") {
  TEST_CASE("a STOP on node A refuses the next MT on node B; an API opt-in on B passes on A") {
    PgServer pg;
    auto a = node(pg, "gw1");
    auto b = node(pg, "gw2");

    // Consent given on A by the subscriber (START through A's carrier) governs B.
    a->opt_in(cfg::kSubscriber, cfg::kAcmeNumber);
    REQUIRE(becomes(*b, "opted_in"));
    CHECK(mt_status(*b) == st::kEsmeRok);

    // STOP through A's carrier: acknowledged only once PostgreSQL has it, so B knows at once.
    CHECK(consent::mo(a->sim(), cfg::kSubscriber, cfg::kAcmeNumber, "STOP") == st::kEsmeRok);
    REQUIRE(becomes(*b, "opted_out"));
    CHECK(mt_status(*b) == kOptedOut);
    CHECK(mt_status(*a) == kOptedOut);

    // The subscriber's START through B's carrier; A follows.
    CHECK(consent::mo(b->sim(), cfg::kSubscriber, cfg::kAcmeNumber, "START") == st::kEsmeRok);
    CHECK(mt_status(*b) == st::kEsmeRok);  // read your writes on B
    REQUIRE(becomes(*a, "opted_in"));
    CHECK(mt_status(*a) == st::kEsmeRok);

    // An operator's opt-in on B for another subscriber passes on A; a DELETE on A refuses on B.
    const std::string other = number(7);
    const auto put = put_consent(*b, "acme-alerts", other, consent_body("opted_in"));
    REQUIRE_MESSAGE(put.status == 201, put.body);
    REQUIRE(becomes(*a, "opted_in", other));
    CHECK(mt_status(*a, other.substr(1)) == st::kEsmeRok);
    const auto del = send(*a, "DELETE", "/v1/consents/acme-alerts/" + other, "");
    REQUIRE_MESSAGE(del.status == 200, del.body);
    CHECK(mt_status(*a, other.substr(1)) == kOptedOut);
    REQUIRE(becomes(*b, "opted_out", other));
    CHECK(mt_status(*b, other.substr(1)) == kOptedOut);

    // One history: both replicas end at the same audit head, which is PostgreSQL's last entry
    // (receipts of the proxy's messages still add entries meanwhile: wait for a quiet moment).
    std::string head_a, head_b, head_pg;
    const bool same = eventually(
        [&] {
          head_a = audit_head(*a);
          head_b = audit_head(*b);
          head_pg = pg.psql(
              "SELECT json_build_object('seq', seq, 'hash', hash)::text FROM smppguard.audit "
              "ORDER BY seq DESC LIMIT 1");
          return head_a == head_b && json::parse(head_a) == json::parse(head_pg);
        },
        5s);
    CHECK_MESSAGE(same, head_a, " ", head_b, " ", head_pg);
    const auto seq = json::parse(head_a).at("seq").as_int64();
    CHECK(seq >= 7);
    CHECK(pg.psql("SELECT count(*) = max(seq) AND min(seq) = 1 FROM smppguard.audit") == "t\n");
    // `audit verify --config` walks PostgreSQL's chain, anchored at A's head; an edited entry is
    // named.
    const std::string anchor =
        std::to_string(seq) + ":" + std::string(json::parse(head_a).at("hash").as_string());
    const auto whole = run_smppguard(
        {"audit", "verify", "--config", a->config_path().string(), "--expect-head", anchor});
    CHECK_MESSAGE(whole.status == 0, whole.out);
    CHECK(whole.out.find("audit chain (PostgreSQL) whole: ") != std::string::npos);
    CHECK(whole.out.find("matches the expected hash") != std::string::npos);
    pg.psql(
        "UPDATE smppguard.audit SET entry = set_byte(entry, 40, get_byte(entry, 40) # 1) "
        "WHERE seq = 3");
    const auto broken = run_smppguard({"audit", "verify", "--config", a->config_path().string()});
    CHECK(broken.status == 1);
    CHECK_MESSAGE(
        broken.out.find("audit chain (PostgreSQL) BROKEN at seq 3: ") != std::string::npos,
        broken.out);
    CHECK(pg.psql("SELECT msisdn, state FROM smppguard.consents WHERE owner = 'acme-alerts' "
                  "ORDER BY msisdn") == other + "|opted_out\n+" + cfg::kSubscriber + "|opted_in\n");
    // The nodes' heartbeats.
    CHECK(eventually(
        [&] {
          return pg.psql(
                     "SELECT node_id, state FROM smppguard.nodes WHERE last_seen > now() - "
                     "interval '5 seconds' ORDER BY node_id") == "gw1|up\ngw2|up\n";
        },
        5s));
  }

  TEST_CASE("a YES on node B releases the MTs held on node A, in their original order") {
    PgServer pg;
    auto a = node(pg, "gw1");
    auto b = node(pg, "gw2");
    // acme-promo (confirm mode): MTs to a subscriber without consent are held on A, which asks.
    auto tx = a->bind(cmd::kBindTransmitter);
    for (const char* text : {"first held", "second held"}) {
      CHECK(tx->request(make_submit(kPromoNumber, cfg::kSubscriber, text, 1)).status() ==
            st::kEsmeRok);
    }
    REQUIRE(eventually(
        [&] {
          const auto m = a->sim().messages("submit_sm");
          return m.size() == 1 && json_string(m[0], "text").find("Reply YES") != std::string::npos;
        },
        5s));
    REQUIRE(eventually(
        [&] {
          return get(*b, "/v1/consents/acme-promo/%2B" + std::string(cfg::kSubscriber)).status ==
                 200;
        },
        2s));
    // The subscriber answers through B's carrier.
    CHECK(consent::mo(b->sim(), cfg::kSubscriber, kPromoNumber, "YES") == st::kEsmeRok);
    // A sends the held MTs, in their original order (B had none to send).
    std::vector<std::string> texts;
    CHECK(eventually(
        [&] {
          texts.clear();
          for (const auto& m : a->sim().messages("submit_sm"))
            texts.push_back(json_string(m, "text"));
          return texts.size() >= 3;
        },
        5s));
    REQUIRE(texts.size() == 3);
    CHECK(texts[1] == "first held");
    CHECK(texts[2] == "second held");
    CHECK(a->metric("smppguard_queue_depth", {{"queue", "held_mt"}}) == 0.0);
    for (const auto& m : b->sim().messages("submit_sm")) {
      CHECK(json_string(m, "text").find("held") == std::string::npos);
    }

    // A STOP on B fails what A holds for another subscriber (its REJECTD receipt is A's).
    const std::string other = "15550300002";
    CHECK(tx->request(make_submit(kPromoNumber, other, "third held", 1)).status() == st::kEsmeRok);
    REQUIRE(eventually([&] { return get(*b, "/v1/consents/acme-promo/%2B" + other).status == 200; },
                       2s));
    CHECK(consent::mo(b->sim(), other, kPromoNumber, "STOP") == st::kEsmeRok);
    CHECK(eventually(
        [&] {
          return a->metric("smppguard_queue_depth", {{"queue", "held_mt"}}) == 0.0;
        },
        5s));
    for (const auto& m : a->sim().messages("submit_sm")) {
      CHECK(json_string(m, "text") != "third held");
    }
  }

  TEST_CASE("a receipt that reaches the node without its route is answered 0x14 and resent") {
    PgServer pg;
    // One carrier for both nodes; it sends each receipt to its binds in turn, and only when
    // asked (POST /receipt).
    HarnessOptions with_sim;
    with_sim.sim_args = {"--receipt-delay", "1h"};
    auto a = node(pg, "gw1", std::move(with_sim));
    HarnessOptions shared;
    shared.simulator = false;
    shared.upstream_port = a->sim().smpp_port();
    auto b = node(pg, "gw2", std::move(shared));
    REQUIRE(b->wait_readyz(200));
    REQUIRE(put_consent(*a, "acme-alerts", "%2B" + std::string(cfg::kSubscriber),
                        consent_body("opted_in"))
                .status == 201);
    auto rx = a->bind(cmd::kBindTransceiver);
    CHECK(
        rx->request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "with receipts", 1)).status() ==
        st::kEsmeRok);
    REQUIRE(eventually([&] { return a->sim().messages("submit_sm").size() == 1; }, 5s));
    const auto carrier_id = json_string(a->sim().messages("submit_sm")[0], "message_id");
    // Like a carrier: send it until it is taken. Twice (two receipts of the message): after one
    // taken by A the next goes to B first, which does not know the message.
    std::vector<std::int64_t> answers;
    for (int receipt = 0; receipt < 2; ++receipt) {
      for (int attempt = 0; attempt < 6; ++attempt) {
        const auto r = a->sim().post_receipt(carrier_id);
        REQUIRE_MESSAGE(r.status == 200, r.body);
        answers.push_back(json_int(json::parse(r.body).as_object(), "status"));
        if (answers.back() == 0) break;
      }
    }
    CHECK(std::count(answers.begin(), answers.end(), 0) == 2);
    CHECK(std::count(answers.begin(), answers.end(), st::kEsmeRmsgqful) >= 1);
    CHECK(answers.size() == 2 + static_cast<std::size_t>(
                                    std::count(answers.begin(), answers.end(), st::kEsmeRmsgqful)));
    // Both reach the account, under the id A gave it.
    int receipts = 0;
    while (auto f = rx->receive_deliver(0, 3s)) receipts += consent::is_receipt(*f) ? 1 : 0;
    CHECK(receipts == 2);
  }

  TEST_CASE("GET /v1/cluster and ctl cluster show every node, its lag and binds, and the primary") {
    PgServer pg;
    auto a = node(pg, "gw1");
    auto b = node(pg, "gw2");
    json::object o;
    const bool both_up = eventually(
        [&] {
          const auto r = get(*b, "/v1/cluster");
          if (r.status != 200) return false;
          o = r.object();
          const auto& nodes = o.at("nodes").as_array();
          if (nodes.size() != 2) return false;
          for (const auto& n : nodes) {
            if (n.at("state").as_string() != "up" || n.at("binds").at("upstream").as_int64() != 1) {
              return false;
            }
          }
          return true;
        },
        5s);
    REQUIRE_MESSAGE(both_up, json::serialize(o));
    CHECK(o.at("node_id").as_string() == "gw2");
    CHECK(o.at("postgres").at("state").as_string() == "up");
    CHECK(o.at("postgres").at("primary").as_string() == "127.0.0.1:" + std::to_string(pg.port()));
    const auto& first = o.at("nodes").as_array().at(0).as_object();
    CHECK(first.at("node_id").as_string() == "gw1");
    CHECK(first.at("lag_ms").is_int64());
    CHECK(first.at("last_seen").as_string().size() == 24);  // 2026-12-04T18:57:31.507Z

    const auto ctl =
        run_smppguard({"ctl", "--url", "http://127.0.0.1:" + std::to_string(a->http_port()),
                       "--token", kToken, "cluster"});
    CHECK(ctl.status == 0);
    CHECK_MESSAGE(ctl.out.find("this node gw1; PostgreSQL up") != std::string::npos, ctl.out);
    CHECK_MESSAGE(ctl.out.find("gw2") != std::string::npos, ctl.out);

    // A node gone quiet for 10 s is down, its lag unknown.
    b->kill9_daemon();
    REQUIRE(eventually(
        [&] {
          const auto r = get(*a, "/v1/cluster");
          if (r.status != 200) return false;
          o = r.object();
          const auto& gw2 = o.at("nodes").as_array().at(1).as_object();
          return gw2.at("state").as_string() == "down" && gw2.at("lag_ms").is_null();
        },
        20s));
  }

  TEST_CASE("a node that was down catches up when it starts") {
    PgServer pg;
    auto a = node(pg, "gw1");
    auto b = node(pg, "gw2");
    b->stop_daemon();
    a->opt_in(cfg::kSubscriber, cfg::kAcmeNumber);
    constexpr int kRecords = 50;
    for (int i = 0; i < kRecords; ++i) {
      const auto r = put_consent(*a, "acme-alerts", number(i), consent_body("opted_in"));
      REQUIRE_MESSAGE(r.status == 201, r.body);
    }
    CHECK(consent::mo(a->sim(), cfg::kSubscriber, cfg::kAcmeNumber, "STOP") == st::kEsmeRok);
    b->start_daemon(true);
    CHECK(state_on(*b) == "opted_out");
    CHECK(mt_status(*b) == kOptedOut);
    CHECK(get(*b, "/v1/consents/acme-alerts/" + number(kRecords - 1)).status == 200);
    CHECK(eventually([&] { return audit_head(*a) == audit_head(*b); }, 5s));
    CHECK(b->daemon_log().find("event=cluster_caught_up") != std::string::npos);
  }
}  // TEST_SUITE

TEST_SUITE("cluster_catch_up") {
  TEST_CASE("a new empty node catches up 100,000 records, and is not ready until it has") {
    PgServer pg;
    auto a = node(pg, "gw1");
    constexpr int kRecords = 100000;
    const auto file = a->dir().path() / "consents.ndjson";
    {
      std::ofstream out(file);
      for (int i = 0; i < kRecords; ++i) out << import_line("acme-alerts", number(i)) << "\n";
    }
    const auto imported =
        run_smppguard({"ctl", "import", file.string()},
                      {{"SMPPGUARD_URL", "http://127.0.0.1:" + std::to_string(a->http_port())},
                       {"SMPPGUARD_TOKEN", kToken}});
    REQUIRE_MESSAGE(imported.status == 0, imported.out);
    REQUIRE(pg.psql("SELECT count(*) FROM smppguard.consents") == std::to_string(kRecords) + "\n");

    // A new node with an empty store: not ready (and refusing MTs) until it has every record.
    HarnessOptions o;
    o.wait_ready = false;
    const auto t0 = std::chrono::steady_clock::now();
    auto b = node(pg, "gw2", std::move(o));
    bool saw_not_ready = false;
    bool saw_refusal = false;
    const bool ready = eventually(
        [&] {
          const auto r = b->daemon_get("/readyz");
          if (r.status == 503) {
            saw_not_ready = saw_not_ready || r.body.find("\"replica\":false") != std::string::npos;
            if (!saw_refusal) {
              saw_refusal = mt_status(*b, number(kRecords - 1).substr(1)) == 0x406;
            }
          }
          return r.status == 200;
        },
        240s);
    const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    REQUIRE(ready);
    MESSAGE("catch-up of ", kRecords, " records: ready after ", took, " s");
    CHECK(saw_not_ready);
    CHECK(saw_refusal);
    CHECK(eventually([&] { return audit_head(*a) == audit_head(*b); }, 5s));
    for (int i : {0, 4711, kRecords - 1}) {
      CHECK(state_on(*b, number(static_cast<std::uint64_t>(i))) == "opted_in");
    }
    CHECK(mt_status(*b, number(kRecords - 1).substr(1)) == st::kEsmeRok);
  }
}  // TEST_SUITE

TEST_SUITE("cluster_start") {
  TEST_CASE("a second live process with the same node_id exits 2 and names the id") {
    PgServer pg;
    auto a = node(pg, "gw1");
    // Another store, the same node_id: refused before it opens its store.
    ConfigSpec twin = a->config();
    twin.store_path = (a->dir().path() / "store-twin").string();
    const auto path = a->dir().path() / "twin.yaml";
    write_file(path, twin.render());
    const auto r = run_smppguard({"run", "--config", path.string()});
    CHECK(r.status == 2);
    CHECK_MESSAGE(
        r.out.find("node_id gw1 is held by another live smppguard process") != std::string::npos,
        r.out);
    CHECK_FALSE(std::filesystem::exists(twin.store_path));
    // Once the first is gone (kill -9: PostgreSQL ends its session), the id is free again.
    a->kill9_daemon();
    a->start_daemon(true);
    CHECK(a->wait_readyz(200));
  }

  TEST_CASE("a store with a single-node history does not start as a cluster node") {
    PgServer pg;
    auto h = admin_harness();
    h->opt_in(cfg::kSubscriber, cfg::kAcmeNumber);  // audit entries of its own
    REQUIRE(h->stop_daemon() == 0);
    ConfigSpec spec = h->config();
    spec.cluster_postgres = pg.conninfo();
    const auto path = h->dir().path() / "cluster.yaml";
    write_file(path, spec.render());
    const auto r = run_smppguard({"run", "--config", path.string()});
    CHECK(r.status == 1);
    CHECK_MESSAGE(r.out.find("audit entries of its own (single-node mode); a cluster node needs "
                             "an empty store") != std::string::npos,
                  r.out);
    CHECK(pg.psql("SELECT count(*) FROM smppguard.consent_log") == "0\n");
  }

  TEST_CASE("a node without a cluster section answers /v1/cluster 404 cluster_off") {
    auto h = admin_harness();
    const auto r = get(*h, "/v1/cluster");
    CHECK(r.status == 404);
    CHECK(r.code() == "cluster_off");
    CHECK(h->metric("smppguard_cluster_up") == std::nullopt);
  }

  TEST_CASE("a bad connection string or an unreachable server: exit 1 with a clear error") {
    TempDir dir;
    const auto bad = run_with_postgres(dir, "host=127.0.0.1 bogus_key=1");
    CHECK(bad.status == 1);
    CHECK_MESSAGE(bad.out.find("cluster: cannot connect to PostgreSQL") != std::string::npos,
                  bad.out);
    CHECK_MESSAGE(bad.out.find("bogus_key") != std::string::npos, bad.out);

    const auto port = std::to_string(free_loopback_port());
    const auto t0 = std::chrono::steady_clock::now();
    const auto down =
        run_with_postgres(dir, "host=127.0.0.1 port=" + port + " user=smppguard connect_timeout=2");
    CHECK(down.status == 1);
    CHECK_MESSAGE(down.out.find("cluster: cannot connect to PostgreSQL") != std::string::npos,
                  down.out);
    CHECK_MESSAGE(down.out.find(port) != std::string::npos, down.out);
    CHECK(std::chrono::steady_clock::now() - t0 < 30s);  // a bound, not a hang
  }
}  // TEST_SUITE

TEST_SUITE("cluster_outage") {
  TEST_CASE("PostgreSQL down: consent changes refused, MTs flow from the replica, STOP resent") {
    PgServer pg;
    auto a = node(pg, "gw1");
    a->opt_in(cfg::kSubscriber, cfg::kAcmeNumber);
    REQUIRE(mt_status(*a) == st::kEsmeRok);

    pg.stop();
    // MTs: decided from the local replica.
    CHECK(mt_status(*a) == st::kEsmeRok);
    // API writes: 503 cluster_unavailable; nothing changed.
    const auto put = put_consent(*a, "acme-alerts", number(1), consent_body("opted_in"));
    CHECK(put.status == 503);
    CHECK(put.code() == "cluster_unavailable");
    CHECK(get(*a, "/v1/consents/acme-alerts/" + number(1)).status == 404);
    // A STOP cannot be committed: ESME_RMSGQFUL, so that the carrier sends it again.
    CHECK(consent::mo(a->sim(), cfg::kSubscriber, cfg::kAcmeNumber, "STOP") == st::kEsmeRmsgqful);
    CHECK(state_on(*a) == "opted_in");
    // A plain MO is taken (its implied-consent refresh waits for the cluster).
    CHECK(consent::mo(a->sim(), cfg::kSubscriber, cfg::kAcmeNumber, "see you at five") ==
          st::kEsmeRok);
    CHECK(eventually([&] { return a->metric("smppguard_cluster_up") == 0.0; }, 5s));

    pg.start();
    // The carrier's resend is taken once PostgreSQL is back.
    std::int64_t status = -1;
    CHECK(eventually(
        [&] {
          status = consent::mo(a->sim(), cfg::kSubscriber, cfg::kAcmeNumber, "STOP");
          return status == st::kEsmeRok;
        },
        20s));
    CHECK(state_on(*a) == "opted_out");
    CHECK(mt_status(*a) == kOptedOut);
    CHECK(eventually([&] { return a->metric("smppguard_cluster_up") == 1.0; }, 5s));
    CHECK(pg.psql("SELECT state FROM smppguard.consents WHERE owner = 'acme-alerts'") ==
          "opted_out\n");
  }
}  // TEST_SUITE
