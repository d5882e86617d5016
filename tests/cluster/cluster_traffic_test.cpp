// Cluster mode under traffic: three nodes behind haproxy (TCP mode), each with its own carrier,
// one PostgreSQL.
//   cluster_traffic — kill -9 of a node mid-traffic: ESMEs rebind through haproxy, every MT
//                     acknowledged reached a carrier, every STOP acknowledged anywhere refuses
//                     MTs on every node, and the node catches up when it comes back;
//                     PostgreSQL restarted mid-traffic: MTs keep flowing from the replicas,
//                     STOPs answered ESME_RMSGQFUL are resent until taken, none acknowledged
//                     is lost.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <set>
#include <smppguard/proto/status.hpp>
#include <thread>

#include "cluster_support.hpp"
#include "consent_support.hpp"
#include "haproxy.hpp"

namespace {

using namespace e2e;
using namespace e2e::admin;
using namespace e2e::cluster;
namespace cmd = smppguard::proto::cmd;
namespace st = smppguard::proto::status;

// MTs from one ESME through `port` (haproxy's) until `stop`: one bind at a time, bound again
// whenever the connection breaks. Records each MT's outcome by its unique text.
struct MtLoad {
  std::map<std::string, std::uint32_t> acknowledged;  // text -> status of the submit_sm_resp
  std::atomic<int> rebinds{0};                        // read by the test while the load runs
  int unanswered = 0;  // submitted, then the connection broke: outcome unknown to the ESME
  int bind_failures = 0;
  std::string last_error;
};

void mt_load(std::uint16_t port, const std::vector<std::string>& to, const std::string& tag,
             std::atomic<bool>& stop, MtLoad& out) {
  std::unique_ptr<SmppClient> c;
  for (std::uint64_t i = 0; !stop; ++i) {
    try {
      if (!c) {
        c = std::make_unique<SmppClient>(port);
        c->bind_ok(cmd::kBindTransmitter, cfg::kApp1, cfg::kApp1Password);
        ++out.rebinds;
      }
      const std::string text = tag + "-" + std::to_string(i);
      const auto msisdn = to[i % to.size()].substr(1);
      try {
        const auto resp = c->request(make_submit(cfg::kAcmeNumber, msisdn, text), 5s);
        out.acknowledged[text] = resp.status();
      } catch (const std::exception&) {
        ++out.unanswered;
        c.reset();
      }
    } catch (const std::exception& e) {
      ++out.bind_failures;
      out.last_error = e.what();
      c.reset();  // haproxy had no node for us yet, or the bind broke
      std::this_thread::sleep_for(50ms);
    }
  }
}

// Every MT text the carriers of `nodes` received.
std::set<std::string> carrier_texts(const std::vector<Harness*>& nodes) {
  std::set<std::string> out;
  for (auto* h : nodes) {
    for (const auto& m : h->sim().messages("submit_sm")) out.insert(json_string(m, "text"));
  }
  return out;
}

// A STOP from `msisdn` through `h`'s carrier, resent while it is answered with a temporary error
// or not answered in time (as a carrier does); the number of such attempts, or -1 when it was
// never taken.
int stop_until_taken(Harness& h, const std::string& msisdn, std::chrono::milliseconds within) {
  int temporary = 0;
  const auto until = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < until) {
    json::object mo;
    mo["from"] = msisdn;
    mo["to"] = cfg::kAcmeNumber;
    mo["text"] = "STOP";
    const auto r = h.sim().post_mo(mo);
    if (r.status == 200 && json_int(json::parse(r.body).as_object(), "status") == 0) {
      return temporary;
    }
    if (r.status != 200) MESSAGE("STOP not answered in time: ", r.body);
    ++temporary;
    std::this_thread::sleep_for(100ms);
  }
  return -1;
}

}  // namespace

