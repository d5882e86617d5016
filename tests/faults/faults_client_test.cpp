// Hostile or unlucky clients (the fault campaign's items 4 and 5).
//   fd_limit    — at the descriptor limit the listener pauses and retries instead of spinning:
//                 a bounded number of log lines, a metric, and binds work again once descriptors
//                 are free (it spun at 120% CPU with millions of `accept_failed` lines).
//   slow_client — a bound client that trickles a PDU a byte at a time is closed once the PDU's
//                 deadline passes (it held its session open indefinitely).
#include <doctest/doctest.h>
#include <sys/resource.h>

#include <filesystem>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/status.hpp>
#include <thread>

#include "harness.hpp"

namespace {

using namespace e2e;
using namespace std::chrono_literals;
namespace cmd = smppguard::proto::cmd;
namespace st = smppguard::proto::status;

std::size_t open_files(pid_t pid) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    ++n;
  }
  return n;
}

std::size_t count_lines(const std::string& log, const std::string& event) {
  std::size_t n = 0;
  for (auto p = log.find(event); p != std::string::npos; p = log.find(event, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_SUITE("fd_limit") {
  TEST_CASE("at the descriptor limit accepting pauses, logs a little, and recovers") {
    Harness h;
    const pid_t pid = h.daemon().process().pid();
    rlimit before{};
    REQUIRE(prlimit(pid, RLIMIT_NOFILE, nullptr, &before) == 0);
    // A few descriptors of head room, then many more connections than that.
    rlimit tight = before;
    tight.rlim_cur = open_files(pid) + 4;
    REQUIRE(prlimit(pid, RLIMIT_NOFILE, &tight, nullptr) == 0);
    const auto lines_before = count_lines(h.daemon_log(), "accept_failed");
    {
      std::vector<std::unique_ptr<SmppClient>> clients;
      for (int i = 0; i < 24; ++i) clients.push_back(h.connect());
      std::this_thread::sleep_for(3s);
      // One line for the first failure, then at most one every 10 s.
      const auto lines = count_lines(h.daemon_log(), "accept_failed") - lines_before;
      CHECK(lines >= 1);
      CHECK(lines <= 2);
      REQUIRE(prlimit(pid, RLIMIT_NOFILE, &before, nullptr) == 0);
    }
    // Descriptors are free again: connections are accepted, binds answered.
    REQUIRE_MESSAGE(h.daemon().process().running(), h.daemon_log());
    auto c = h.connect();
    auto resp = c->bind(cmd::kBindTransceiver, cfg::kApp1, cfg::kApp1Password, 0x34, 10s);
    CHECK(resp.status() == st::kEsmeRok);
    CHECK(h.metric("smppguard_accept_errors_total", {{"listener", "smpp"}, {"error", "fd_limit"}})
              .value_or(0) >= 1);
    CHECK(h.daemon().process().running());
  }

}  // TEST_SUITE

TEST_SUITE("slow_client") {
  TEST_CASE("a PDU trickled a byte at a time is cut off at its deadline") {
    Harness h;
    auto c = h.bind(cmd::kBindTransceiver);
    const auto pdu = encode_pdu(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "slow"));
    bool closed = false;
    // 10 s deadline; a byte a second for up to 30 s.
    for (std::size_t i = 0; i < 30 && i < pdu.size() - 1 && !closed; ++i) {
      c->send_bytes(std::span(pdu.data() + i, 1));
      closed = c->wait_closed(1s);
    }
    CHECK(closed);
    CHECK(h.daemon_log().find("partial_pdu_timeout") != std::string::npos);
    CHECK(h.metric("smppguard_pdu_deadline_closes_total", {{"side", "esme"}}).value_or(0) == 1);
    // Others are not affected.
    auto other = h.bind(cmd::kBindTransceiver);
    CHECK(other->request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "fast")).id() ==
          cmd::kSubmitSmResp);
  }

}  // TEST_SUITE
