#include "app/commands.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "admin/consent_import.hpp"
#include "app/ctl.hpp"
#include "app/daemon.hpp"
#include "app/demo.hpp"
#include "cluster/audit_verify.hpp"
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
    Daemon daemon(std::move(cfg),
                  DaemonOptions{.config_path = config_path, .ports_file = ports_file});
    daemon.start();
    return daemon.run();
  } catch (const cluster::StartError& e) {
    SG_LOG(error, "startup_failed").kv("error", e.what());
    return e.exit_code();
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

namespace {

// --expect-head SEQ:HASH; false when it is not that.
bool parse_expect_head(const std::string& text, std::uint64_t& seq, std::string& hash) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) return false;
  hash = text.substr(colon + 1);
  return std::from_chars(text.data(), text.data() + colon, seq).ec == std::errc{} &&
         hash.size() == 64;
}

void print_chain_report(const store::AuditVerifyReport& report, const char* where) {
  if (report.whole) {
    std::printf("audit chain%s whole: %llu entries\n", where,
                static_cast<unsigned long long>(report.entries));
  } else {
    std::printf("audit chain%s BROKEN at seq %llu: %s (%llu entries checked)\n", where,
                static_cast<unsigned long long>(report.first_bad_seq), report.reason.c_str(),
                static_cast<unsigned long long>(report.entries));
  }
}

// Whether the anchor kept outside matches; prints the verdict.
bool print_anchor(std::uint64_t seq, const std::optional<std::string>& got,
                  const std::string& want) {
  const bool anchored = got && *got == want;
  if (anchored) {
    std::printf("audit head %llu matches the expected hash\n",
                static_cast<unsigned long long>(seq));
  } else {
    std::printf("audit head %llu does NOT match the expected hash: %s\n",
                static_cast<unsigned long long>(seq),
                got ? ("the log has " + *got).c_str() : "the entry is missing");
  }
  return anchored;
}

}  // namespace

int audit_verify_cluster(const std::string& config_path, const std::string& expect_head) {
  try {
    const auto cfg = config::load_config_file(config_path);
    if (!cfg.cluster) {
      std::fprintf(stderr, "audit verify: %s has no cluster section (use --store DIR)\n",
                   config_path.c_str());
      return 2;
    }
    std::uint64_t seq = 0;
    std::string want;
    if (!expect_head.empty() && !parse_expect_head(expect_head, seq, want)) {
      std::fprintf(stderr, "audit verify: --expect-head must be SEQ:HASH (64 hex chars)\n");
      return 2;
    }
    boost::asio::io_context io;
    std::string hash_at;
    std::optional<std::pair<int, std::string>> outcome;
    const auto check = [&]() -> boost::asio::awaitable<void> {
      cluster::PgError why;
      auto pg = co_await cluster::PgConnection::connect(io.get_executor(), cfg.cluster->postgres,
                                                        std::chrono::seconds(10), &why);
      if (!pg) {
        outcome = {2, "cannot connect to PostgreSQL: " + why.message};
        co_return;
      }
      auto report = co_await cluster::verify_cluster_audit(
          **pg, cfg.cluster->schema,
          expect_head.empty() ? std::nullopt : std::optional<std::uint64_t>(seq), &hash_at,
          std::chrono::seconds(60));
      if (!report) {
        outcome = {2, "cannot read the audit table: " + (*pg)->last_error().message};
        co_return;
      }
      print_chain_report(*report, " (PostgreSQL)");
      bool anchored = true;
      if (!expect_head.empty()) {
        anchored = print_anchor(seq, hash_at.empty() ? std::nullopt : std::optional(hash_at), want);
      }
      outcome = {report->whole && anchored ? 0 : 1, ""};
    };
    boost::asio::co_spawn(io, check, boost::asio::detached);
    io.run();
    if (!outcome) return 2;
    if (!outcome->second.empty())
      std::fprintf(stderr, "audit verify: %s\n", outcome->second.c_str());
    return outcome->first;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "audit verify: %s\n", e.what());
    return 2;
  }
}

