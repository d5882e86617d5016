// Durability and the audit trail through the real daemon and carrier simulator (SPEC 7
// "Promises", SPEC 3 audit log): the MT right after a STOP's deliver_sm_resp is refused; a
// kill -9 right after it loses nothing; a held MT survives a kill -9 and is released by a YES
// after the restart; `smppguard audit verify` proves the chain whole and names a hand-modified
// entry.
#include <doctest/doctest.h>

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
    const auto held = submit(*trx, mt(cfg::kAcmeNumber, s, "held across a crash", std::nullopt, 1));
    REQUIRE(held.status == 0);
    held_id = held.message_id;
    wait_carrier_submits(h.sim(), 1);  // the opt-in request
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

}  // TEST_SUITE
