// Durability and the audit trail through the real daemon and carrier simulator (SPEC 7
// "Promises", SPEC 3 audit log): the MT right after a STOP's deliver_sm_resp is refused; a
// kill -9 right after it loses nothing; a held MT survives a kill -9 and is released by a YES
// after the restart; `smppguard audit verify` proves the chain whole and names a hand-modified
// entry.
#include <doctest/doctest.h>

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

RunResult audit_verify(Harness& h, const std::string& name) {
  return run({smppguard_bin(), "audit", "verify", "--store", h.store_path().string()},
             h.dir().path() / name);
}

}  // namespace

TEST_SUITE("consent_durability") {
  TEST_CASE("the MT sent right after the STOP's deliver_sm_resp is refused") {
    std::vector<std::string> subscribers;
    HarnessOptions o;
    for (int i = 0; i < 10; ++i) {
      subscribers.push_back("155504000" + std::to_string(10 + i));
      o.opt_in.push_back({subscribers.back(), cfg::kAcmeNumber});
    }
    Harness h(o);
    auto tx = h.bind(cmd::kBindTransmitter);
    for (const auto& s : subscribers) {
      CAPTURE(s);
      // POST /mo returns once the carrier has the deliver_sm_resp; the MT goes at once.
      REQUIRE(mo(h.sim(), s, cfg::kAcmeNumber, "STOP") == 0);
      CHECK(submit(*tx, mt(cfg::kAcmeNumber, s, "too soon?")).status == kOptedOut);
    }
  }

  TEST_CASE("kill -9 right after the STOP's deliver_sm_resp: still refused after the restart") {
    const std::string k = "15550400101";
    const std::string l = "15550400102";
    HarnessOptions o;
    o.opt_in = {{k, cfg::kAcmeNumber}, {l, cfg::kAcmeNumber}};
    Harness h(o);
    {
      auto tx = h.bind(cmd::kBindTransmitter);
      CHECK(submit(*tx, mt(cfg::kAcmeNumber, k, "before")).status == 0);
    }
    REQUIRE(mo(h.sim(), k, cfg::kAcmeNumber, "STOP") == 0);
    h.kill9_daemon();
    h.start_daemon(/*wait_ready=*/true);
    auto tx = h.bind(cmd::kBindTransmitter);
    CHECK(submit(*tx, mt(cfg::kAcmeNumber, k, "after the crash")).status == kOptedOut);
    // The other subscriber's consent survived too.
    CHECK(submit(*tx, mt(cfg::kAcmeNumber, l, "still fine")).status == 0);
  }

  TEST_CASE("a held MT survives kill -9 and is released by YES after the restart") {
    const std::string s = "15550400201";
    HarnessOptions o;
    o.config.programs[0].opt_in_mode = "confirm";
    Harness h(o);
    std::string held_id;
    {
      auto trx = h.bind(cmd::kBindTransceiver);
      const auto held =
          submit(*trx, mt(cfg::kAcmeNumber, s, "held across a crash", std::nullopt, 1));
      REQUIRE(held.status == 0);
      held_id = held.message_id;
      wait_carrier_submits(h.sim(), 1);  // the opt-in request
    }
    // ...and is out of the outbox: killed before that, the restart sends it again (at least
    // once), which is not what this test is about.
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (h.metric("smppguard_queue_depth", {{"queue", "outbox"}}).value_or(1) != 0 &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(20ms);
    }
    h.kill9_daemon();
    h.sim().clear_messages();
    h.start_daemon(/*wait_ready=*/true);
    auto trx = h.bind(cmd::kBindTransceiver);

    CHECK(mo(h.sim(), s, cfg::kAcmeNumber, "YES") == 0);
    const auto sent = wait_carrier_submits(h.sim(), 2);
    CHECK(carrier_submits_after(h.sim(), 300ms).size() == 2);
    CHECK(json_string(sent[0], "text") == acme_templates().opt_in_confirm);
    CHECK(json_string(sent[1], "text") == "held across a crash");
    auto r = next_receipt(*trx, 10s);
    REQUIRE(r);
    CHECK(r->text_id == held_id);
    CHECK(r->tlv_id == held_id);
  }

  TEST_CASE("audit verify: whole after a STOP, and names the seq of a hand-modified entry") {
    const std::string s = "15550400301";
    HarnessOptions o;
    o.opt_in = {{s, cfg::kAcmeNumber}};
    Harness h(o);
    REQUIRE(mo(h.sim(), s, cfg::kAcmeNumber, "STOP") == 0);
    wait_carrier_submits(h.sim(), 1);

    // While the daemon runs (audit verify opens the store read-only).
    auto v = audit_verify(h, "verify-running.out");
    CHECK_MESSAGE(v.exit == 0, v.output);
    CHECK(v.output.find("audit chain whole") != std::string::npos);

    const auto outs = audit_events(h, "opted_out", "+" + s);
    REQUIRE(outs.size() == 1);
    const auto seq = json_int(outs[0], "seq");
    REQUIRE(seq > 0);
    CHECK(json_string(outs[0], "mo_text") == "STOP");

    REQUIRE(h.stop_daemon() == std::optional<int>(0));
    v = audit_verify(h, "verify-stopped.out");
    CHECK_MESSAGE(v.exit == 0, v.output);
    CHECK(v.output.find("audit chain whole") != std::string::npos);

    // Someone rewrites the STOP into a START, leaving the hashes as they were.
    const auto t = run({store_tool(), "tamper", "--store", h.store_path().string(), "--seq",
                        std::to_string(seq), "--field", "mo_text", "--value", "START"},
                       h.dir().path() / "tamper.out");
    REQUIRE_MESSAGE(t.exit == 0, t.output);
    v = audit_verify(h, "verify-tampered.out");
    CHECK(v.exit != 0);
    CHECK_MESSAGE(v.output.find("at seq " + std::to_string(seq) + ":") != std::string::npos,
                  v.output);
    CHECK(v.output.find("audit chain whole") == std::string::npos);
  }

  TEST_CASE("a consent record edited in the store is not trusted, and audit verify names it") {
    // The fault campaign flipped an opted_out record's state byte to opted_in: audit verify
    // passed and the next MT was forwarded (issue 9, item 6).
    const std::string flipped = "15550400401";
    const std::string forged = "15550400402";
    HarnessOptions o;
    o.opt_in = {{flipped, cfg::kAcmeNumber}, {forged, cfg::kAcmeNumber}};  // the level stays
    Harness h(o);
    REQUIRE(mo(h.sim(), flipped, cfg::kAcmeNumber, "STOP") == 0);
    REQUIRE(mo(h.sim(), forged, cfg::kAcmeNumber, "STOP") == 0);
    wait_carrier_submits(h.sim(), 2);
    auto v = audit_verify(h, "verify-before.out");
    CHECK_MESSAGE(v.exit == 0, v.output);
    CHECK(v.output.find("all match their seal and audit history") != std::string::npos);

    REQUIRE(h.stop_daemon() == std::optional<int>(0));
    auto tamper = [&](const std::string& msisdn, const std::string& reseal) {
      const auto t = run(
          {store_tool(), "tamper-consent", "--store", h.store_path().string(), "--program",
           cfg::kAcmeProgram, "--msisdn", "+" + msisdn, "--state", "opted_in", "--reseal", reseal},
          h.dir().path() / ("tamper-" + msisdn + ".out"));
      REQUIRE_MESSAGE(t.exit == 0, t.output);
    };
    tamper(flipped, "no");  // the byte flipped in place
    tamper(forged, "yes");  // re-encoded with a fresh seal, as a forger who knows the scheme
    v = audit_verify(h, "verify-after.out");
    CHECK(v.exit != 0);
    CHECK_MESSAGE(v.output.find("consent record acme-alerts +" + flipped +
                                " BAD: the record does not match its seal") != std::string::npos,
                  v.output);
    CHECK_MESSAGE(v.output.find("consent record acme-alerts +" + forged +
                                " BAD: state opted_in but the audit history says opted_out") !=
                      std::string::npos,
                  v.output);

    h.start_daemon(/*wait_ready=*/true);
    h.sim().clear_messages();
    auto tx = h.bind(cmd::kBindTransmitter);
    // The flipped record is never read as opted_in: the MT is refused, not forwarded.
    CHECK(submit(*tx, mt(cfg::kAcmeNumber, flipped, "must not be sent")).status != 0);
    CHECK(carrier_submits_after(h.sim(), 500ms).empty());
  }

}  // TEST_SUITE
