// What SREs and newcomers meet: promtool on /metrics after real traffic, systemd-analyze on the
// installed unit, the key=value log lines (and what they never contain), `smppguard ctl` with its
// exit codes, and the demo's printed walkthrough run command by command.
#include <doctest/doctest.h>

#include <sys/un.h>

#include <fstream>
#include <regex>
#include <smppguard/proto/status.hpp>

#include "e2e_admin_support.hpp"

#ifndef SMPPGUARD_BUILD_DIR
#define SMPPGUARD_BUILD_DIR ""
#endif
#ifndef SMPPGUARD_CMAKE
#define SMPPGUARD_CMAKE "cmake"
#endif
#ifndef SMPPGUARD_SOURCE_DIR
#define SMPPGUARD_SOURCE_DIR ""
#endif

namespace {

using namespace e2e;
using namespace e2e::admin;
namespace proto = smppguard::proto;
namespace cmd = smppguard::proto::cmd;
namespace st = smppguard::proto::status;

bool have(const std::string& tool) {
  return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

RunResult shell(const std::string& command) {
  RunResult r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

json::object mo(const std::string& to, const std::string& text) {
  json::object o;
  o["from"] = cfg::kSubscriber;
  o["to"] = to;
  o["text"] = text;
  return o;
}

// Traffic that touches every metric family: binds, MTs forwarded/refused/held, MOs of each kind,
// consent changes by MO and API, proxy messages, receipts.
void traffic(Harness& h, SmppClient& tx) {
  CHECK(tx.request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "no consent yet")).status() ==
        0x401);
  CHECK(put_consent(h, "acme-alerts", "15551234567",
                    json::parse(R"({"state":"opted_in","level":"express"})").as_object())
            .status == 201);
  CHECK(tx.request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "hello", 1)).status() == 0);
  CHECK(tx.request(promo_submit("held for YES")).status() == 0);
  CHECK(h.sim().post_mo(mo(cfg::kAcmeNumber, "HELP")).status == 200);
  CHECK(h.sim().post_mo(mo(cfg::kAcmeNumber, "just chatting")).status == 200);
  CHECK(h.sim().post_mo(mo(cfg::kAcmeNumber, "STOP")).status == 200);
  CHECK(h.sim().post_mo(mo(kPromoNumber, "YES")).status == 200);
  CHECK(tx.request(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "after stop")).status() ==
        0x400);
  CHECK(tx.request(make_submit(cfg::kUnknownNumber, cfg::kSubscriber, "who")).status() ==
        st::kEsmeRinvsrcadr);
}

}  // namespace

