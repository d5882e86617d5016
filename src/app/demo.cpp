#include "app/demo.hpp"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "app/daemon.hpp"
#include "common/log.hpp"
#include "sim/simulator.hpp"

#ifndef SMPPGUARD_SOURCE_DIR
#define SMPPGUARD_SOURCE_DIR ""
#endif

namespace smppguard::app {

namespace fs = std::filesystem;
namespace asio = boost::asio;

namespace {

constexpr std::string_view kSimHttp = "127.0.0.1:2777";

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// An error naming the address when something already listens on it; "" when it is free.
std::string port_in_use(const config::HostPort& hp, std::string_view what) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(hp.host, ec);
  if (!ec) acceptor.open(address.is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), ec);
  if (!ec) acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind({address, hp.port}, ec);
  if (!ec) return "";
  return "smppguard demo: cannot listen on " + hp.to_string() + " (" + std::string(what) +
         "): " + ec.message() + ". Is another smppguard demo or smsc-sim running?";
}

std::string make_temp_dir() {
  std::string templ = (fs::temp_directory_path() / "smppguard-demo-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) return "";
  return templ;
}

}  // namespace

std::string binary_for_shell() {
  std::error_code ec;
  const auto self = fs::canonical("/proc/self/exe", ec);
  if (ec) return "smppguard";
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::string_view rest = path;
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const auto dir = rest.substr(0, colon);
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
      if (dir.empty()) continue;
      std::error_code e2;
      const auto candidate = fs::canonical(fs::path(dir) / "smppguard", e2);
      if (!e2) {
        if (candidate == self) return "smppguard";
        break;  // another smppguard comes first on PATH: name this one exactly
      }
    }
  }
  return self.string();
}

std::string demo_instructions(const DemoInfo& info) {
  std::string t;
  auto line = [&t](std::string_view s) { t.append(s).append("\n"); };
  // The program with a strict opt_in_mode (the walkthrough needs "refused without consent").
  std::string program_id = "acme-alerts";
  std::string program_number = "+18005550100";
  for (const auto& [id, numbers] : info.programs) {
    if (numbers.find("(strict)") == std::string::npos && &id != &info.programs.back().first) {
      continue;
    }
    program_id = id;
    program_number = numbers.substr(0, numbers.find_first_of(", "));
    break;
  }
  const std::string& sub = info.subscriber;
  const std::string sub_path = "%2B" + (sub.starts_with('+') ? sub.substr(1) : sub);
  const std::string send = info.binary + " ctl send --smpp " + info.proxy_smpp + " --system-id " +
                           info.system_id + " --password " + info.password + " --from " +
                           program_number + " --to " + sub + " --text 'Your order has shipped'";
  const std::string auth = "-H 'Authorization: Bearer " + info.admin_token + "'";
  const std::string consent_url =
      "http://" + info.proxy_http + "/v1/consents/" + program_id + "/" + sub_path;

  line("");
  line("smppguard demo: the proxy and a simulated carrier are running on loopback.");
  line("");
  line("  Proxy (SMPP)  " + info.proxy_smpp + "  system_id \"" + info.system_id +
       "\"  password \"" + info.password + "\"  (any SMPP client can bind here)");
  line("  Admin API     http://" + info.proxy_http +
       (info.admin_token.empty() ? "" : "  (Authorization: Bearer " + info.admin_token + ")"));
  line("  Carrier       the simulator: SMPP " + info.sim_smpp + ", HTTP " + info.sim_http);
  for (const auto& [id, numbers] : info.programs) line("  Program       " + id + ": " + numbers);
  line("  Store         " + info.store_dir +
       (info.store_removed_on_exit ? "  (removed on exit; --dir DIR keeps it)" : ""));
  line("");
  line("Try it, in another terminal, one command at a time:");
  line("");
  line("  1. Bind as the demo application and send an MT to a subscriber who never agreed:");
  line("     refused with 0x00000401 (no_consent).");
  line("     $ " + send);
  line("");
  line("  2. Record the subscriber's consent, as a CRM would after a web sign-up (201 Created):");
  line("     $ curl -s -X PUT " + auth + " " + consent_url +
       " -d '{\"state\":\"opted_in\",\"level\":\"express\",\"source\":\"web_form\","
       "\"evidence\":{\"form\":\"signup-v1\"}}'");
  line("");
  line("  3. Send again: accepted (0x00000000) and forwarded to the carrier.");
  line("     $ " + send);
  line("");
  line("  4. The subscriber texts STOP, through the simulated carrier:");
  line("     $ curl -s -X POST http://" + info.sim_http + "/mo -d '{\"from\":\"" + sub +
       "\",\"to\":\"" + program_number + "\",\"text\":\"STOP\"}'");
  line("");
  line("  5. What the carrier received: your MT, then the proxy's one opt-out confirmation.");
  line("     $ curl -s http://" + info.sim_http + "/messages");
  line("");
  line("  6. Send again: refused with 0x00000400 (opted_out). The application never had to know.");
  line("     $ " + send);
  line("");
  line("  7. The record with its audit trail (who, when, evidence, the STOP's text), and the");
  line("     Prometheus metrics:");
  line("     $ curl -s " + auth + " " + consent_url);
  line("     $ curl -s http://" + info.proxy_http + "/metrics");
  line("");
  line("  More: " + info.binary + " ctl --help  (SMPPGUARD_URL=http://" + info.proxy_http +
       " SMPPGUARD_TOKEN=" + info.admin_token + ")");
  line("");
  line("Press Ctrl-C to stop.");
  return t;
}

