// Throttling and back-pressure (SPEC 2): an account above its throughput gets ESME_RTHROTTLED;
// the carrier's own ESME_RTHROTTLED is passed through; when an account's window is full the proxy
// stops reading from that bind instead of queueing or dropping, and everything completes later.
#include <doctest/doctest.h>

#include <map>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/status.hpp>

#include <thread>

#include "harness.hpp"

namespace {

using namespace e2e;
using namespace std::chrono_literals;
namespace proto = smppguard::proto;
namespace cmd = smppguard::proto::cmd;
namespace st = smppguard::proto::status;

// Consent is enforced (SPEC 4): the subscribers these tests send to have texted START.
const std::vector<OptIn> kOptedIn = {{cfg::kSubscriber, cfg::kAcmeNumber},
                                     {"15558880000", cfg::kAcmeNumber}};

}  // namespace

TEST_SUITE("throttle") {

TEST_CASE("account throughput 5: a burst of 20 gets the first 5 through, then ESME_RTHROTTLED") {
  HarnessOptions o;
  o.opt_in = kOptedIn;
  o.config.accounts[0].throughput = 5;
  Harness h(o);
  auto c = h.bind(cmd::kBindTransmitter);
  std::vector<std::uint32_t> seqs;
  Bytes burst;
  for (int i = 0; i < 20; ++i) {
    auto pdu = make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "burst " + std::to_string(i));
    pdu.sequence_number = c->next_seq();
    seqs.push_back(pdu.sequence_number);
    const auto b = encode_pdu(pdu);
    burst.insert(burst.end(), b.begin(), b.end());
  }
  c->send_bytes(burst);  // one write: the 20 arrive together
  std::map<std::uint32_t, int> by_status;
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    auto r = c->response_to(seqs[i], 10s);
    REQUIRE(r);
    CHECK(r->id() == cmd::kSubmitSmResp);
    if (i < 5) CHECK(r->status() == st::kEsmeRok);
    CHECK((r->status() == st::kEsmeRok || r->status() == st::kEsmeRthrottled));
    ++by_status[r->status()];
  }
  CHECK(by_status[st::kEsmeRthrottled] >= 10);
  // Only what was accepted reached the carrier.
  CHECK(eventually([&] {
    return h.sim().messages("submit_sm").size() ==
           static_cast<std::size_t>(by_status[st::kEsmeRok]);
  }, 5s));
  // The bucket refills: after a second the account may send again.
  std::this_thread::sleep_for(1100ms);
  CHECK(c->request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "later")).status() == 0);
}

TEST_CASE("the carrier's ESME_RTHROTTLED is passed through") {
  HarnessOptions o;
  o.opt_in = kOptedIn;
  Harness h(o);
  h.sim().add_rule("1555888", "status", st::kEsmeRthrottled);
  auto c = h.bind(cmd::kBindTransceiver);
  auto r = c->request(make_submit(cfg::kAcmeNumber, "15558880000", "carrier is busy"));
  CHECK(r.id() == cmd::kSubmitSmResp);
  CHECK(r.status() == st::kEsmeRthrottled);
  r = c->request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "other route fine"));
  CHECK(r.status() == st::kEsmeRok);
}

TEST_CASE("window 4 and a slow carrier: the proxy stops reading, nothing is dropped") {
  HarnessOptions o;
  o.opt_in = kOptedIn;  // before the delay rule below, which would hold the confirmations too
  o.config.accounts[0].window = 4;
  o.config.response_timeout = "10s";
  Harness h(o);
  h.sim().add_rule("1555", "delay", 0, 1000);
  auto c = h.bind(cmd::kBindTransmitter);
  std::vector<std::uint32_t> seqs;
  for (int i = 0; i < 20; ++i) {
    seqs.push_back(c->send(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "bp " + std::to_string(i))));
  }
  // The first four reach the carrier; 300 ms later (the carrier holds each for 1 s) still only
  // those four: the proxy stopped reading the other sixteen from the socket.
  CHECK(eventually([&] { return h.sim().messages("submit_sm").size() >= 4; }, 5s));
  std::this_thread::sleep_for(300ms);
  CHECK(h.sim().messages("submit_sm").size() == 4);
  CHECK(h.metric("smppguard_window_in_flight", {{"side", "esme"}, {"name", cfg::kApp1}}) ==
        std::optional<double>(4));
  for (auto seq : seqs) {
    auto r = c->response_to(seq, 15s);
    REQUIRE(r);
    CHECK(r->status() == st::kEsmeRok);
  }
  CHECK(h.sim().messages("submit_sm").size() == 20);
}

}  // TEST_SUITE
