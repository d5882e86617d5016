// Interop drivers: each test suite starts the real daemon (and the carrier simulator, or a
// node-smpp SMSC) as processes on free loopback ports in a temp dir, runs one third-party peer
// script from tests/interop against them, prints the script's report and fails when the script
// fails.
//
//   node_esme  node-smpp as an ESME -> smppguard -> smsc-sim          (node_esme.js)
//   node_smsc  node-smpp as an ESME -> smppguard -> node-smpp SMSC    (node_smsc.js)
//   perl_esme  Net::SMPP as an ESME -> smppguard -> smsc-sim          (net_smpp_esme.pl)
//
// A suite exits with 77 (ctest SKIP_RETURN_CODE) before starting anything when its peer is not
// installed: node or tests/interop/node_modules/smpp, or perl's Net::SMPP. scripts/setup.sh
// installs both. SMPPGUARD_E2E_LOGS=1 prints the daemon's and the simulator's logs after a run.
#include <doctest/doctest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "harness.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kSkipped = 77;
// Each script has its own overall deadline of 150 s; ctest's TIMEOUT is 180 s.
constexpr auto kScriptTimeout = 160s;

const fs::path kInteropDir = INTEROP_SOURCE_DIR;

[[noreturn]] void skip(const std::string& why) {
  std::printf("SKIPPED: %s\n", why.c_str());
  std::fflush(stdout);
  std::exit(kSkipped);
}

// An interpreter: $INTEROP_<NAME> when set, else what CMake found, else `name` on PATH.
std::string interpreter(const char* env, const char* configured, const char* name) {
  if (const char* v = std::getenv(env); v != nullptr && *v != '\0') {
    return ::access(v, X_OK) == 0 ? std::string(v) : std::string();
  }
  if (configured[0] != '\0' && fs::exists(configured)) return configured;
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    for (std::size_t start = 0; start <= p.size();) {
      const auto end = std::min(p.find(':', start), p.size());
      const fs::path candidate = fs::path(p.substr(start, end - start)) / name;
      if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
      start = end + 1;
    }
  }
  return "";
}

std::string require_node() {
  const auto node = interpreter("INTEROP_NODE", INTEROP_NODE_DEFAULT, "node");
  if (node.empty())
    skip("node is not installed (scripts/setup.sh installs nodejs; or set INTEROP_NODE)");
  if (!fs::exists(kInteropDir / "node_modules" / "smpp" / "package.json")) {
    skip(
        "tests/interop/node_modules/smpp is missing: run `npm ci --prefix tests/interop` "
        "(scripts/setup.sh does)");
  }
  return node;
}

std::string require_perl_net_smpp() {
  const auto perl = interpreter("INTEROP_PERL", INTEROP_PERL_DEFAULT, "perl");
  if (perl.empty()) skip("perl is not installed");
  const std::string probe =
      "'" + perl + "' -MNet::SMPP -MJSON::PP -MHTTP::Tiny -e 1 >/dev/null 2>&1";
  if (std::system(probe.c_str()) != 0) {
    skip(
        "perl module Net::SMPP is missing (apt-get install libnet-smpp-perl; scripts/setup.sh "
        "does)");
  }
  return perl;
}

std::string tail(const std::string& text, std::size_t n = 6000) {
  return text.size() <= n ? text : "...\n" + text.substr(text.size() - n);
}

// Runs a peer script to its end (killing it after kScriptTimeout); prints its report; returns its
// exit status, or -1 when it had to be killed.
int run_script(const std::vector<std::string>& argv, const fs::path& log) {
  e2e::Process script(argv, log);
  auto status = script.wait(kScriptTimeout);
  if (!status) {
    script.signal(SIGTERM);
    script.wait(5s);
  }
  std::cout << "---- " << fs::path(argv.at(1)).filename().string() << "\n"
            << script.log() << "----" << std::endl;
  return status ? *status : -1;
}

void print_logs(const fs::path& dir) {
  std::cout << "---- daemon log (tail)\n"
            << tail(e2e::read_file(dir / "daemon.log")) << "---- simulator log (tail)\n"
            << tail(e2e::read_file(dir / "sim.log")) << "----" << std::endl;
}

