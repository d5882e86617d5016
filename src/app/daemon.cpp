#include "app/daemon.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "app/sd_notify.hpp"
#include "common/log.hpp"
#include "session/esme_session.hpp"

namespace smppguard::app {

namespace asio = boost::asio;

Daemon::Daemon(config::Config config, DaemonOptions options, ChainFactory chains)
    : initial_(std::move(config)),
      options_(std::move(options)),
      chains_(std::move(chains)),
      signals_(io_) {}

Daemon::~Daemon() {
  // The store first: its writer may still need the cluster link to commit what is queued.
  if (store_) store_->close();
  if (cluster_) cluster_->stop();
}

void Daemon::start() {
  log::set_level(initial_.log.level);
  if (initial_.cluster) {
    // Connects, migrates and claims node_id first: a second process with this id exits 2
    // before it touches the store (cluster::StartError).
    cluster_ = cluster::Link::open(*initial_.cluster, initial_.node_id, metrics_);
  }
  std::error_code ec;
  std::filesystem::create_directories(initial_.store.path, ec);
  store::StoreOptions so;
  so.path = initial_.store.path;
  so.node_id = initial_.node_id;
  so.sync = initial_.store.sync;
  so.message_map_ttl = initial_.store.message_map_ttl;
  so.min_free_bytes = std::uint64_t{initial_.store.min_free_mb} << 20;
  store_ = store::Store::open(so, SystemClock::instance());
  if (cluster_) {
    // A store with a history of its own (single-node mode) cannot become a replica: its audit
    // chain is not the cluster's. A cluster node starts on an empty store (docs/cluster.md).
    const auto head = store_->audit_head();
    if (store_->cluster_version() == 0 && head && head->seq > 0) {
      throw std::runtime_error("cluster: the store at " + initial_.store.path + " has " +
                               std::to_string(head->seq) +
                               " audit entries of its own (single-node mode); a cluster node "
                               "needs an empty store (docs/cluster.md, \"Add a node\")");
    }
    store_->attach_cluster(cluster_);
  }

  auto cfg = std::make_shared<const config::Config>(initial_);
  runtime_ = std::make_unique<session::RuntimeHolder>(
      std::make_shared<const session::Runtime>(session::Runtime{cfg, nullptr}));
  services_ = std::make_unique<session::Services>(session::Services{
      io_, *store_, metrics_, *runtime_, registry_, upstreams_, delivery_, bind_guard_, throttles_,
      blocking_, SystemClock::instance(), stopping_, routes_});
  delivery_.init(*services_);
  consent_ = std::make_unique<session::ConsentServices>(*services_);
  runtime_->store(std::make_shared<const session::Runtime>(session::Runtime{cfg, make_chain(cfg)}));

  registry_.on_receiver_bound([this](const std::string& target) { delivery_.notify(target); });
  intake_ = std::make_unique<session::Intake>(*services_);
  for (const auto& up : cfg->upstreams) {
    upstreams_.add(std::make_unique<session::UpstreamPool>(*services_, *intake_, up));
  }
  listener_ = std::make_unique<session::EsmeListener>(*services_, cfg->listen.smpp);
  admin_ = std::make_unique<admin::AdminApi>(*services_, *consent_, cluster_.get());
  http_ = std::make_unique<admin::HttpServer>(
      io_, cfg->listen.http,
      [this](admin::HttpRequest& r) -> asio::awaitable<admin::HttpResponse> {
        co_return co_await handle_http(r);
      },
      admin::HttpLimits{.max_body = admin::AdminApi::kMaxBody},
      [this](const admin::HttpRequest& r) { return admin_->body_policy(r); });

  metrics_.queue_depth("mo").Set(
      static_cast<double>(store_->queued_deliveries(store::DeliveryKind::mo)));
  metrics_.queue_depth("receipt").Set(
      static_cast<double>(store_->queued_deliveries(store::DeliveryKind::receipt)));
  metrics_.queue_depth("held_mt").Set(static_cast<double>(store_->held_messages()));
  metrics_.queue_depth("outbox").Set(
      static_cast<double>(store_->queued_deliveries(store::DeliveryKind::outbox)));

  if (cluster_) {
    cluster_->start(
        *store_,
        [this] {
          cluster::NodeBinds b;
          b.esme = static_cast<int>(registry_.all().size());
          for (const auto& link : upstreams_.links()) b.upstream += link.bound ? 1 : 0;
          return b;
        },
        // A YES or STOP taken by another node: the MTs held here for that subscriber follow it.
        [this](std::vector<std::pair<std::string, std::string>> subscribers) {
          consent_->follow_replicated(std::move(subscribers));
        });
  }
  listener_->start();
  http_->start();
  upstreams_.start();
  delivery_.start();
  consent_->start();
  wait_signals();
  start_watchdog();
  write_ports_file();
  SG_LOG(info, "started")
      .kv("node_id", cfg->node_id)
      .kv("smpp", cfg->listen.smpp.host + ":" + std::to_string(smpp_port()))
      .kv("http", cfg->listen.http.host + ":" + std::to_string(http_port()))
      .kv("store", cfg->store.path);
  log_audit_head();
}

void Daemon::log_audit_head() {
  // Operators anchor this outside the gateway: with it, `audit verify --expect-head` catches a
  // rewrite of the whole chain, which the chain alone cannot.
  if (auto head = store_->audit_head()) {
    SG_LOG(info, "audit_head").kv("seq", head->seq).kv("hash", head->hash);
  }
}

std::shared_ptr<session::PolicyChain> Daemon::make_chain(
    std::shared_ptr<const config::Config> config) {
  if (chains_) return chains_(*config, *services_);
  return std::make_shared<session::ConsentChain>(std::move(config), *consent_);
}

unsigned short Daemon::smpp_port() const { return listener_->local_endpoint().port(); }
unsigned short Daemon::http_port() const { return http_->local_endpoint().port(); }

void Daemon::write_ports_file() {
  if (options_.ports_file.empty()) return;
  boost::json::object o;
  o["smpp"] = smpp_port();
  o["http"] = http_port();
  const auto tmp = options_.ports_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << boost::json::serialize(o) << "\n";
  }
  std::filesystem::rename(tmp, options_.ports_file);
}