int audit_verify(const std::string& store_path, const std::string& expect_head) {
  try {
    store::StoreOptions so;
    so.path = store_path;
    so.read_only = true;
    auto store = store::Store::open(so, SystemClock::instance());
    const auto report = store->verify_audit();
    print_chain_report(report, "");
    // An anchor kept outside: a chain rewritten from some entry on, head included, passes the
    // walk above, but not this.
    bool anchored = true;
    if (!expect_head.empty()) {
      std::uint64_t seq = 0;
      std::string want;
      if (!parse_expect_head(expect_head, seq, want)) {
        std::fprintf(stderr, "audit verify: --expect-head must be SEQ:HASH (64 hex chars)\n");
        return 2;
      }
      const auto got = store->audit_hash_at(seq);
      anchored = print_anchor(seq, got ? std::optional(*got) : std::nullopt, want);
    }
    // The log proves itself; the consent records must also agree with the log.
    const auto consents = store->verify_consents();
    if (!consents.error.empty()) {
      std::printf("consent records: cannot be checked: %s\n", consents.error.c_str());
      return 1;
    }
    for (const auto& p : consents.problems) {
      std::printf("consent record %s %s BAD: %s\n", p.owner.c_str(), p.msisdn.c_str(),
                  p.reason.c_str());
    }
    if (consents.bad == 0) {
      std::printf("consent records: %llu checked, all match their seal and audit history",
                  static_cast<unsigned long long>(consents.records));
    } else {
      std::printf("consent records: %llu of %llu BAD",
                  static_cast<unsigned long long>(consents.bad),
                  static_cast<unsigned long long>(consents.records));
    }
    if (consents.unsealed != 0) {
      std::printf(" (%llu written before sealing: sealed at the daemon's next start)",
                  static_cast<unsigned long long>(consents.unsealed));
    }
    std::printf("\n");
    return report.whole && anchored && consents.bad == 0 ? 0 : 1;
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

namespace {

// Program ids an import may name when no config is given: what the config loader accepts.
bool plausible_program_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

int consent_import(const std::map<std::string, std::string>& flags) {
  for (const auto& [name, value] : flags) {
    if (name != "store" && name != "file" && name != "config" && name != "actor" &&
        name != "batch") {
      std::fprintf(stderr, "smppguard consent import: unknown option --%s\n", name.c_str());
      return 2;
    }
  }
  auto flag = [&](const char* name) -> std::string {
    auto it = flags.find(name);
    return it == flags.end() ? std::string() : it->second;
  };
  const std::string file = flag("file");
  if (file.empty()) {
    std::fprintf(stderr, "smppguard consent import: --file FILE.ndjson is required\n");
    return 2;
  }
  std::size_t batch_lines = 1000;
  if (const auto b = flag("batch"); !b.empty()) {
    batch_lines = std::strtoull(b.c_str(), nullptr, 10);
    if (batch_lines == 0 || batch_lines > 100000) {
      std::fprintf(stderr, "smppguard consent import: --batch is 1 to 100000\n");
      return 2;
    }
  }
  std::shared_ptr<const config::Config> cfg;
  if (const auto path = flag("config"); !path.empty()) {
    try {
      cfg = std::make_shared<const config::Config>(config::load_config_file(path));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return 2;
    }
  }
  std::string store_path = flag("store");
  if (store_path.empty() && cfg) store_path = cfg->store.path;
  if (store_path.empty()) {
    std::fprintf(stderr, "smppguard consent import: --store DIR (or --config FILE) is required\n");
    return 2;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "smppguard consent import: cannot read %s\n", file.c_str());
    return 2;
  }
  std::unique_ptr<store::Store> store;
  try {
    store::StoreOptions so;
    so.path = store_path;
    so.node_id = cfg ? cfg->node_id : "import";
    so.sync = true;
    store = store::Store::open(so, SystemClock::instance());
  } catch (const std::exception& e) {
    std::fprintf(stderr,
                 "smppguard consent import: %s (stop the daemon first: the store is locked "
                 "while it runs)\n",
                 e.what());
    return 2;
  }

  // Programs: from the config, or (without one) any well-formed id, tenant unknown.
  std::map<std::string, std::unique_ptr<config::Program>, std::less<>> loose;
  policy::ProgramLookup lookup = [&](std::string_view id) -> const config::Program* {
    if (cfg) return cfg->find_program(id);
    if (!plausible_program_id(id)) return nullptr;
    auto it = loose.find(id);
    if (it == loose.end()) {
      auto p = std::make_unique<config::Program>();
      p->id = std::string(id);
      p->numbers = {};
      it = loose.emplace(std::string(id), std::move(p)).first;
    }
    return it->second.get();
  };
  admin::ConsentImporter::Options options;
  options.batch_lines = batch_lines;
  admin::ConsentImporter importer(lookup, options);
  const std::string actor_name =
      flag("actor").empty() ? std::filesystem::path(file).filename().string() : flag("actor");
  const policy::Actor actor{"import:" + actor_name};
  policy::ApplyOptions apply;
  apply.held_messages = false;  // nobody could send their receipts now; see consent_api.hpp

  // Up to kInFlight batches queued at the writer while the next ones are parsed.
  constexpr std::size_t kInFlight = 8;
  std::mutex mu;
  std::condition_variable cv;
  std::size_t in_flight = 0;
  std::deque<std::pair<std::shared_ptr<admin::ImportBatch>, std::error_code>> finished;
  auto drain = [&](std::unique_lock<std::mutex>& lock) {
    while (!finished.empty()) {
      auto [batch, ec] = std::move(finished.front());
      finished.pop_front();
      lock.unlock();
      importer.completed(*batch, ec);
      lock.lock();
    }
  };
  auto submit = [&](std::shared_ptr<admin::ImportBatch> batch) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight < kInFlight || !finished.empty(); });
      drain(lock);
      cv.wait(lock, [&] { return in_flight < kInFlight; });
      ++in_flight;
    }
    store->submit(batch->mutation(actor, SystemClock::instance().now(), apply), false,
                  [&, batch](std::error_code ec) {
                    std::lock_guard lock(mu);
                    --in_flight;
                    finished.emplace_back(batch, ec);
                    cv.notify_all();
                  });
  };

  const auto started = std::chrono::steady_clock::now();
  std::vector<char> buffer(1u << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) break;
    importer.feed(std::string_view(buffer.data(), got));
    while (auto batch = importer.next_batch()) submit(std::move(batch));
  }
  importer.finish();
  while (auto batch = importer.next_batch()) submit(std::move(batch));
  // One fsync for everything: a sync request with nothing to write still syncs the WAL.
  std::error_code sync_error;
  {
    bool synced = false;
    store->submit([](store::Batch&) {}, true,
                  [&](std::error_code ec) {
                    std::lock_guard lock(mu);
                    sync_error = ec;
                    synced = true;
                    cv.notify_all();
                  });
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return synced && in_flight == 0; });
    drain(lock);
  }
  store->close();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const std::string report = admin::import_report(importer);
  std::fwrite(report.data(), 1, report.size(), stdout);
  const auto& s = importer.summary();
  std::fprintf(stderr,
               "consent import: %llu lines in %.2f s (%.0f lines/s): %llu applied, %llu "
               "rejected\n",
               static_cast<unsigned long long>(s.lines), seconds,
               seconds > 0 ? static_cast<double>(s.lines) / seconds : 0.0,
               static_cast<unsigned long long>(s.applied),
               static_cast<unsigned long long>(s.rejected));
  if (sync_error) {
    std::fprintf(stderr, "consent import: the final fsync failed: %s\n",
                 sync_error.message().c_str());
    return 2;
  }
  return s.rejected == 0 ? 0 : 1;
}

int ctl_command(const std::vector<std::string>& args) { return ctl(args); }

}  // namespace smppguard::app
