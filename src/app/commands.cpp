#include "app/commands.hpp"

#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <iostream>
#include <thread>

#include "app/daemon.hpp"
#include "app/demo.hpp"
#include "common/log.hpp"
#include "config/config.hpp"
#include "sim/simulator.hpp"
#include "store/store.hpp"

namespace smppguard::app {

int run_daemon(const std::string& config_path, const std::string& ports_file) {
  config::Config cfg;
  try {
    std::vector<config::Diagnostic> warnings;
    cfg = config::load_config_file(config_path, &warnings);
    for (const auto& w : warnings) std::fprintf(stderr, "%s\n", w.to_string().c_str());
  } catch (const config::ConfigErrors& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  try {
    Daemon daemon(std::move(cfg), DaemonOptions{.config_path = config_path, .ports_file = ports_file});
    daemon.start();
    return daemon.run();
  } catch (const std::exception& e) {
    SG_LOG(error, "startup_failed").kv("error", e.what());
    return 1;
  }
}

int check_config(const std::string& config_path) {
  const auto result = config::check_config_file(config_path);
  for (const auto& w : result.warnings) std::fprintf(stderr, "%s\n", w.to_string().c_str());
  for (const auto& e : result.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (!result.ok()) return 2;
  std::printf("%s: ok\n", config_path.c_str());
  return 0;
}

int audit_verify(const std::string& store_path) {
  try {
    store::StoreOptions so;
    so.path = store_path;
    so.read_only = true;
    auto store = store::Store::open(so, SystemClock::instance());
    const auto report = store->verify_audit();
    if (report.whole) {
      std::printf("audit chain whole: %llu entries\n",
                  static_cast<unsigned long long>(report.entries));
      return 0;
    }
    std::printf("audit chain BROKEN at seq %llu: %s (%llu entries checked)\n",
                static_cast<unsigned long long>(report.first_bad_seq), report.reason.c_str(),
                static_cast<unsigned long long>(report.entries));
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "audit verify: %s\n", e.what());
    return 2;
  }
}

int smsc_sim(const std::map<std::string, std::string>& flags) {
  auto options = sim::parse_simulator_flags(flags);
  if (!options) {
    std::fprintf(stderr, "smppguard smsc-sim: %s\n", options.error().c_str());
    return 64;
  }
  const auto ports_file = flags.find("ports-file");
  try {
    boost::asio::io_context io;
    sim::Simulator simulator(io, *options);
    // Signals are caught before the ports file tells anyone that the simulator is up.
    boost::asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      SG_LOG(info, "signal").kv("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      simulator.stop([&io] { io.stop(); });
    });
    simulator.start();
    if (ports_file != flags.end() && !ports_file->second.empty()) {
      sim::write_ports_file(ports_file->second, simulator.smpp_port(), simulator.http_port());
    }
    SG_LOG(info, "sim_started")
        .kv("smpp", options->smpp.host + ":" + std::to_string(simulator.smpp_port()))
        .kv("http", options->http.host + ":" + std::to_string(simulator.http_port()))
        .kv("system_id", options->system_id.empty() ? std::string("*") : options->system_id);
    std::thread second([&io] { io.run(); });
    io.run();
    second.join();
    SG_LOG(info, "sim_stopped");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "smppguard smsc-sim: %s\n", e.what());
    return 1;
  }
}

int demo(const std::map<std::string, std::string>& flags) {
  for (const auto& [name, value] : flags) {
    if (name != "dir") {
      std::fprintf(stderr, "smppguard demo: unknown option --%s\n", name.c_str());
      return 64;
    }
  }
  const auto dir = flags.find("dir");
  return run_demo(dir == flags.end() ? std::string() : dir->second);
}

}  // namespace smppguard::app
