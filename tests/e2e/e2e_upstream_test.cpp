// Upstream loss (SPEC 2 and 6): when the carrier drops the connection the proxy is not ready and
// smppguard_upstream_up is 0 until it has reconnected with back-off; MTs are refused with
// ESME_RSYSERR while no upstream is bound (promptly, never hung); a carrier that does not answer
// gives ESME_RSYSERR after response_timeout.
#include <doctest/doctest.h>

#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/status.hpp>

#include "harness.hpp"

namespace {

using namespace e2e;
using namespace std::chrono_literals;
namespace proto = smppguard::proto;
namespace cmd = smppguard::proto::cmd;
namespace st = smppguard::proto::status;

std::int64_t millis_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t)
      .count();
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_SUITE("upstream") {

TEST_CASE("the carrier drops the link: not ready, then reconnected") {
  HarnessOptions o;
  // Long enough back-off that /readyz is seen at 503 (each delay is drawn from [min/2, min]).
  o.config.reconnect_min = "400ms";
  o.config.reconnect_max = "1s";
  o.opt_in = {{cfg::kSubscriber, cfg::kAcmeNumber}};  // consent is enforced (SPEC 4)
  Harness h(o);
  CHECK(h.metric("smppguard_upstream_up", {{"upstream", cfg::kUpstream}}) ==
        std::optional<double>(1));
  auto c = h.bind(cmd::kBindTransceiver);
  CHECK(c->request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "before")).status() == 0);

  h.sim().disconnect();
  CHECK(h.wait_readyz(503, 10s));
  CHECK(h.metric("smppguard_upstream_up", {{"upstream", cfg::kUpstream}}) ==
        std::optional<double>(0));
  CHECK(h.wait_readyz(200, 15s));
  CHECK(h.metric("smppguard_upstream_up", {{"upstream", cfg::kUpstream}}) ==
        std::optional<double>(1));
  CHECK(count(h.daemon_log(), "event=upstream_down") >= 1);
  CHECK(count(h.daemon_log(), "event=upstream_bound") >= 2);

  // The ESME's bind survived the carrier's loss and MTs flow again.
  CHECK(c->request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "after")).status() == 0);
  CHECK(eventually([&] {
    const auto binds = h.sim().get_json("/binds");
    return binds.is_array() && binds.as_array().size() == 1;
  }, 5s));
}

TEST_CASE("without a bound upstream an MT is refused with ESME_RSYSERR at once") {
  // Consent is enforced (SPEC 4), and a subscriber can only give it through a carrier: the
  // subscriber texts START first; then the carrier goes away for good and the daemon is started
  // again with its upstream pointing at the closed port.
  HarnessOptions o;
  o.opt_in = {{cfg::kSubscriber, cfg::kAcmeNumber}};
  Harness h(o);
  h.stop_simulator();
  REQUIRE(h.stop_daemon() == std::optional<int>(0));
  h.start_daemon(/*wait_ready=*/false);
  CHECK(h.daemon_get("/readyz").status == 503);
  CHECK(h.metric("smppguard_upstream_up", {{"upstream", cfg::kUpstream}}) ==
        std::optional<double>(0));
  auto c = h.bind(cmd::kBindTransmitter);
  for (int i = 0; i < 3; ++i) {
    // response_timeout is 1 s: an answer within 900 ms means it was refused, not timed out.
    const auto start = std::chrono::steady_clock::now();
    auto r = c->request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "nowhere"), 5s);
    CHECK(r.id() == cmd::kSubmitSmResp);
    CHECK(r.status() == st::kEsmeRsyserr);
    CHECK(millis_since(start) < 900);
  }
  // The ESME stays bound.
  CHECK(c->request(proto::Pdu{.command_id = cmd::kEnquireLink}).id() == cmd::kEnquireLinkResp);
}

TEST_CASE("a carrier that does not answer: ESME_RSYSERR after response_timeout") {
  HarnessOptions o;
  // Consent is enforced (SPEC 4); opted in before the no_answer rule, which would swallow the
  // confirmation too.
  o.opt_in = {{cfg::kSubscriber, cfg::kAcmeNumber}, {"15559990000", cfg::kAcmeNumber}};
  Harness h(o);
  h.sim().add_rule("1555999", "no_answer");
  auto c = h.bind(cmd::kBindTransceiver);
  const auto start = std::chrono::steady_clock::now();
  auto r = c->request(make_submit(cfg::kAcmeNumber, "15559990000", "into the void"), 10s);
  CHECK(r.id() == cmd::kSubmitSmResp);
  CHECK(r.status() == st::kEsmeRsyserr);
  CHECK(millis_since(start) >= 900);  // response_timeout is 1 s
  // Other destinations still work on the same link.
  CHECK(c->request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "fine")).status() == 0);
  h.sim().clear_rules();
  CHECK(c->request(make_submit(cfg::kAcmeNumber, "15559990000", "answered now")).status() == 0);
}

}  // TEST_SUITE
