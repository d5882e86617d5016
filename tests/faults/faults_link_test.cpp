// Faults on the carrier link (the fault campaign's items 1 and 8): what the carrier sends at once
// must not be refused or dropped because the proxy has not caught up with its own state.
//   bind_race      — receipts the carrier held while no bind was up, flushed right behind its
//                    bind_resp in the same write, reach the account (they were answered
//                    ESME_RINVBNDSTS and lost: the link was marked bound a step too late).
//   early_receipts — a receipt in the same write as its submit_sm_resp reaches the account (it
//                    was acknowledged and dropped as unmatched: the route was not yet written).
#include <doctest/doctest.h>

#include <set>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/status.hpp>
#include <smppguard/proto/tlv.hpp>

#include "harness.hpp"

namespace {

using namespace e2e;
using namespace std::chrono_literals;
namespace proto = smppguard::proto;
namespace cmd = smppguard::proto::cmd;
namespace st = smppguard::proto::status;

// The proxy id a receipt carries (receipted_message_id).
std::string receipt_id(const Frame& f) {
  auto pdu = f.pdu();
  const auto* d = pdu.as<proto::SubmitSm>();
  REQUIRE(d != nullptr);
  return std::string(d->tlvs.get_cstring(proto::tlv::kReceiptedMessageId).value_or(""));
}

}  // namespace

TEST_SUITE("bind_race") {
  TEST_CASE("receipts flushed right behind the carrier's bind_resp reach the account") {
    HarnessOptions o;
    o.opt_in = {{cfg::kSubscriber, cfg::kAcmeNumber}};
    // The receipts fall due while the link is down (300 ms after the MTs), so the carrier holds
    // them and flushes them at the next bind, which comes 1.5 s after the loss.
    o.sim_args = {"--receipt-delay", "300ms"};
    o.config.reconnect_min = "1500ms";
    o.config.reconnect_max = "1500ms";
    Harness h(o);
    auto c = h.bind(cmd::kBindTransceiver);

    std::set<std::string> sent;
    for (int i = 0; i < 5; ++i) {
      auto r = c->request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "held receipt", 1));
      REQUIRE(r.status() == st::kEsmeRok);
      sent.insert(r.pdu().as<proto::MessageIdResp>()->message_id);
    }
    h.sim().disconnect();

    std::set<std::string> received;
    for (std::size_t i = 0; i < sent.size(); ++i) {
      auto f = c->receive_deliver(st::kEsmeRok, 15s);
      if (!f) break;
      received.insert(receipt_id(*f));
    }
    CHECK_MESSAGE(received == sent, received.size()
                                        << " of " << sent.size() << " receipts arrived");
    CHECK(h.daemon_log().find("upstream_bound") != std::string::npos);
  }

}  // TEST_SUITE

TEST_SUITE("early_receipts") {
  TEST_CASE("a receipt in the same write as its submit_sm_resp reaches the account") {
    HarnessOptions o;
    o.opt_in = {{cfg::kSubscriber, cfg::kAcmeNumber}};
    o.sim_args = {"--receipt-delay", "0"};  // the receipt goes out with the response
    Harness h(o);
    auto c = h.bind(cmd::kBindTransceiver);

    constexpr std::size_t kMessages = 300;
    for (std::size_t i = 0; i < kMessages; ++i) {
      c->send(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "immediate receipt", 1));
    }
    std::set<std::string> accepted, receipts;
    const auto give_up = std::chrono::steady_clock::now() + 60s;
    while ((accepted.size() < kMessages || receipts.size() < kMessages) &&
           std::chrono::steady_clock::now() < give_up) {
      auto f = c->next(1s);
      if (!f) continue;  // a disk slowed by parallel tests may pause the flow: wait to give_up
      if (f->id() == cmd::kSubmitSmResp) {
        REQUIRE(f->status() == st::kEsmeRok);
        accepted.insert(f->pdu().as<proto::MessageIdResp>()->message_id);
      } else if (f->id() == cmd::kDeliverSm) {
        c->answer(*f);
        receipts.insert(receipt_id(*f));
      } else if (f->id() == cmd::kEnquireLink) {
        c->answer(*f);
      }
    }
    if (accepted.size() != kMessages || receipts.size() != kMessages) {
      const auto log = h.daemon_log();
      MESSAGE("daemon log (end): " << log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
    }
    CHECK(accepted.size() == kMessages);
    CHECK_MESSAGE(receipts == accepted,
                  receipts.size() << " receipts for " << accepted.size() << " accepted MTs");
    CHECK(h.metric("smppguard_receipts_unmatched_total", {{"upstream", cfg::kUpstream}})
              .value_or(0) == 0);
    MESSAGE(
        "receipts that waited for their route: "
        << h.metric("smppguard_receipts_early_total", {{"upstream", cfg::kUpstream}}).value_or(0));
  }

}  // TEST_SUITE