TEST_SUITE("admin_ops") {
  TEST_CASE("every SPEC metric, with fixed labels; promtool check metrics passes") {
    auto hp = admin_harness();
    auto& h = *hp;
    auto tx = h.bind(cmd::kBindTransceiver);
    traffic(h, *tx);
    REQUIRE(eventually([&] {
      return h.metric("smppguard_mo_total", {{"kind", "opt_in"}}).value_or(0) == 1 &&
             h.metric("smppguard_proxy_messages_total", {{"template", "opt_in_confirm"}})
                     .value_or(0) == 1;
    }));
    const std::string text = h.metrics();
    for (const char* family :
         {"smppguard_pdus_total", "smppguard_mt_decisions_total", "smppguard_mo_total",
          "smppguard_consent_changes_total", "smppguard_proxy_messages_total", "smppguard_binds",
          "smppguard_upstream_up", "smppguard_window_in_flight", "smppguard_queue_depth",
          "smppguard_store_errors_total", "smppguard_policy_decision_seconds",
          "smppguard_added_latency_seconds"}) {
      CHECK_MESSAGE(text.find(std::string("# TYPE ") + family + " ") != std::string::npos,
                    std::string(family));
    }
    auto m = [&](const std::string& name, std::vector<std::pair<std::string, std::string>> labels) {
      return metric_value(text, name, labels).value_or(-1);
    };
    CHECK(m("smppguard_pdus_total",
            {{"side", "esme"}, {"direction", "in"}, {"command", "submit_sm"}}) >= 5);
    CHECK(m("smppguard_pdus_total",
            {{"side", "upstream"}, {"direction", "out"}, {"command", "submit_sm"}}) >= 2);
    // smppguard's own refusals keep their codes apart (vendor range in hex), not one "vendor".
    CHECK(m("smppguard_pdus_total", {{"side", "esme"},
                                     {"direction", "out"},
                                     {"command", "submit_sm_resp"},
                                     {"status", "0x00000401"}}) >= 1);
    CHECK(m("smppguard_mt_decisions_total",
            {{"program", "acme-alerts"}, {"decision", "refused"}, {"reason", "no_consent"}}) == 1);
    CHECK(m("smppguard_mt_decisions_total",
            {{"program", "acme-alerts"}, {"decision", "refused"}, {"reason", "opted_out"}}) == 1);
    CHECK(m("smppguard_mt_decisions_total",
            {{"program", "acme-alerts"}, {"decision", "forwarded"}, {"reason", "none"}}) == 1);
    CHECK(m("smppguard_mt_decisions_total",
            {{"program", "acme-promo"}, {"decision", "held"}, {"reason", "no_consent"}}) == 1);
    CHECK(m("smppguard_mt_decisions_total",
            {{"decision", "refused"}, {"reason", "unknown_program"}}) == 1);
    CHECK(m("smppguard_mo_total", {{"program", "acme-alerts"}, {"kind", "help"}}) == 1);
    CHECK(m("smppguard_mo_total", {{"program", "acme-alerts"}, {"kind", "other"}}) == 1);
    CHECK(m("smppguard_mo_total", {{"program", "acme-alerts"}, {"kind", "opt_out"}}) == 1);
    CHECK(m("smppguard_consent_changes_total",
            {{"program", "acme-alerts"}, {"to", "opted_in"}, {"source", "api"}}) == 1);
    CHECK(m("smppguard_consent_changes_total",
            {{"program", "acme-alerts"}, {"to", "opted_out"}, {"source", "keyword"}}) == 1);
    CHECK(m("smppguard_consent_changes_total",
            {{"program", "acme-promo"}, {"to", "opted_in"}, {"source", "keyword"}}) == 1);
    CHECK(m("smppguard_binds", {{"side", "esme"}, {"name", cfg::kApp1}}) == 1);
    CHECK(m("smppguard_binds", {{"side", "upstream"}, {"name", "sim"}}) == 1);
    CHECK(m("smppguard_upstream_up", {{"upstream", "sim"}}) == 1);
    CHECK(m("smppguard_window_in_flight", {{"side", "esme"}, {"name", cfg::kApp1}}) == 0);
    CHECK(m("smppguard_queue_depth", {{"queue", "held_mt"}}) == 0);
    CHECK(m("smppguard_policy_decision_seconds_count", {}) >= 5);
    CHECK(m("smppguard_added_latency_seconds_count", {}) >= 1);
    // Label values are bounded: programs from config, states, sources, SMPP names.
    const std::regex program_label("program=\"([^\"]*)\"");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), program_label);
         it != std::sregex_iterator(); ++it) {
      const std::string p = (*it)[1];
      CHECK_MESSAGE((p.empty() || p == "acme-alerts" || p == "acme-promo" || p == "globex-news" ||
                     p == "tenant:acme" || p == "tenant:globex"),
                    p);
    }
    CHECK(text.find("15551234567") == std::string::npos);  // no subscriber in any label

    if (!have("promtool")) {
      MESSAGE("promtool is not installed (Debian package prometheus): check skipped");
      return;
    }
    const auto file = h.dir().path() / "metrics.txt";
    write_file(file, text);
    const auto r = shell("promtool check metrics < '" + file.string() + "'");
    CHECK_MESSAGE(r.status == 0, r.out);
    MESSAGE("promtool check metrics: exit " << r.status << (r.out.empty() ? "" : ": " + r.out));
  }

  TEST_CASE("systemd-analyze verify passes on the unit installed by cmake --install") {
    if (!have("systemd-analyze")) {
      MESSAGE("systemd-analyze is not installed (Debian package systemd): check skipped");
      return;
    }
    if (std::string(SMPPGUARD_BUILD_DIR).empty()) {
      MESSAGE("no build directory compiled in: check skipped");
      return;
    }
    TempDir prefix;
    const auto install = shell(std::string("'") + SMPPGUARD_CMAKE + "' --install '" +
                               SMPPGUARD_BUILD_DIR + "' --prefix '" + prefix.path().string() + "'");
    REQUIRE_MESSAGE(install.status == 0, install.out);
    const auto unit = prefix.path() / "lib/systemd/system/smppguard.service";
    REQUIRE(std::filesystem::exists(unit));
    CHECK(std::filesystem::exists(prefix.path() / "bin/smppguard"));
    CHECK(std::filesystem::exists(prefix.path() / "etc/smppguard/smppguard.yaml"));
    CHECK(std::filesystem::exists(prefix.path() / "share/smppguard/demo.yaml"));
    const std::string text = read_file(unit);
    for (const char* line :
         {"Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "StateDirectory=smppguard",
          "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
          "CapabilityBoundingSet=\n", "WatchdogSec=", "DynamicUser=yes", "User=smppguard",
          "RestrictAddressFamilies="}) {
      CHECK_MESSAGE(text.find(line) != std::string::npos, std::string(line));
    }
    CHECK(text.find("ExecStart=" + (prefix.path() / "bin/smppguard").string() + " run --config " +
                    (prefix.path() / "etc/smppguard/smppguard.yaml").string()) !=
          std::string::npos);
    CHECK(text.find("@SMPPGUARD") == std::string::npos);  // every placeholder filled
    const auto r = shell("systemd-analyze verify '" + unit.string() + "'");
    CHECK_MESSAGE(r.status == 0, r.out);
    // A second install keeps an edited config and puts the new one beside it.
    write_file(prefix.path() / "etc/smppguard/smppguard.yaml", "# edited\n");
    REQUIRE(shell(std::string("'") + SMPPGUARD_CMAKE + "' --install '" + SMPPGUARD_BUILD_DIR +
                  "' --prefix '" + prefix.path().string() + "'")
                .status == 0);
    CHECK(read_file(prefix.path() / "etc/smppguard/smppguard.yaml") == "# edited\n");
    CHECK(std::filesystem::exists(prefix.path() / "etc/smppguard/smppguard.yaml.default"));
  }

  TEST_CASE("sd_notify: READY=1 once listening, WATCHDOG=1 pings, RELOADING=1 and STOPPING=1") {
  HarnessOptions options;
  options.simulator = false;
  options.wait_ready = false;
  Harness h(options);
  // The harness's daemon holds the store: stop it, then run one with systemd's environment.
  h.daemon().process().signal(SIGTERM);
  REQUIRE(h.daemon().process().wait(20s).has_value());
  const auto socket_path = h.dir().path() / "notify.sock";
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  std::vector<std::string> got;
  auto receive_until = [&](const std::string& wanted, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[512];
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) continue;
      got.emplace_back(buf, static_cast<std::size_t>(n));
      if (got.back() == wanted) return true;
    }
    return false;
  };
  Process daemon({smppguard_bin(), "run", "--config", h.config_path().string()},
                 h.dir().path() / "notify-daemon.log",
                 {{"NOTIFY_SOCKET", socket_path.string()}, {"WATCHDOG_USEC", "400000"}});
  CHECK(receive_until("READY=1", 30s));
  int pings = 0;
  for (int i = 0; i < 3; ++i) pings += receive_until("WATCHDOG=1", 2s) ? 1 : 0;
  CHECK(pings == 3);  // every 200 ms: half of WATCHDOG_USEC
  daemon.signal(SIGHUP);
  CHECK(receive_until("RELOADING=1", 10s));
  CHECK(receive_until("READY=1", 10s));
  daemon.signal(SIGTERM);
  CHECK(receive_until("STOPPING=1", 10s));
  CHECK(daemon.wait(20s).value_or(-1) == 0);
  CHECK(read_file(h.dir().path() / "notify-daemon.log").find("event=watchdog ping_every_ms=200") !=
        std::string::npos);
}

