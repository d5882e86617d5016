// Bind rules (SPEC 2 and 8): statuses of failed binds and the close that follows, the per-IP
// slow-down, what each bind type may send, max_binds, allowed_ips, interface versions,
// bind_timeout, enquire_link and unbind.
#include <doctest/doctest.h>

#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/status.hpp>
#include <smppguard/proto/tlv.hpp>

#include <thread>

#include "harness.hpp"

namespace {

using namespace e2e;
using namespace std::chrono_literals;
namespace proto = smppguard::proto;
namespace cmd = smppguard::proto::cmd;
namespace st = smppguard::proto::status;

HarnessOptions bind_options(bool simulator) {
  HarnessOptions o;
  o.simulator = simulator;
  o.config.accounts.push_back(
      {.system_id = "iponly", .password = "pw3", .tenant = "acme", .allowed_ips = {"127.0.0.2/32"}});
  o.config.accounts.push_back(
      {.system_id = "twobinds", .password = "pw4", .tenant = "acme", .max_binds = 2});
  // Consent is enforced (SPEC 4): the subscriber the MTs go to has texted START to both
  // programs (possible only with a carrier to text through).
  if (simulator) {
    o.opt_in = {{cfg::kSubscriber, cfg::kAcmeNumber}, {cfg::kSubscriber, cfg::kGlobexNumber}};
  }
  return o;
}

std::int64_t millis_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t)
      .count();
}

}  // namespace

TEST_SUITE("binds") {

TEST_CASE("failed binds are answered, then closed; the fourth failure from one IP is slowed") {
  Harness h(bind_options(/*simulator=*/false));

  // 1: wrong password.
  {
    auto c = h.connect("127.0.0.1");
    auto r = c->bind(cmd::kBindTransmitter, cfg::kApp1, "wrong");
    CHECK(r.id() == cmd::kBindTransmitterResp);
    CHECK(r.status() == st::kEsmeRinvpaswd);
    CHECK(c->wait_closed(5s));
  }
  // 2: unknown system_id.
  {
    auto c = h.connect("127.0.0.1");
    auto r = c->bind(cmd::kBindReceiver, "nobody", "x");
    CHECK(r.id() == cmd::kBindReceiverResp);
    CHECK(r.status() == st::kEsmeRinvsysid);
    CHECK(c->wait_closed(5s));
  }
  // 3: allowed_ips does not match 127.0.0.1.
  {
    auto c = h.connect("127.0.0.1");
    auto r = c->bind(cmd::kBindTransceiver, "iponly", "pw3");
    CHECK(r.id() == cmd::kBindTransceiverResp);
    CHECK(r.status() == st::kEsmeRbindfail);
    CHECK(c->wait_closed(5s));
  }
  // 4: three failures from 127.0.0.1 within 60 s: this response waits about 1 s.
  {
    auto c = h.connect("127.0.0.1");
    const auto start = std::chrono::steady_clock::now();
    auto r = c->bind(cmd::kBindTransmitter, cfg::kApp1, "wrong", 0x34, 15s);
    const auto elapsed = millis_since(start);
    CHECK(r.status() == st::kEsmeRinvpaswd);
    CHECK(elapsed >= 900);
    CHECK(c->wait_closed(5s));
  }
  // Other source addresses are not slowed; allowed_ips lets 127.0.0.2 in.
  {
    auto c = h.connect("127.0.0.2");
    auto r = c->bind(cmd::kBindTransceiver, "iponly", "pw3");
    CHECK(r.status() == st::kEsmeRok);
    CHECK_FALSE(c->closed());
  }
  {
    auto c = h.connect("127.0.0.3");
    auto r = c->bind(cmd::kBindTransmitter, cfg::kApp1, cfg::kApp1Password);
    CHECK(r.status() == st::kEsmeRok);
  }
  // The daemon is still healthy.
  CHECK(h.daemon_get("/healthz").status == 200);
}

TEST_CASE("bind types: transmitter submits, receiver may not, a second bind is refused") {
  Harness h(bind_options(/*simulator=*/true));

  auto tx = h.bind(cmd::kBindTransmitter);
  auto r = tx->request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "hello"));
  CHECK(r.id() == cmd::kSubmitSmResp);
  CHECK(r.status() == st::kEsmeRok);
  CHECK_FALSE(r.pdu().as<proto::MessageIdResp>()->message_id.empty());

  auto rx = h.bind(cmd::kBindReceiver);
  r = rx->request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "not allowed"));
  CHECK(r.id() == cmd::kSubmitSmResp);
  CHECK(r.status() == st::kEsmeRinvbndsts);

  auto trx = h.bind(cmd::kBindTransceiver, cfg::kApp2, cfg::kApp2Password);
  r = trx->request(make_submit(cfg::kGlobexNumber, cfg::kSubscriber, "hello from trx"));
  CHECK(r.status() == st::kEsmeRok);

  // Bound sessions refuse another bind and stay bound.
  r = tx->bind(cmd::kBindTransmitter, cfg::kApp1, cfg::kApp1Password);
  CHECK(r.id() == cmd::kBindTransmitterResp);
  CHECK(r.status() == st::kEsmeRalybnd);
  r = rx->bind(cmd::kBindTransceiver, cfg::kApp1, cfg::kApp1Password);
  CHECK(r.status() == st::kEsmeRalybnd);
  r = tx->request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "still bound"));
  CHECK(r.status() == st::kEsmeRok);

  // An unbound session may not submit.
  auto open = h.connect();
  r = open->request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "unbound"));
  CHECK(r.status() == st::kEsmeRinvbndsts);

  // The carrier saw exactly the three accepted messages.
  CHECK(h.sim().messages("submit_sm").size() == 3);
}

