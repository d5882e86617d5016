#pragma once
// Daemon: the wiring of smppguard. Opens the store, builds the runtime (config + policy chain),
// starts the ESME listener, the upstream binds, the delivery lanes and the admin HTTP server on
// one io_context, and handles SIGTERM/SIGINT (graceful shutdown) and SIGHUP (reload).
//
// Flow: start() (throws on start-up errors: bad store path, port in use) -> run() blocks until
// shutdown -> shutdown: stop accepting, ask every ESME to unbind, unbind upstreams, let in-flight
// requests finish within the grace period, close the store.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "admin/admin_api.hpp"
#include "admin/http_server.hpp"
#include "cluster/link.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "session/consent_chain.hpp"
#include "session/delivery.hpp"
#include "session/intake.hpp"
#include "session/listener.hpp"
#include "session/registry.hpp"
#include "session/services.hpp"
#include "session/upstream.hpp"
#include "store/store.hpp"

namespace smppguard::app {

struct DaemonOptions {
  std::string config_path;                // for SIGHUP reloads ("" = no reload)
  std::string ports_file;                 // write {"smpp":P,"http":P} once listening ("" = none)
  std::chrono::milliseconds grace{5000};  // shutdown: time for in-flight requests
  unsigned threads = 0;                   // network threads; 0 = hardware concurrency (at least 2)
};

/// Builds the policy chain for a config (the seam; replaced when consent enforcement is on).
using ChainFactory =
    std::function<std::shared_ptr<session::PolicyChain>(const config::Config&, session::Services&)>;

class Daemon {
 public:
  Daemon(config::Config config, DaemonOptions options, ChainFactory chains = {});
  ~Daemon();
  /// Opens everything and starts listening. Throws std::exception with a clear message.
  void start();
  /// Runs the network threads until shutdown completes. Returns the exit code.
  int run();
  /// Starts a graceful shutdown (any thread).
  void request_shutdown();
  /// Re-reads the config file and swaps accounts, programs and templates in (any thread).
  bool reload();

  boost::asio::io_context& io() { return io_; }
  unsigned short smpp_port() const;
  unsigned short http_port() const;
  session::Services& services() { return *services_; }

 private:
  void wait_signals();
  void shutdown_sequence();
  void write_ports_file();
  void log_audit_head();
  std::shared_ptr<session::PolicyChain> make_chain(std::shared_ptr<const config::Config> config);
  boost::asio::awaitable<admin::HttpResponse> handle_http(admin::HttpRequest& request);
  /// systemd's watchdog: WATCHDOG=1 at half of $WATCHDOG_USEC, from the io_context (a stuck
  /// event loop stops the pings and systemd restarts the daemon).
  void start_watchdog();
  void watchdog_tick();

  config::Config initial_;
  DaemonOptions options_;
  ChainFactory chains_;
  boost::asio::io_context io_;
  boost::asio::thread_pool blocking_{2};
  boost::asio::signal_set signals_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> shutdown_started_{false};
  bool signals_added_ = false;

  metrics::Metrics metrics_;
  std::shared_ptr<cluster::Link> cluster_;  // cluster mode only; declared before the store
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<session::RuntimeHolder> runtime_;
  session::SessionRegistry registry_;
  session::Upstreams upstreams_;
  session::BindGuard bind_guard_;
  session::AccountThrottles throttles_;
  session::DeliveryManager delivery_;
  session::RouteGate routes_;
  std::unique_ptr<session::Services> services_;
  std::unique_ptr<session::Intake> intake_;
  std::unique_ptr<session::ConsentServices> consent_;
  std::unique_ptr<session::EsmeListener> listener_;
  std::unique_ptr<admin::AdminApi> admin_;
  std::unique_ptr<admin::HttpServer> http_;
  std::unique_ptr<boost::asio::steady_timer> watchdog_;
  std::chrono::microseconds watchdog_period_{};
};

}  // namespace smppguard::app