TEST_CASE("one key=value line per operator event; never message text or passwords") {
    auto hp = admin_harness();
    auto& h = *hp;
    auto tx = h.bind(cmd::kBindTransceiver);
    {
      auto bad = h.connect();
      CHECK(bad->bind(cmd::kBindTransmitter, cfg::kApp1, "wrongpw").status() == st::kEsmeRinvpaswd);
    }
    traffic(h, *tx);
    tx->unbind();
    h.sim().disconnect();
    REQUIRE(eventually(
        [&] { return h.daemon_log().find("event=upstream_down") != std::string::npos; }));
    REQUIRE(h.wait_readyz(200));
    const std::string log = h.daemon_log();
    for (const char* event :
         {"event=started", "event=bound account=app1 type=transceiver", "event=bind_rejected",
          "event=unbound account=app1", "event=upstream_bound", "event=upstream_down",
          "event=consent_change program=acme-alerts to=opted_in source=api",
          "event=consent_change program=acme-alerts to=opted_out source=keyword",
          "event=mt_refused account=app1 program=acme-alerts reason=no_consent",
          "event=mt_refused account=app1 program=acme-alerts reason=opted_out", "event=reloaded"}) {
      CHECK_MESSAGE(log.find(event) != std::string::npos, event);
    }
    // Every line is key=value, starting with ts= and level=.
    std::istringstream lines(log);
    std::string line;
    const std::regex shape(
        "^ts=\\S+ level=(debug|info|warn|error) event=\\S+( [a-z_]+=(\"([^\"\\\\]|\\\\.)*\"|[^ "
        "\"]*))*$");
    int checked = 0;
    while (std::getline(lines, line)) {
      if (line.rfind("ts=", 0) != 0) continue;
      ++checked;
      CHECK_MESSAGE(std::regex_match(line, shape), line);
    }
    CHECK(checked > 10);
    // Message texts, MO texts and passwords never appear at info.
    for (const char* secret : {"no consent yet", "after stop", "just chatting", "held for YES",
                               "wrongpw", cfg::kApp1Password, kToken}) {
      CHECK_MESSAGE(log.find(secret) == std::string::npos, secret);
    }
  }

  TEST_CASE("ctl: consent get/set/revoke as tables and JSON; exit codes 0, 1, 2; send") {
    auto hp = admin_harness();
    auto& h = *hp;
    const std::string url = "http://127.0.0.1:" + std::to_string(h.http_port());
    const std::map<std::string, std::string> env = {{"SMPPGUARD_URL", url},
                                                    {"SMPPGUARD_TOKEN", kToken}};
    auto set = run_smppguard(
        {"ctl", "consent", "set", "acme-alerts", kSub, "--level", "express", "--source", "paper",
         "--evidence", "scan=s3://forms/1.pdf", "--evidence", "agent=7"},
        env);
    CHECK_MESSAGE(set.status == 0, set.out);
    CHECK(set.out.find("state:                opted_in") != std::string::npos);
    CHECK(set.out.find("effect:               created (was none)") != std::string::npos);
    auto got = run_smppguard({"ctl", "consent", "get", "acme-alerts", "15551234567"}, env);
    CHECK_MESSAGE(got.status == 0, got.out);
    CHECK(got.out.find("agent=7 scan=s3://forms/1.pdf") != std::string::npos);
    CHECK(got.out.find("api:crm") != std::string::npos);
    auto js = run_smppguard({"ctl", "--json", "consent", "get", "acme-alerts", kSub}, env, false);
    CHECK(json::parse(js.out).as_object().at("source").as_string() == "paper");
    // Flags instead of the environment.
    auto revoke = run_smppguard({"ctl", "--url", url, "--token", kOpsToken, "consent", "revoke",
                                 "acme-alerts", kSub, "--source", "verbal"});
    CHECK_MESSAGE(revoke.status == 0, revoke.out);
    CHECK(revoke.out.find("opted_out") != std::string::npos);
    // API errors: exit 1 with the code and message.
    auto missing = run_smppguard({"ctl", "consent", "get", "acme-alerts", "+15550000000"}, env);
    CHECK(missing.status == 1);
    CHECK(missing.out.find("error: not_found") != std::string::npos);
    auto unknown = run_smppguard({"ctl", "consent", "get", "nope", kSub}, env);
    CHECK(unknown.status == 1);
    CHECK(unknown.out.find("unknown_program") != std::string::npos);
    auto badtoken = run_smppguard({"ctl", "--token", "wrong", "sessions"}, env);
    CHECK(badtoken.status == 1);
    CHECK(badtoken.out.find("error: forbidden") != std::string::npos);
    auto down = run_smppguard({"ctl", "--url", "http://127.0.0.1:1", "sessions"}, env);
    CHECK(down.status == 1);
    // Usage: exit 2.
    CHECK(run_smppguard({"ctl"}, env).status == 2);
    CHECK(run_smppguard({"ctl", "frobnicate"}, env).status == 2);
    CHECK(run_smppguard({"ctl", "consent", "get", "acme-alerts"}, env).status == 2);
    CHECK(run_smppguard({"ctl", "consent", "set", "acme-alerts", kSub}, env).status == 2);
    CHECK(run_smppguard({"ctl", "--bogus", "x", "sessions"}, env).status == 2);
    CHECK(run_smppguard({"ctl", "--url", "ftp://x", "sessions"}, env).status == 2);
    CHECK(run_smppguard({"ctl", "--help"}, env).status == 0);

    // ctl send: a refusal prints the status and exits 1; with consent it is accepted.
    const std::string smpp = "127.0.0.1:" + std::to_string(h.smpp_port());
    const std::vector<std::string> send = {
        "ctl",         "send",          "--smpp",     smpp,
        "--system-id", cfg::kApp1,      "--password", cfg::kApp1Password,
        "--from",      "+18005550100",  "--to",       "+15552224444",
        "--text",      "hello from ctl"};
    auto refused = run_smppguard(send, env);
    CHECK(refused.status == 1);
    CHECK(refused.out.find("submit_sm_resp: 0x00000401") != std::string::npos);
    REQUIRE(run_smppguard(
                {"ctl", "consent", "set", "acme-alerts", "+15552224444", "--level", "express"}, env)
                .status == 0);
    auto sent = run_smppguard(send, env);
    CHECK_MESSAGE(sent.status == 0, sent.out);
    CHECK(sent.out.find("submit_sm_resp: 0x00000000") != std::string::npos);
    REQUIRE(eventually([&] {
      for (const auto& m : h.sim().messages("submit_sm")) {
        if (json_string(m, "text") == "hello from ctl") return true;
      }
      return false;
    }));
    auto badpw =
        run_smppguard({"ctl", "send", "--smpp", smpp, "--system-id", cfg::kApp1, "--password",
                       "nope", "--from", "+18005550100", "--to", "+15552224444", "--text", "x"});
    CHECK(badpw.status == 1);
    CHECK(badpw.out.find("0x0000000E") != std::string::npos);
    CHECK(run_smppguard({"ctl", "send", "--smpp", smpp}).status == 2);
  }

}  // TEST_SUITE

