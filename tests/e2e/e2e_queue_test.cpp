// The durable delivery queue (SPEC 5): MOs acknowledged to the carrier while no receiver is bound
// wait in RocksDB and are delivered in order when one binds; a temporary error from the ESME
// (ESME_RX_T_APPN) or a receiver that goes away leads to redelivery; a kill -9 of the daemon loses
// nothing the carrier was told was received.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/status.hpp>

#include "harness.hpp"

namespace {

using namespace e2e;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace proto = smppguard::proto;
namespace cmd = smppguard::proto::cmd;
namespace st = smppguard::proto::status;

std::int64_t post_mo(Simulator& sim, const std::string& text) {
  json::object o;
  o["from"] = cfg::kSubscriber;
  o["to"] = cfg::kAcmeNumber;
  o["text"] = text;
  const auto r = sim.post_mo(o);
  REQUIRE_MESSAGE(r.status == 200, "POST /mo -> " << r.status << " " << r.error << r.body);
  return json_int(json::parse(r.body).as_object(), "status");
}

std::string text_of(const Frame& f) {
  auto pdu = f.pdu();
  const auto* d = pdu.as<proto::SubmitSm>();
  return d ? d->short_message : "";
}

}  // namespace

TEST_SUITE("queue") {

TEST_CASE("MOs queued while no receiver is bound arrive in order when one binds") {
  Harness h;
  auto tx = h.bind(cmd::kBindTransmitter);  // a transmitter does not receive MOs
  for (int i = 1; i <= 5; ++i) CHECK(post_mo(h.sim(), "queued " + std::to_string(i)) == 0);
  CHECK_FALSE(tx->expect(cmd::kDeliverSm, 300ms));
  CHECK(h.metric("smppguard_queue_depth", {{"queue", "mo"}}) == std::optional<double>(5));

  auto rx = h.bind(cmd::kBindReceiver);
  for (int i = 1; i <= 5; ++i) {
    auto f = rx->receive_deliver(st::kEsmeRok, 10s);
    REQUIRE(f);
    CHECK(text_of(*f) == "queued " + std::to_string(i));
  }
  CHECK_FALSE(rx->expect(cmd::kDeliverSm, 500ms));
  CHECK(eventually([&] {
    return h.metric("smppguard_queue_depth", {{"queue", "mo"}}) == std::optional<double>(0);
  }, 5s));
}

TEST_CASE("a temporary ESME error and a vanished receiver lead to redelivery") {
  Harness h;

  SUBCASE("ESME_RX_T_APPN") {
    auto rx = h.bind(cmd::kBindReceiver);
    CHECK(post_mo(h.sim(), "try again") == 0);
    auto first = rx->receive_deliver(st::kEsmeRxTAppn, 10s);
    REQUIRE(first);
    auto again = rx->receive_deliver(st::kEsmeRok, 10s);  // back-off 1 s
    REQUIRE(again);
    CHECK(to_hex(without_sequence(again->bytes)) == to_hex(without_sequence(first->bytes)));
    CHECK(again->seq() != first->seq());
    CHECK_FALSE(rx->expect(cmd::kDeliverSm, 1500ms));  // answered OK: not sent a third time
  }

  SUBCASE("the receiver closes without answering; the next bind gets the MO") {
    auto rx = h.bind(cmd::kBindReceiver);
    CHECK(post_mo(h.sim(), "do not lose me") == 0);
    auto first = rx->expect(cmd::kDeliverSm, 10s);
    REQUIRE(first);
    rx.reset();  // gone without a deliver_sm_resp
    auto rx2 = h.bind(cmd::kBindReceiver);
    auto again = rx2->receive_deliver(st::kEsmeRok, 10s);
    REQUIRE(again);
    CHECK(text_of(*again) == "do not lose me");
    CHECK_FALSE(rx2->expect(cmd::kDeliverSm, 700ms));
  }
}

TEST_CASE("an acknowledged MO survives kill -9 of the daemon") {
  Harness h;
  CHECK(post_mo(h.sim(), "survivor 1") == 0);
  CHECK(post_mo(h.sim(), "survivor 2") == 0);
  h.kill9_daemon();
  h.start_daemon(/*wait_ready=*/true);
  auto rx = h.bind(cmd::kBindReceiver);
  auto f1 = rx->receive_deliver(st::kEsmeRok, 10s);
  REQUIRE(f1);
  CHECK(text_of(*f1) == "survivor 1");
  auto f2 = rx->receive_deliver(st::kEsmeRok, 10s);
  REQUIRE(f2);
  CHECK(text_of(*f2) == "survivor 2");
  // The new daemon also routes new MOs.
  CHECK(post_mo(h.sim(), "after restart") == 0);
  auto f3 = rx->receive_deliver(st::kEsmeRok, 10s);
  REQUIRE(f3);
  CHECK(text_of(*f3) == "after restart");
}

}  // TEST_SUITE
