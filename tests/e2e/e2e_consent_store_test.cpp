// The consent store unreadable, through the real daemon and carrier simulator (SPEC 4 "consent
// store unreadable -> 0x00000406 store_unavailable: fail closed, never send undecided"; SPEC 7
// "never invents consent"). The store's consent records are really made unreadable: with the
// daemon stopped, tests/e2e/tools/e2e_store_tool corrupt-consent compacts them into SST files and
// inverts those files' data blocks (index, filter and footer stay whole, so the store opens);
// the restarted daemon then gets a checksum Corruption from RocksDB when it reads them.
#include <doctest/doctest.h>

#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/status.hpp>
#include <sstream>

#include "consent_support.hpp"
#include "harness.hpp"

namespace {

using namespace e2e;
using namespace e2e::consent;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace proto = smppguard::proto;
namespace cmd = smppguard::proto::cmd;

constexpr std::uint32_t kStoreUnavailable = 0x406;

double store_unavailable_refusals(Harness& h) {
  return metric_or_0(
      h, "smppguard_mt_decisions_total",
      {{"program", cfg::kAcmeProgram}, {"decision", "refused"}, {"reason", "store_unavailable"}});
}

double consent_read_errors(Harness& h) {
  return metric_or_0(h, "smppguard_store_errors_total", {{"op", "read_consent"}});
}

// The daemon's log lines that contain every one of `parts`.
std::vector<std::string> log_lines_with(Harness& h, const std::vector<std::string>& parts) {
  std::vector<std::string> out;
  std::istringstream lines(h.daemon_log());
  std::string line;
  while (std::getline(lines, line)) {
    bool all = true;
    for (const auto& p : parts) all = all && line.find(p) != std::string::npos;
    if (all) out.push_back(line);
  }
  return out;
}

}  // namespace

TEST_SUITE("consent_store") {

TEST_CASE("consent record unreadable: 0x406 on the wire, nothing sent, counted, logged; "
          "the daemon keeps deciding for others") {
  const std::string victim = "15550406001";    // opted in, then its record is corrupted
  const std::string fresh = "15550406002";     // opts in after the corruption: readable
  const std::string stranger = "15550406003";  // never texted: no record at all
  HarnessOptions o;
  o.opt_in = {{victim, cfg::kAcmeNumber}};
  Harness h(o);
  {
    // Before: the victim's consent is there and the MT goes out.
    auto tx = h.bind(cmd::kBindTransmitter);
    REQUIRE(submit(*tx, mt(cfg::kAcmeNumber, victim, "before")).status == 0);
    REQUIRE(wait_carrier_submits(h.sim(), 1).size() == 1);
  }
  REQUIRE(h.stop_daemon() == std::optional<int>(0));

  const auto c = run({store_tool(), "corrupt-consent", "--store", h.store_path().string()},
                     h.dir().path() / "corrupt-consent.out");
  REQUIRE_MESSAGE(c.exit == 0, c.output);
  INFO("corrupt-consent: " << c.output);

  h.sim().clear_messages();
  h.start_daemon(/*wait_ready=*/true);
  CHECK(h.daemon_get("/healthz").status == 200);
  // A subscriber who opts in now has a record in the memtable, outside the corrupted files
  // (waits for the opt_in_confirm at the carrier, then clears the simulator's messages).
  h.opt_in(fresh, cfg::kAcmeNumber);

  auto tx = h.bind(cmd::kBindTransmitter);
  // The victim's record cannot be read: refused with store_unavailable, never forwarded.
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, victim, "undecided 1")).status == kStoreUnavailable);
  CHECK(carrier_submits_after(h.sim()).empty());
  CHECK(store_unavailable_refusals(h) == 1);
  CHECK(consent_read_errors(h) == 1);

  // The daemon is still up and answering on the same session and over HTTP.
  const auto el = tx->request(proto::Pdu{.command_id = cmd::kEnquireLink});
  CHECK(el.id() == cmd::kEnquireLinkResp);
  CHECK(el.status() == 0);
  CHECK(h.daemon_get("/healthz").status == 200);

  // ... and still decides from what it can read: a readable opt-in goes out, a subscriber with
  // no record is refused no_consent (not store_unavailable).
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, fresh, "readable")).status == 0);
  const auto sent = wait_carrier_submits(h.sim(), 1);
  CHECK(json_string(sent[0], "text") == "readable");
  h.sim().clear_messages();
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, stranger, "who?")).status == kNoConsent);

  // A second try for the victim fails closed again: nothing was cached or invented.
  CHECK(submit(*tx, mt(cfg::kAcmeNumber, victim, "undecided 2")).status == kStoreUnavailable);
  CHECK(carrier_submits_after(h.sim()).empty());
  CHECK(store_unavailable_refusals(h) == 2);
  CHECK(consent_read_errors(h) == 2);
  CHECK(metric_or_0(h, "smppguard_mt_decisions_total",
                    {{"program", cfg::kAcmeProgram}, {"decision", "forwarded"}, {"reason", "none"}}) ==
        1);

  // The operator sees it: a log line per refusal with the reason and the status sent ...
  CHECK_MESSAGE(log_lines_with(h, {"event=mt_refused", "reason=store_unavailable",
                                   "status=0x00000406", "program=acme-alerts"})
                        .size() == 2,
                h.daemon_log());
  // ... the cause at error level (rate-limited: the two refusals are within a second) ...
  CHECK_MESSAGE(log_lines_with(h, {"level=error", "event=store_read_failed", "op=read_consent"})
                        .size() >= 1,
                h.daemon_log());
  // ... and an audit entry per refused MT (written asynchronously).
  std::vector<json::object> refused;
  CHECK(eventually(
      [&] {
        refused = audit_events(h, "mt_refused", "+" + victim);
        return refused.size() == 2;
      },
      5s));
  for (const auto& e : refused) CHECK(json_string(e, "detail") == "store_unavailable");

  CHECK(h.daemon().process().running());
  CHECK(h.stop_daemon() == std::optional<int>(0));
}

}  // TEST_SUITE
