// Signals (SPEC 6 and issue 3 item 8): SIGHUP reloads accounts without dropping binds and keeps
// the old config when the new one is invalid; SIGTERM unbinds the ESMEs and exits 0.
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

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

// Consent is enforced (SPEC 4): the subscriber these tests send to has texted START.
HarnessOptions opted_in() {
  HarnessOptions o;
  o.opt_in = {{cfg::kSubscriber, cfg::kAcmeNumber}};
  return o;
}

}  // namespace

TEST_SUITE("signals") {

TEST_CASE("SIGHUP adds an account without dropping binds; an invalid config is rejected") {
  Harness h(opted_in());
  auto existing = h.bind(cmd::kBindTransceiver);
  {
    auto c = h.connect("127.0.0.6");
    CHECK(c->bind(cmd::kBindTransmitter, "newapp", "pw9").status() == st::kEsmeRinvsysid);
  }

  h.config().accounts.push_back({.system_id = "newapp", .password = "pw9", .tenant = "acme"});
  h.write_config();
  h.daemon().process().signal(SIGHUP);
  REQUIRE(eventually([&] { return count(h.daemon_log(), "event=reloaded") == 1; }, 10s));

  auto added = h.bind(cmd::kBindTransmitter, "newapp", "pw9");
  CHECK(added->request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "new")).status() == 0);
  // The bind made before the reload is still there and works.
  CHECK_FALSE(existing->closed());
  CHECK(existing->request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "old")).status() == 0);

  // An invalid file: rejected with a log line, the running config stays.
  write_file(h.config_path(), h.config().render() + "no_such_key: 1\n");
  h.daemon().process().signal(SIGHUP);
  REQUIRE(eventually([&] { return count(h.daemon_log(), "event=reload_rejected") >= 1; }, 10s));
  CHECK(count(h.daemon_log(), "event=reloaded") == 1);
  CHECK(h.daemon().process().running());
  auto again = h.bind(cmd::kBindTransmitter, "newapp", "pw9");
  CHECK(again->request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "still")).status() == 0);
  CHECK(existing->request(proto::Pdu{.command_id = cmd::kEnquireLink}).id() ==
        cmd::kEnquireLinkResp);
}

TEST_CASE("SIGTERM: bound ESMEs are unbound and the daemon exits 0") {
  Harness h;
  auto trx = h.bind(cmd::kBindTransceiver);
  auto rx = h.bind(cmd::kBindReceiver, cfg::kApp2, cfg::kApp2Password);
  auto idle = h.connect();  // never binds
  h.daemon().process().signal(SIGTERM);

  for (auto* c : {trx.get(), rx.get()}) {
    auto u = c->expect(cmd::kUnbind, 10s);
    REQUIRE(u);
    c->answer(*u, st::kEsmeRok);
    CHECK(c->wait_closed(10s));
  }
  CHECK(idle->wait_closed(10s));
  const auto status = h.daemon().process().wait(15s);
  REQUIRE(status.has_value());
  CHECK(*status == 0);
  CHECK(h.daemon_log().find("event=stopped") != std::string::npos);
}

TEST_CASE("SIGTERM: an MT in flight at the carrier is still answered before the session ends") {
  Harness h(opted_in());
  h.sim().add_rule("1555", "delay", 0, 800);
  auto c = h.bind(cmd::kBindTransceiver);
  const auto seq = c->send(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "in flight"));
  REQUIRE(eventually([&] { return h.sim().messages("submit_sm").size() == 1; }, 5s));
  h.daemon().process().signal(SIGTERM);

  // Play a well-behaved ESME: answer the unbind, read until the proxy closes.
  std::optional<std::uint32_t> status;
  bool unbind_seen = false;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (!c->closed() && std::chrono::steady_clock::now() < deadline) {
    auto f = c->next(500ms);
    if (!f) continue;
    if (f->id() == cmd::kUnbind) {
      unbind_seen = true;
      c->answer(*f, st::kEsmeRok);
    } else if (f->id() == cmd::kSubmitSmResp && f->seq() == seq) {
      status = f->status();
    }
  }
  CHECK(unbind_seen);
  REQUIRE(status.has_value());
  CHECK(*status == st::kEsmeRok);
  const auto exit = h.daemon().process().wait(15s);
  REQUIRE(exit.has_value());
  CHECK(*exit == 0);
}

}  // TEST_SUITE