TEST_SUITE("admin_demo") {
  // The walkthrough `smppguard demo` prints, run as a newcomer would: each command it shows.
  TEST_CASE("the demo's printed commands work as printed") {
    // The demo listens on fixed ports; skip when something holds them.
    for (int port : {2775, 2776, 2777, 9775}) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<std::uint16_t>(port));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      const bool busy = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      ::close(fd);
      if (busy) {
        MESSAGE("port " << port << " is in use (another demo?): walkthrough skipped");
        return;
      }
    }
    if (!have("curl")) {
      MESSAGE("curl is not installed: walkthrough skipped");
      return;
    }
    TempDir dir;
    std::map<std::string, std::string> env;
    if (!std::string(SMPPGUARD_SOURCE_DIR).empty()) {
      env["SMPPGUARD_DEMO_CONFIG"] = std::string(SMPPGUARD_SOURCE_DIR) + "/conf/demo.yaml";
    }
    Process demo({smppguard_bin(), "demo", "--dir", dir.path().string()}, dir.path() / "demo.log",
                 env);
    REQUIRE_MESSAGE(
        eventually([&] { return demo.log().find("Press Ctrl-C") != std::string::npos; }, 60s),
        demo.log());
    REQUIRE(eventually([&] { return http_get(9775, "/readyz").status == 200; }, 30s));
    const std::string text = demo.log();
    // The commands are the lines that start with "$ " (after indentation).
    std::vector<std::string> commands;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      const auto at = line.find("$ ");
      if (at != std::string::npos && line.find_first_not_of(' ') == at) {
        commands.push_back(line.substr(at + 2));
      }
    }
    REQUIRE_MESSAGE(commands.size() >= 7, text);
    std::vector<std::string> outputs;
    for (const auto& c : commands) {
      const auto r = shell(c);
      outputs.push_back(r.out);
      MESSAGE("$ " << c << "\n" << r.out.substr(0, 400));
      // Give the proxy's confirmation a moment after the STOP.
      if (c.find("/mo") != std::string::npos) std::this_thread::sleep_for(1500ms);
    }
    auto output_of = [&](const std::string& needle) -> std::string {
      for (std::size_t i = 0; i < commands.size(); ++i) {
        if (commands[i].find(needle) != std::string::npos) return outputs[i];
      }
      FAIL("no printed command contains " << needle);
      return "";
    };
    std::string sends;
    for (std::size_t i = 0; i < commands.size(); ++i) {
      if (commands[i].find("ctl send") != std::string::npos) sends += outputs[i] + "\n---\n";
    }
    // Refused for lack of consent, then accepted, then refused as opted out.
    const auto first = sends.find("0x00000401");
    const auto ok = sends.find("0x00000000");
    const auto last = sends.find("0x00000400");
    CHECK_MESSAGE(first != std::string::npos, sends);
    CHECK_MESSAGE(ok != std::string::npos, sends);
    CHECK_MESSAGE(last != std::string::npos, sends);
    CHECK((first < ok && ok < last));
    CHECK(output_of("/v1/consents/").find("\"state\":\"opted_in\"") != std::string::npos);
    CHECK(output_of("/messages").find("unsubscribed") != std::string::npos);
    CHECK(output_of("/metrics").find("smppguard_mt_decisions_total") != std::string::npos);
    demo.signal(SIGINT);
    CHECK(demo.wait(30s).value_or(-1) == 0);
  }

}  // TEST_SUITE
