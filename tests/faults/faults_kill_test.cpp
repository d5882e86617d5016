// kill -9 of the daemon under traffic (the fault campaign's loop, and item 2):
//   kill_loop   — STOPs and ordinary MOs flow from the carrier while the daemon is killed and
//                 restarted again and again. Afterwards every STOP the carrier saw acknowledged is
//                 refused (0x400), got its confirmation at the carrier, and every acknowledged MO
//                 reached the tenant. Losses fail the test; duplicates (at least once) are
//                 reported. SMPPGUARD_FAULT_CYCLES sets the cycles (default 20; scripts/faults.sh
//                 --cycles N runs more).
//   outbox_kill — with the upstream throttled to 5/s, YES releases held MTs and STOPs are
//                 confirmed, and the daemon is killed before the proxy's messages can all have
//                 gone: after the restart every released MT and every confirmation reaches the
//                 carrier (they were lost: released and confirmed in memory only).
//   receipt_kill — receipts come from the carrier while no receiver of the account is bound, so
//                 the proxy queues them, and the daemon is killed again and again meanwhile:
//                 every receipt the carrier saw acknowledged reaches the account once it binds.
//   api_kill    — an API consent change is answered, and the daemon killed at once: what the
//                 change sends (the held MTs it releases, the opt-in request of confirm: true)
//                 still reaches the carrier after the restart (they were staged in a second
//                 commit after the answer, which the kill could cut off).
//   multipart_restart — a STOP sent in two parts with a kill -9 between them opts the subscriber
//                 out (item 7: parts were reassembled in memory, so the restart cut it in two).
#include <doctest/doctest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/status.hpp>
#include <sstream>
#include <thread>

#include "consent_support.hpp"
#include "e2e_admin_support.hpp"
#include "harness.hpp"

namespace {

using namespace e2e;
using namespace e2e::consent;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace cmd = smppguard::proto::cmd;

// Posts one MO through the carrier; true when the proxy acknowledged it (deliver_sm_resp OK).
bool acknowledged_mo(Simulator& sim, const std::string& from, const std::string& text) {
  json::object body;
  body["from"] = "+" + from;
  body["to"] = cfg::kAcmeNumber;
  body["text"] = text;
  const auto r = sim.post_mo(body, 10s);
  if (r.status != 200) return false;
  return json_int(json::parse(r.body).as_object(), "status") == 0;
}

// How often each subscriber received `text` from the carrier's point of view.
std::map<std::string, int> carrier_texts_to(Simulator& sim, const std::string& text) {
  std::map<std::string, int> out;
  for (const auto& m : carrier_submits(sim)) {
    if (json_string(m, "text") == text && !json_string(m, "message_id").empty()) {
      ++out[json_string(m, "destination_addr")];
    }
  }
  return out;
}

// Waits until every number of `who` has received `text` at the carrier (bounded).
std::map<std::string, int> wait_texts(Simulator& sim, const std::string& text,
                                      const std::set<std::string>& who,
                                      std::chrono::seconds timeout) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto got = carrier_texts_to(sim, text);
    bool all = true;
    for (const auto& n : who) all = all && got.contains(n);
    if (all || std::chrono::steady_clock::now() > give_up) return got;
    std::this_thread::sleep_for(200ms);
  }
}

// Every deliver_sm that reaches a receiver of tenant acme until the queue is quiet for `quiet`,
// counted by text.
std::map<std::string, int> drain_tenant(Harness& h, std::chrono::milliseconds quiet) {
  std::map<std::string, int> texts;
  auto rx = h.bind(cmd::kBindReceiver);
  while (auto f = rx->receive_deliver(0, quiet)) {
    if (!is_receipt(*f)) ++texts[deliver_text(*f)];
  }
  return texts;
}

// How many of `expected` never came, and how many came more than once, in `got` (text -> count).
struct Tally {
  std::size_t missing = 0;
  std::size_t duplicates = 0;
};
template <typename Range>
Tally tally(const Range& expected, const std::map<std::string, int>& got) {
  Tally t;
  for (const auto& e : expected) {
    auto it = got.find(e);
    if (it == got.end()) {
      ++t.missing;
    } else {
      t.duplicates += static_cast<std::size_t>(it->second - 1);
    }
  }
  return t;
}