bool show_logs() {
  const char* v = std::getenv("SMPPGUARD_E2E_LOGS");
  return v != nullptr && *v == '1';
}

}  // namespace

TEST_SUITE("node_esme") {
  TEST_CASE("node-smpp as an ESME through the proxy to smsc-sim") {
    const auto node = require_node();
    e2e::Harness h;
    const int status = run_script(
        {node, (kInteropDir / "node_esme.js").string(), "--proxy-port",
         std::to_string(h.smpp_port()), "--sim-http-port", std::to_string(h.sim().http_port()),
         "--system-id", e2e::cfg::kApp1, "--password", e2e::cfg::kApp1Password, "--program-number",
         e2e::cfg::kAcmeNumber, "--subscriber", e2e::cfg::kSubscriber},
        h.dir().path() / "node_esme.log");
    if (status != 0 || show_logs()) print_logs(h.dir().path());
    CHECK_MESSAGE(status == 0, "node_esme.js exited with " << status);
  }
}

TEST_SUITE("node_smsc") {
  TEST_CASE("node-smpp as the upstream SMSC and as the ESME, the proxy between") {
    const auto node = require_node();
    e2e::TempDir dir;
    const auto smsc_ports = dir.path() / "smsc-ports.json";
    const auto daemon_ports = dir.path() / "ports.json";
    // The script listens as the SMSC first (its port is in the daemon's config), then waits for
    // the daemon's ports file to bind its ESME.
    e2e::Process script(
        {node, (kInteropDir / "node_smsc.js").string(), "--smsc-ports-file", smsc_ports.string(),
         "--daemon-ports-file", daemon_ports.string(), "--upstream-system-id",
         e2e::cfg::kSimSystemId, "--upstream-password", e2e::cfg::kSimPassword, "--system-id",
         e2e::cfg::kApp1, "--password", e2e::cfg::kApp1Password, "--short-code",
         e2e::cfg::kAcmeShortCode, "--program-number", e2e::cfg::kAcmeNumber},
        dir.path() / "node_smsc.log");
    const bool listening = e2e::wait_for_file(smsc_ports, 30s);
    if (!listening) std::cout << script.log();
    REQUIRE_MESSAGE(listening, "node_smsc.js wrote no ports file");
    const auto ports = boost::json::parse(e2e::read_file(smsc_ports));

    e2e::ConfigSpec spec;
    spec.upstream_port = static_cast<std::uint16_t>(ports.at("smpp").to_number<int>());
    spec.store_path = (dir.path() / "store").string();
    const auto config = dir.path() / "smppguard.yaml";
    e2e::write_file(config, spec.render());

    std::optional<e2e::DaemonProcess> daemon;
    try {
      daemon.emplace(config, daemon_ports, dir.path() / "daemon.log");
    } catch (const std::exception& e) {
      std::cout << script.log();
      FAIL(e.what());
    }
    auto status = script.wait(kScriptTimeout);
    if (!status) {
      script.signal(SIGTERM);
      script.wait(5s);
    }
    std::cout << "---- node_smsc.js\n" << script.log() << "----" << std::endl;
    const int rc = status ? *status : -1;
    daemon.reset();  // SIGTERM: the daemon stops before the temp dir goes
    if (rc != 0 || show_logs()) print_logs(dir.path());
    CHECK_MESSAGE(rc == 0, "node_smsc.js exited with " << rc);
  }
}

TEST_SUITE("perl_esme") {
  TEST_CASE("Net::SMPP as an ESME through the proxy to smsc-sim") {
    const auto perl = require_perl_net_smpp();
    e2e::Harness h;
    const int status = run_script(
        {perl, (kInteropDir / "net_smpp_esme.pl").string(), "--proxy-port",
         std::to_string(h.smpp_port()), "--sim-http-port", std::to_string(h.sim().http_port()),
         "--system-id", e2e::cfg::kApp1, "--password", e2e::cfg::kApp1Password, "--short-code",
         e2e::cfg::kAcmeShortCode},
        h.dir().path() / "net_smpp_esme.log");
    if (status != 0 || show_logs()) print_logs(h.dir().path());
    CHECK_MESSAGE(status == 0, "net_smpp_esme.pl exited with " << status);
  }
}