TEST_SUITE("cluster_traffic") {
  TEST_CASE("kill -9 of a node mid-traffic: ESMEs rebind through haproxy, nothing is lost") {
    PgServer pg;
    auto n1 = node(pg, "gw1");
    auto n2 = node(pg, "gw2");
    auto n3 = node(pg, "gw3");
    std::vector<Harness*> nodes = {n1.get(), n2.get(), n3.get()};
    Haproxy lb(n1->dir().path(), {n1->smpp_port(), n2->smpp_port(), n3->smpp_port()});

    // 20 subscribers opted in (on gw1); 10 more will text STOP during the traffic.
    std::vector<std::string> receivers, stoppers;
    for (int i = 0; i < 20; ++i) receivers.push_back(number(100 + i));
    for (int i = 0; i < 10; ++i) stoppers.push_back(number(200 + i));
    for (const auto& m : receivers)
      REQUIRE(put_consent(*n1, "acme-alerts", m, consent_body("opted_in")).status == 201);
    for (const auto& m : stoppers)
      REQUIRE(put_consent(*n1, "acme-alerts", m, consent_body("opted_in")).status == 201);
    REQUIRE(eventually(
        [&] { return get(*n3, "/v1/consents/acme-alerts/" + stoppers.back()).status == 200; }, 2s));

    std::atomic<bool> stop{false};
    constexpr int kEsmes = 3;
    std::vector<MtLoad> loads(kEsmes);
    std::vector<std::thread> esmes;
    for (int e = 0; e < kEsmes; ++e) {
      esmes.emplace_back(mt_load, lb.port(), std::cref(receivers), "esme" + std::to_string(e),
                         std::ref(stop), std::ref(loads[e]));
    }
    std::this_thread::sleep_for(1s);
    // STOPs on gw1 and gw3 while gw2 dies.
    int stops_taken = 0;
    for (std::size_t i = 0; i < stoppers.size(); ++i) {
      if (i == stoppers.size() / 2) n2->kill9_daemon();
      if (stop_until_taken(i % 2 ? *n3 : *n1, stoppers[i], 10s) >= 0) ++stops_taken;
    }
    // The ESME that was on gw2 binds again through haproxy, to another node.
    const bool rebound = eventually(
        [&] {
          int n = 0;
          for (const auto& l : loads) n += l.rebinds;
          return n > kEsmes;
        },
        20s);
    std::this_thread::sleep_for(1s);
    stop = true;
    for (auto& t : esmes) t.join();
    CHECK(rebound);

    // Every MT acknowledged OK reached a carrier, and none was refused.
    const auto texts = carrier_texts(nodes);
    int acked = 0, missing = 0, refused = 0, rebinds = 0, unanswered = 0;
    for (const auto& l : loads) {
      for (const auto& [text, status] : l.acknowledged) {
        if (status != st::kEsmeRok) {
          ++refused;
          continue;
        }
        ++acked;
        missing += texts.count(text) ? 0 : 1;
      }
      rebinds += l.rebinds;
      unanswered += l.unanswered;
      if (l.bind_failures) MESSAGE("bind failures ", l.bind_failures, ": ", l.last_error);
    }
    MESSAGE("cluster kill: MTs acknowledged ", acked, ", missing at the carriers ", missing,
            ", refused ", refused, ", unanswered at the kill ", unanswered, ", binds ", rebinds);
    CHECK(acked > 100);
    CHECK(missing == 0);
    CHECK(refused == 0);
    CHECK(stops_taken == static_cast<int>(stoppers.size()));

    // gw2 comes back, catches up, and refuses every STOPped subscriber like the others.
    n2->start_daemon(true);
    for (auto* h : nodes) {
      for (const auto& m : stoppers) CHECK(mt_status(*h, m.substr(1)) == kOptedOut);
      CHECK(mt_status(*h, receivers.front().substr(1)) == st::kEsmeRok);
    }
  }

  TEST_CASE("PostgreSQL restarted mid-traffic: MTs flow, STOPs are resent until taken") {
    PgServer pg;
    auto a = node(pg, "gw1");
    auto b = node(pg, "gw2");
    Haproxy lb(a->dir().path(), {a->smpp_port(), b->smpp_port()});
    std::vector<std::string> receivers, stoppers;
    for (int i = 0; i < 10; ++i) receivers.push_back(number(300 + i));
    for (int i = 0; i < 12; ++i) stoppers.push_back(number(400 + i));
    for (const auto& m : receivers)
      REQUIRE(put_consent(*a, "acme-alerts", m, consent_body("opted_in")).status == 201);
    for (const auto& m : stoppers)
      REQUIRE(put_consent(*b, "acme-alerts", m, consent_body("opted_in")).status == 201);
    REQUIRE(eventually(
        [&] { return get(*a, "/v1/consents/acme-alerts/" + stoppers.back()).status == 200; }, 2s));

    std::atomic<bool> stop{false};
    std::vector<MtLoad> loads(2);
    std::vector<std::thread> esmes;
    for (int e = 0; e < 2; ++e) {
      esmes.emplace_back(mt_load, lb.port(), std::cref(receivers), "esme" + std::to_string(e),
                         std::ref(stop), std::ref(loads[e]));
    }
    int temporary = 0, taken = 0;
    std::jthread restart;  // joined on every way out
    for (std::size_t i = 0; i < stoppers.size(); ++i) {
      if (i == 4) {
        pg.stop();
        restart = std::jthread([&] {
          std::this_thread::sleep_for(2s);
          pg.start();
        });
      }
      const int t = stop_until_taken(i % 2 ? *b : *a, stoppers[i], 30s);
      if (t >= 0) {
        ++taken;
        temporary += t;
      }
    }
    if (restart.joinable()) restart.join();
    std::this_thread::sleep_for(500ms);
    stop = true;
    for (auto& t : esmes) t.join();

    std::map<std::uint32_t, int> statuses;
    int acked = 0;
    for (const auto& l : loads) {
      for (const auto& [text, status] : l.acknowledged) {
        ++statuses[status];
        acked += status == st::kEsmeRok;
      }
    }
    MESSAGE("cluster PostgreSQL restart: STOPs taken ", taken, " (", temporary,
            " answered ESME_RMSGQFUL first); MTs acknowledged ", acked);
    CHECK(taken == static_cast<int>(stoppers.size()));
    CHECK(temporary > 0);         // some STOPs met the outage
    CHECK(statuses.size() == 1);  // every MT forwarded, during the outage too
    CHECK(acked > 50);
    const auto texts = carrier_texts({a.get(), b.get()});
    int missing = 0;
    for (const auto& l : loads) {
      for (const auto& [text, status] : l.acknowledged) missing += texts.count(text) ? 0 : 1;
    }
    CHECK(missing == 0);
    // Every STOP acknowledged is refused on both nodes.
    for (auto* h : {a.get(), b.get()}) {
      for (const auto& m : stoppers) {
        CHECK(eventually([&] { return mt_status(*h, m.substr(1)) == kOptedOut; }, 2s));
      }
    }
    CHECK(pg.psql("SELECT count(*) FROM smppguard.consents WHERE state = 'opted_out'") ==
          std::to_string(stoppers.size()) + "\n");
  }
}  // TEST_SUITE