// The figures of a run: in the test's output, and on stdout for scripts/faults.sh (doctest shows
// MESSAGE only for failing tests).
void report(const std::string& line) {
  MESSAGE(line);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

int cycles_from_env() {
  const char* v = std::getenv("SMPPGUARD_FAULT_CYCLES");
  const int n = v ? std::atoi(v) : 0;
  return n > 0 ? n : 20;
}

}  // namespace

TEST_SUITE("kill_loop") {
  TEST_CASE("kill -9 under STOPs and MOs loses no acknowledged STOP, confirmation or MO") {
    Harness h;
    const int cycles = cycles_from_env();
    std::mutex mu;
    std::vector<std::string> stops;  // subscribers whose STOP was acknowledged
    std::vector<std::string> mos;    // texts of acknowledged MOs
    std::atomic<bool> done{false};
    std::atomic<int> sent_stops{0}, sent_mos{0};

    // Two senders, as the carrier would: a stream of STOPs from new subscribers, and ordinary MOs.
    std::thread stop_sender([&] {
      for (int i = 0; !done; ++i) {
        char msisdn[16];
        std::snprintf(msisdn, sizeof msisdn, "1555%07d", 1000000 + i);
        ++sent_stops;
        if (acknowledged_mo(h.sim(), msisdn, "STOP")) {
          std::lock_guard lock(mu);
          stops.emplace_back(msisdn);
        } else {
          std::this_thread::sleep_for(20ms);
        }
      }
    });
    std::thread mo_sender([&] {
      for (int i = 0; !done; ++i) {
        const std::string text = "kill loop mo " + std::to_string(i);
        ++sent_mos;
        if (acknowledged_mo(h.sim(), "15559000001", text)) {
          std::lock_guard lock(mu);
          mos.push_back(text);
        } else {
          std::this_thread::sleep_for(20ms);
        }
      }
    });

    std::mt19937 rng(20261203);
    for (int c = 0; c < cycles; ++c) {
      std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 500));
      h.kill9_daemon();
      h.start_daemon(/*wait_ready=*/true);
    }
    std::this_thread::sleep_for(300ms);
    done = true;
    stop_sender.join();
    mo_sender.join();
    REQUIRE(!stops.empty());
    REQUIRE(!mos.empty());

    // Every acknowledged STOP is refused now...
    auto tx = h.bind(cmd::kBindTransmitter);
    std::size_t not_refused = 0;
    for (const auto& s : stops) {
      if (submit(*tx, mt(cfg::kAcmeNumber, s, "after the kills")).status != kOptedOut)
        ++not_refused;
    }
    CHECK(not_refused == 0);
    // ...and got its confirmation at the carrier (the outbox resends what a kill cut short).
    const auto confirmations = wait_texts(h.sim(), acme_templates().opt_out_confirm,
                                          std::set<std::string>(stops.begin(), stops.end()), 60s);
    const auto confirmed = tally(stops, confirmations);
    CHECK(confirmed.missing == 0);
    // Every acknowledged MO reaches the tenant.
    const auto delivered = drain_tenant(h, 3s);
    const auto arrived = tally(mos, delivered);
    CHECK(arrived.missing == 0);
    std::ostringstream summary;
    summary << "kill_loop: cycles " << cycles << ", STOPs sent " << sent_stops.load()
            << " acknowledged " << stops.size() << " not refused " << not_refused << " unconfirmed "
            << confirmed.missing << " duplicate confirmations " << confirmed.duplicates
            << "; MOs sent " << sent_mos.load() << " acknowledged " << mos.size() << " lost "
            << arrived.missing << " duplicates " << arrived.duplicates;
    report(summary.str());
  }

}  // TEST_SUITE