TEST_CASE("max_binds, interface versions, enquire_link and unbind") {
  Harness h(bind_options(/*simulator=*/false));

  SUBCASE("max_binds") {
    auto a = h.bind(cmd::kBindTransmitter, "twobinds", "pw4");
    auto b = h.bind(cmd::kBindReceiver, "twobinds", "pw4");
    auto c = h.connect("127.0.0.4");
    auto r = c->bind(cmd::kBindTransceiver, "twobinds", "pw4");
    CHECK(r.status() == st::kEsmeRbindfail);
    CHECK(c->wait_closed(5s));
    // One unbinds: there is room again.
    CHECK(a->unbind());
    CHECK(a->wait_closed(5s));
    CHECK(eventually([&] {
      auto d = h.connect("127.0.0.4");
      return d->bind(cmd::kBindTransceiver, "twobinds", "pw4").status() == st::kEsmeRok;
    }, 5s));
  }

  SUBCASE("interface_version 0x33, 0x34 and 0x50 are accepted") {
    for (std::uint8_t v : {std::uint8_t{0x33}, std::uint8_t{0x34}, std::uint8_t{0x50}}) {
      CAPTURE(static_cast<int>(v));
      auto c = h.connect();
      auto r = c->bind(cmd::kBindTransceiver, cfg::kApp1, cfg::kApp1Password, v);
      CHECK(r.status() == st::kEsmeRok);
      auto pdu = r.pdu();
      const auto* body = pdu.as<proto::BindResp>();
      REQUIRE(body != nullptr);
      CHECK(body->system_id == cfg::kNodeId);
      if (v >= 0x34) {
        CHECK(body->tlvs.get_u8(proto::tlv::kScInterfaceVersion) == std::optional<std::uint8_t>(0x34));
      }
      CHECK(c->unbind());
    }
  }

  SUBCASE("enquire_link is answered with its sequence number, bound or not") {
    auto open = h.connect();
    auto r = open->request(proto::Pdu{.command_id = cmd::kEnquireLink, .sequence_number = 4242});
    CHECK(r.id() == cmd::kEnquireLinkResp);
    CHECK(r.seq() == 4242);
    CHECK(r.status() == st::kEsmeRok);
    CHECK(r.bytes.size() == 16);

    auto bound = h.bind(cmd::kBindTransceiver);
    r = bound->request(proto::Pdu{.command_id = cmd::kEnquireLink, .sequence_number = 0x7FFFFFFF});
    CHECK(r.id() == cmd::kEnquireLinkResp);
    CHECK(r.seq() == 0x7FFFFFFF);
  }

  SUBCASE("unbind is answered, then the proxy closes") {
    auto c = h.bind(cmd::kBindTransmitter);
    const auto seq = c->send(proto::Pdu{.command_id = cmd::kUnbind, .sequence_number = 77});
    auto r = c->response_to(seq);
    REQUIRE(r);
    CHECK(r->id() == cmd::kUnbindResp);
    CHECK(r->status() == st::kEsmeRok);
    CHECK(r->seq() == 77);
    CHECK(c->wait_closed(5s));
  }

  SUBCASE("bind_timeout closes a socket that never binds") {
    auto idle = h.connect();
    const auto start = std::chrono::steady_clock::now();
    CHECK(idle->wait_closed(10s));
    CHECK(millis_since(start) >= 900);  // bind_timeout is 1 s in the test config
    // enquire_link does not count as binding.
    auto chatty = h.connect();
    const auto start2 = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i) {
      chatty->request(proto::Pdu{.command_id = cmd::kEnquireLink});
      std::this_thread::sleep_for(200ms);
    }
    CHECK(chatty->wait_closed(10s));
    CHECK(millis_since(start2) >= 900);
  }
}

}  // TEST_SUITE