std::string find_demo_config(std::vector<std::string>* searched) {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("SMPPGUARD_DEMO_CONFIG"); env != nullptr && *env != '\0') {
    candidates.emplace_back(env);
  }
  candidates.emplace_back("conf/demo.yaml");
  if (std::string_view(SMPPGUARD_SOURCE_DIR).size() > 0) {
    candidates.push_back(fs::path(SMPPGUARD_SOURCE_DIR) / "conf" / "demo.yaml");
  }
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(exe.parent_path().parent_path() / "share/smppguard/demo.yaml");
  for (const auto& c : candidates) {
    if (searched) searched->push_back(c.string());
    if (is_file(c)) return c.string();
  }
  return "";
}

DemoInfo demo_info(const config::Config& config, const std::string& sim_smpp,
                   const std::string& sim_http) {
  DemoInfo info;
  info.proxy_smpp = config.listen.smpp.to_string();
  info.proxy_http = config.listen.http.to_string();
  info.sim_smpp = sim_smpp;
  info.sim_http = sim_http;
  if (!config.accounts.empty()) {
    info.system_id = config.accounts.front().system_id;
    info.password = config.accounts.front().password;
  }
  if (!config.admin.tokens.empty()) info.admin_token = config.admin.tokens.front().token;
  for (const auto& p : config.programs) {
    std::string numbers;
    for (const auto& n : p.numbers) numbers += (numbers.empty() ? "" : ", ") + n;
    info.programs.emplace_back(
        p.id, numbers + " (" + std::string(config::to_string(p.opt_in_mode)) + ")");
  }
  info.store_dir = config.store.path;
  return info;
}

int run_demo(const std::string& dir) {
  std::vector<std::string> searched;
  const std::string config_path = find_demo_config(&searched);
  if (config_path.empty()) {
    std::fprintf(stderr, "smppguard demo: no demo config found; looked in:\n");
    for (const auto& s : searched) std::fprintf(stderr, "  %s\n", s.c_str());
    std::fprintf(stderr, "set SMPPGUARD_DEMO_CONFIG to conf/demo.yaml of the source tree\n");
    return 1;
  }
  config::Config cfg;
  try {
    cfg = config::load_config_file(config_path);
  } catch (const config::ConfigErrors& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }

  const bool temp = dir.empty();
  const std::string base = temp ? make_temp_dir() : dir;
  if (base.empty()) {
    std::fprintf(stderr, "smppguard demo: cannot create a temporary directory\n");
    return 1;
  }
  cfg.store.path = (fs::path(base) / "store").string();

  sim::SimulatorOptions sim_options;
  sim_options.http = *config::HostPort::parse(kSimHttp);
  const config::Upstream* upstream = cfg.find_upstream("sim");
  if (upstream == nullptr && !cfg.upstreams.empty()) upstream = &cfg.upstreams.front();
  if (upstream != nullptr) sim_options.smpp = config::HostPort{upstream->host, upstream->port};

  const std::pair<const config::HostPort*, std::string_view> ports[] = {
      {&cfg.listen.smpp, "the proxy's SMPP port"},
      {&cfg.listen.http, "the proxy's HTTP port"},
      {&sim_options.smpp, "the simulator's SMPP port"},
      {&sim_options.http, "the simulator's HTTP port"}};
  for (const auto& [hp, what] : ports) {
    if (auto error = port_in_use(*hp, what); !error.empty()) {
      std::fprintf(stderr, "%s\n", error.c_str());
      if (temp) fs::remove_all(base);
      return 1;
    }
  }

  int rc = 0;
  {
    const DemoInfo info = [&] {
      auto i = demo_info(cfg, sim_options.smpp.to_string(), sim_options.http.to_string());
      i.store_removed_on_exit = temp;
      i.binary = binary_for_shell();
      return i;
    }();
    Daemon daemon(std::move(cfg), DaemonOptions{.config_path = config_path});
    std::unique_ptr<sim::Simulator> simulator;
    try {
      simulator = std::make_unique<sim::Simulator>(daemon.io(), sim_options);
      simulator->start();
      daemon.start();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "smppguard demo: %s\n", e.what());
      simulator.reset();
      rc = 1;
    }
    if (rc == 0) {
      const std::string text = demo_instructions(info);
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
      rc = daemon.run();
      // The daemon's shutdown has unbound its upstream from the simulator and stopped the
      // io_context; the simulator goes before the io_context it ran on.
      simulator.reset();
    }
  }
  if (temp) {
    std::error_code ec;
    fs::remove_all(base, ec);
  }
  return rc;
}

}  // namespace smppguard::app