TEST_SUITE("outbox_kill") {
  TEST_CASE("released MTs and confirmations survive kill -9 behind a throttled upstream") {
    HarnessOptions o;
    o.config.programs[0].opt_in_mode = "confirm";
    o.config.upstream_throughput = 5;  // the proxy paces the carrier link to 5 submit_sm/s
    Harness h(o);
    constexpr int kSubscribers = 10, kHeldEach = 3;
    std::set<std::string> waiting, stopping;
    for (int i = 0; i < kSubscribers; ++i) {
      waiting.insert("155508" + std::to_string(10000 + i));
      stopping.insert("155509" + std::to_string(10000 + i));
    }
    {
      auto tx = h.bind(cmd::kBindTransmitter);
      for (const auto& s : waiting) {
        for (int k = 0; k < kHeldEach; ++k) {
          REQUIRE(
              submit(*tx, mt(cfg::kAcmeNumber, s, "held " + s + " " + std::to_string(k))).status ==
              0);
        }
      }
    }
    // The opt-in requests (one per subscriber) are out; the MTs are held.
    wait_texts(h.sim(), acme_templates().opt_in_request, waiting, 30s);
    h.sim().clear_messages();
    // YES releases 30 MTs behind 10 confirmations; 10 STOPs want 10 more. At 5/s that takes 10 s.
    for (const auto& s : waiting) REQUIRE(acknowledged_mo(h.sim(), s, "YES"));
    for (const auto& s : stopping) REQUIRE(acknowledged_mo(h.sim(), s, "STOP"));
    h.kill9_daemon();
    const auto before_restart = carrier_submits(h.sim()).size();
    h.start_daemon(/*wait_ready=*/true);

    const auto released = [&] {
      std::map<std::string, int> all;
      for (const auto& m : carrier_submits(h.sim())) {
        const auto text = json_string(m, "text");
        if (text.starts_with("held ") && !json_string(m, "message_id").empty()) ++all[text];
      }
      return all;
    };
    const auto give_up = std::chrono::steady_clock::now() + 60s;
    while (released().size() < waiting.size() * kHeldEach &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(250ms);
    }
    const auto got = released();
    CHECK(got.size() == waiting.size() * kHeldEach);
    const auto opt_in = wait_texts(h.sim(), acme_templates().opt_in_confirm, waiting, 30s);
    const auto opt_out = wait_texts(h.sim(), acme_templates().opt_out_confirm, stopping, 30s);
    const auto opted_in = tally(waiting, opt_in);
    const auto opted_out = tally(stopping, opt_out);
    CHECK(opted_in.missing == 0);
    CHECK(opted_out.missing == 0);
    std::size_t duplicates = opted_in.duplicates + opted_out.duplicates;
    for (const auto& [t, n] : got) duplicates += static_cast<std::size_t>(n - 1);
    std::ostringstream summary;
    summary << "outbox_kill: " << before_restart << " of " << kSubscribers * (kHeldEach + 2)
            << " proxy submits were out before the kill; after the restart " << got.size()
            << " released MTs, " << waiting.size() - opted_in.missing << " + "
            << stopping.size() - opted_out.missing << " confirmations, " << duplicates
            << " duplicates";
    report(summary.str());
    // The STOPped subscribers are refused, the others' consent holds.
    auto tx = h.bind(cmd::kBindTransmitter);
    CHECK(submit(*tx, mt(cfg::kAcmeNumber, *stopping.begin(), "no")).status == kOptedOut);
    CHECK(submit(*tx, mt(cfg::kAcmeNumber, *waiting.begin(), "yes")).status == 0);
  }

}  // TEST_SUITE