void Daemon::wait_signals() {
  if (!signals_added_) {
    signals_.add(SIGTERM);
    signals_.add(SIGINT);
    signals_.add(SIGHUP);
    signals_added_ = true;
  }
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      sd_notify("RELOADING=1");
      reload();
      sd_notify("READY=1");
      wait_signals();
      return;
    }
    SG_LOG(info, "signal").kv("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    request_shutdown();
  });
}

bool Daemon::reload() {
  if (options_.config_path.empty()) return false;
  try {
    std::vector<config::Diagnostic> warnings;
    auto next = config::load_config_file(options_.config_path, &warnings);
    for (const auto& w : warnings) SG_LOG(warn, "config_warning").kv("detail", w.to_string());
    const auto current = runtime_->load();
    const auto& old = *current->config;
    if (next.node_id != old.node_id || next.store != old.store || next.listen != old.listen ||
        next.upstreams != old.upstreams || next.cluster != old.cluster) {
      SG_LOG(warn, "reload_partial")
          .kv("detail", "node_id, store, listen, upstreams and cluster changes need a restart");
      next.node_id = old.node_id;
      next.store = old.store;
      next.listen = old.listen;
      next.upstreams = old.upstreams;
      next.cluster = old.cluster;
      next.build_index();
    }
    log::set_level(next.log.level);
    auto cfg = std::make_shared<const config::Config>(std::move(next));
    runtime_->store(
        std::make_shared<const session::Runtime>(session::Runtime{cfg, make_chain(cfg)}));
    SG_LOG(info, "reloaded")
        .kv("accounts", static_cast<std::uint64_t>(cfg->accounts.size()))
        .kv("programs", static_cast<std::uint64_t>(cfg->programs.size()));
    return true;
  } catch (const config::ConfigErrors& e) {
    for (const auto& d : e.errors()) SG_LOG(error, "reload_rejected").kv("detail", d.to_string());
  } catch (const std::exception& e) {
    SG_LOG(error, "reload_rejected").kv("detail", e.what());
  }
  return false;
}

void Daemon::request_shutdown() {
  if (shutdown_started_.exchange(true)) return;
  asio::post(io_, [this] { shutdown_sequence(); });
}

void Daemon::shutdown_sequence() {
  sd_notify("STOPPING=1");
  stopping_ = true;
  listener_->stop();
  for (auto& [session, info] : registry_.all()) session->request_unbind();
  for (auto& s : listener_->sessions()) s->request_unbind();
  // Let requests in flight finish (their responses need the upstreams), then unbind upstreams.
  auto timer = std::make_shared<asio::steady_timer>(io_);
  const auto deadline = std::chrono::steady_clock::now() + options_.grace;
  auto poll = std::make_shared<std::function<void()>>();
  *poll = [this, timer, deadline, poll] {
    if (!listener_->sessions().empty() && std::chrono::steady_clock::now() < deadline) {
      timer->expires_after(std::chrono::milliseconds(50));
      timer->async_wait([poll](boost::system::error_code) { (*poll)(); });
      return;
    }
    consent_->stop();
    if (watchdog_) watchdog_->cancel();
    upstreams_.stop();
    delivery_.stop();
    http_->stop();
    signals_.cancel();
    // Give upstream unbinds a moment, then stop the loop.
    timer->expires_after(std::chrono::milliseconds(300));
    timer->async_wait([this, poll](boost::system::error_code) {
      *poll = nullptr;
      io_.stop();
    });
  };
  (*poll)();
}

int Daemon::run() {
  unsigned n =
      options_.threads ? options_.threads : std::max(2u, std::thread::hardware_concurrency());
  sd_notify("READY=1");
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < n; ++i) threads.emplace_back([this] { io_.run(); });
  io_.run();
  for (auto& t : threads) t.join();
  blocking_.join();
  log_audit_head();
  // The store's writer drains its queue through the cluster link, so the link stops after it
  // (the tail's last page, if any, is refused by the closed store and read again next start).
  store_->close();
  if (cluster_) cluster_->stop();
  SG_LOG(info, "stopped");
  return 0;
}

asio::awaitable<admin::HttpResponse> Daemon::handle_http(admin::HttpRequest& request) {
  co_return co_await admin_->handle(request);
}

void Daemon::start_watchdog() {
  const auto interval = sd_watchdog_interval();
  if (!interval) return;
  const auto period =
      std::max<std::chrono::microseconds>(*interval / 2, std::chrono::milliseconds(100));
  watchdog_ = std::make_unique<asio::steady_timer>(io_);
  SG_LOG(info, "watchdog").kv("ping_every_ms", static_cast<std::int64_t>(period.count() / 1000));
  watchdog_period_ = period;
  watchdog_tick();
}

void Daemon::watchdog_tick() {
  if (stopping_) return;
  sd_notify("WATCHDOG=1");
  watchdog_->expires_after(watchdog_period_);
  watchdog_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) watchdog_tick();
  });
}

}  // namespace smppguard::app