TEST_SUITE("receipt_kill") {
  TEST_CASE("queued receipts survive kill -9 until the account binds") {
    HarnessOptions o;
    o.opt_in = {{cfg::kSubscriber, cfg::kAcmeNumber}};
    o.sim_args = {"--receipt-delay", "1h"};  // no automatic receipts: the test sends each one
    o.config.upstream_throughput = 20;       // a throttled carrier link, as in outbox_kill
    Harness h(o);
    constexpr int kMessages = 60;
    std::map<std::string, std::string> proxy_id;  // MT text -> the id the account was given
    {
      auto tx = h.bind(cmd::kBindTransmitter);
      for (int i = 0; i < kMessages; ++i) {
        const std::string text = "receipted " + std::to_string(i);
        const auto a =
            submit(*tx, mt(cfg::kAcmeNumber, cfg::kSubscriber, text, std::nullopt, /*rd=*/1));
        REQUIRE(a.status == 0);
        proxy_id[text] = a.message_id;
      }
    }
    std::vector<std::pair<std::string, std::string>> pending;  // carrier id, proxy id
    for (const auto& m : wait_carrier_submits(h.sim(), kMessages, 30s)) {
      pending.emplace_back(json_string(m, "message_id"), proxy_id.at(json_string(m, "text")));
    }

    // The carrier sends each receipt until it is acknowledged, as carriers retry; the daemon is
    // killed under it. No receiver of app1 is bound, so every acknowledged receipt is queued.
    std::set<std::string> acknowledged;  // proxy ids
    std::atomic<bool> sent_all{false};
    std::atomic<int> attempts{0};
    std::thread carrier([&] {
      for (const auto& [carrier_id, id] : pending) {
        const auto give_up = std::chrono::steady_clock::now() + 60s;
        while (std::chrono::steady_clock::now() < give_up) {
          ++attempts;
          const auto r = h.sim().post_receipt(carrier_id, 10s);
          if (r.status == 200 && json_int(json::parse(r.body).as_object(), "status") == 0) {
            acknowledged.insert(id);
            break;
          }
          std::this_thread::sleep_for(50ms);
        }
        std::this_thread::sleep_for(100ms);  // spread over the kill cycles
      }
      sent_all = true;
    });
    std::mt19937 rng(20261204);
    for (int c = 0; c < 10 && !sent_all; ++c) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 300));
      h.kill9_daemon();
      h.start_daemon(/*wait_ready=*/true);
    }
    carrier.join();
    REQUIRE(acknowledged.size() == pending.size());

    std::map<std::string, int> delivered;  // proxy id -> receipts that reached the account
    auto rx = h.bind(cmd::kBindReceiver);
    while (auto f = rx->receive_deliver(0, 3s)) {
      if (is_receipt(*f)) ++delivered[read_receipt(*f).tlv_id];
    }
    const auto got = tally(acknowledged, delivered);
    report("receipt_kill: " + std::to_string(acknowledged.size()) + " receipts acknowledged in " +
           std::to_string(attempts.load()) + " attempts across kill -9s; " +
           std::to_string(acknowledged.size() - got.missing) + " reached the account, " +
           std::to_string(got.duplicates) + " duplicates");
    CHECK(got.missing == 0);
  }
}  // TEST_SUITE

TEST_SUITE("api_kill") {
  TEST_CASE("what an API consent change sends survives a kill -9 right after its answer") {
    auto hp = admin::admin_harness();
    auto& h = *hp;
    admin::write_admin_config(h);  // the restarts keep the tokens and acme-promo (confirm mode)
    // Even rounds release a held MT (PUT opted_in), odd ones ask for YES (PUT confirm: true).
    constexpr int kRounds = 20;
    std::vector<std::string> subscribers;
    for (int i = 0; i < kRounds; ++i) subscribers.push_back("155507" + std::to_string(10000 + i));
    std::set<std::string> releasing, asking;
    {
      auto tx = h.bind(cmd::kBindTransmitter);
      for (int i = 0; i < kRounds; i += 2) {
        releasing.insert(subscribers[i]);
        REQUIRE(
            submit(*tx, mt(admin::kPromoNumber, subscribers[i], "held " + subscribers[i])).status ==
            0);
      }
    }
    for (int i = 1; i < kRounds; i += 2) asking.insert(subscribers[i]);
    REQUIRE(eventually([&] {
      return h.metric("smppguard_queue_depth", {{"queue", "held_mt"}}) ==
             static_cast<double>(releasing.size());
    }));
    const auto opt_in_requests = [&] {
      std::map<std::string, int> out;
      for (const auto& m : carrier_submits(h.sim())) {
        if (json_string(m, "text").find("Reply YES") != std::string::npos &&
            !json_string(m, "message_id").empty()) {
          ++out[json_string(m, "destination_addr")];
        }
      }
      return out;
    };
    // The held MTs' own opt-in requests are out before the rounds start.
    REQUIRE(eventually([&] { return opt_in_requests().size() == releasing.size(); }, 30s));
    h.sim().clear_messages();

    for (int i = 0; i < kRounds; ++i) {
      json::object b;
      b["state"] = "opted_in";
      b["level"] = "express";
      if (i % 2 == 1) b["confirm"] = true;
      const auto r = admin::put_consent(h, "acme-promo", subscribers[i], b);
      REQUIRE_MESSAGE((r.status == 200 || r.status == 201), r.body);
      h.kill9_daemon();  // at once: the answer is all the client has
      if (i % 2 == 0) {
        CHECK(r.object().at("held_released").to_number<int>() == 1);
      } else {
        CHECK(r.object().at("opt_in_request_sent").as_bool());
      }
      h.start_daemon(/*wait_ready=*/true);
    }

    const auto released = [&] {
      std::map<std::string, int> out;
      for (const auto& m : carrier_submits(h.sim())) {
        const auto text = json_string(m, "text");
        if (text.starts_with("held ") && !json_string(m, "message_id").empty()) {
          ++out[text.substr(5)];
        }
      }
      return out;
    };
    (void)eventually(
        [&] {
          return released().size() == releasing.size() && opt_in_requests().size() == asking.size();
        },
        30s);
    const auto got_released = tally(releasing, released());
    const auto got_asked = tally(asking, opt_in_requests());
    report("api_kill: " + std::to_string(kRounds) + " PUTs each followed by kill -9: " +
           std::to_string(releasing.size() - got_released.missing) + " of " +
           std::to_string(releasing.size()) + " released MTs and " +
           std::to_string(asking.size() - got_asked.missing) + " of " +
           std::to_string(asking.size()) + " opt-in requests reached the carrier, " +
           std::to_string(got_released.duplicates + got_asked.duplicates) + " duplicates");
    CHECK(got_released.missing == 0);
    CHECK(got_asked.missing == 0);
  }
}  // TEST_SUITE

TEST_SUITE("multipart_restart") {
  TEST_CASE("a STOP in two parts with a kill -9 between them still opts the subscriber out") {
    const std::string s = "15550700001";
    HarnessOptions o;
    o.opt_in = {{s, cfg::kAcmeNumber}};
    Harness h(o);
    // deliver_sm parts with the UDH 05 00 03 ref total seq: "ST" and "OP", neither a keyword alone.
    auto part = [&](std::uint8_t seq, const std::string& text) {
      smppguard::proto::SubmitSm d;
      d.source_addr_ton = 1;
      d.source_addr_npi = 1;
      d.source_addr = s;
      d.dest_addr_ton = 1;
      d.dest_addr_npi = 1;
      d.destination_addr = cfg::kAcmeNumber;
      d.esm_class = 0x40;
      d.short_message = std::string("\x05\x00\x03\x2a\x02", 5) + static_cast<char>(seq) + text;
      const auto bytes = encode_pdu(
          smppguard::proto::Pdu{.command_id = cmd::kDeliverSm, .sequence_number = 1, .body = d});
      static constexpr char kHex[] = "0123456789abcdef";
      std::string hex;
      for (auto b : bytes) {
        hex.push_back(kHex[b >> 4]);
        hex.push_back(kHex[b & 15]);
      }
      json::object extra;
      extra["pdu_hex"] = hex;
      return extra;
    };
    REQUIRE(mo(h.sim(), s, cfg::kAcmeNumber, "", part(1, "ST")) == 0);
    h.kill9_daemon();
    h.start_daemon(/*wait_ready=*/true);
    REQUIRE(mo(h.sim(), s, cfg::kAcmeNumber, "", part(2, "OP")) == 0);

    auto tx = h.bind(cmd::kBindTransmitter);
    CHECK(submit(*tx, mt(cfg::kAcmeNumber, s, "after the long STOP")).status == kOptedOut);
    const auto confirmations =
        wait_texts(h.sim(), acme_templates().opt_out_confirm, {s}, std::chrono::seconds(15));
    CHECK(confirmations.contains(s));
    // Both parts still reached the tenant, as every MO does.
    const auto delivered = drain_tenant(h, 2s);
    CHECK(delivered.size() >= 1);
  }

}  // TEST_SUITE
