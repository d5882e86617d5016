#pragma once
// A node's link to the cluster (docs/cluster.md): the PostgreSQL side of cluster mode.
//
// Flow:
//   open()   — on the link's own thread: connects the writer's connection (migrates the schema)
//              and the tail connection (claims node_id with a session advisory lock, LISTENs).
//              Throws StartError: exit 1 for a bad string or an unreachable server (within the
//              connect timeout, never a hang), exit 2 when another live process holds node_id.
//   start()  — the tail, a coroutine on the link's thread: reads the consent log after the
//              replica's version, hands each page to Store::apply_replicated (then tells the
//              daemon which subscribers other nodes changed: held MTs follow), and when there is
//              nothing left (caught up) waits for a NOTIFY or 1 s; every second it writes the
//              node's heartbeat (last_seen, lag, binds). A lost connection is reconnected (and
//              node_id claimed again) every 250 ms; meanwhile the link is down.
//   begin()/commit() — ClusterGate, called by the store's writer thread: each runs on the link's
//              thread over the writer's connection while the writer waits (bounded by the
//              statement timeout). A writer connection that is lost is reconnected by the next
//              begin(), at most every 250 ms.
//   stop()   — ends the tail and closes both connections (the claim ends with them). Call it
//              after the store is closed: the store's writer drains its queue through begin()
//              and commit(), which after stop() answer cluster_unavailable at once.
// Thread-safety: open/start/stop from one thread; begin/commit from the writer thread; ready(),
// lag_ms(), up() and nodes() from any thread.
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cluster/pg.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "store/store.hpp"

namespace smppguard::cluster {

/// A start that cannot go on; exit_code is what the daemon exits with.
class StartError : public std::runtime_error {
 public:
  StartError(int exit_code, const std::string& what)
      : std::runtime_error(what), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

/// Bound sessions of this node, for the heartbeat.
struct NodeBinds {
  int esme = 0;
  int upstream = 0;
};

/// One node as GET /v1/cluster shows it.
struct NodeStatus {
  std::string node_id;
  std::string state;                   // up | catching_up | down
  std::optional<std::int64_t> lag_ms;  // nullopt when not seen for 10 s
  NodeBinds binds;
  std::string last_seen;  // ISO 8601 UTC, "" when never
};

struct ClusterStatus {
  std::string postgres_state;  // up | down
  std::string primary;         // host:port of the server the link reached
  std::vector<NodeStatus> nodes;
};

class Link final : public store::ClusterGate {
 public:
  /// Connects, migrates and claims `node_id`; throws StartError.
  static std::shared_ptr<Link> open(const config::ClusterConfig& config, std::string node_id,
                                    metrics::Metrics& metrics);
  ~Link() override;

  /// The (program, msisdn) of program records another node changed, once they are applied here.
  using AppliedHandler = std::function<void(std::vector<std::pair<std::string, std::string>>)>;

  /// Starts the tail into `store` (which must outlive the link or stop() first); `binds` is
  /// called on the link's thread for each heartbeat, `applied` after each page applied.
  void start(store::Store& store, std::function<NodeBinds()> binds, AppliedHandler applied = {});
  void stop();

  // ClusterGate (the store's writer thread)
  Result<std::vector<store::ReplicatedChange>> begin(std::uint64_t applied) override;
  std::error_code commit(const store::ReplicatedChange& change) override;
  bool ready() const override;

  /// The age of the oldest commit this node has not applied yet; 0 when caught up.
  std::int64_t lag_ms() const;
  /// True while the tail connection is up.
  bool up() const { return up_.load(std::memory_order_acquire); }
  /// Every node of the cluster as PostgreSQL knows them (blocking: not on a network thread).
  Result<ClusterStatus> status();

 private:
  struct Pending;
  Link(const config::ClusterConfig& config, std::string node_id, metrics::Metrics& metrics);
  void connect_at_start();
  asio::awaitable<void> tail();
  /// Connects the tail connection, claims node_id on it and LISTENs (tail_, primary_, up_ set
  /// when it worked). Shared by the start and every reconnect.
  struct TailOpen {
    enum Code { ok, failed, claim_failed, claim_held } code = ok;
    std::string why;
  };
  asio::awaitable<TailOpen> open_tail(std::chrono::milliseconds connect_timeout);
  asio::awaitable<bool> tail_connect();
  asio::awaitable<bool> tail_once();
  asio::awaitable<void> heartbeat_if_due();
  asio::awaitable<std::error_code> writer_connect();
  /// Runs `op` on the link's thread and waits for it (from any other thread).
  template <typename T>
  T run_here(asio::awaitable<T> op);
  void publish_metrics();

  config::ClusterConfig config_;
  std::string node_id_;
  metrics::Metrics& metrics_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;

  // Link thread only.
  std::unique_ptr<PgConnection> writer_;
  std::chrono::steady_clock::time_point writer_retry_at_{};
  std::unique_ptr<PgConnection> tail_;
  store::Store* store_ = nullptr;
  std::function<NodeBinds()> binds_;
  AppliedHandler applied_;
  std::chrono::steady_clock::time_point next_heartbeat_{};
  bool stopping_ = false;
  std::atomic<bool> closed_{false};  // after stop(): the gate answers cluster_unavailable at once

  std::atomic<bool> up_{false};
  std::atomic<bool> caught_up_{false};
  std::atomic<bool> tail_done_{true};
  // The oldest version read but not applied yet: its age when read, and when that was.
  std::atomic<std::int64_t> pending_age_ms_{-1};
  std::atomic<std::int64_t> pending_read_at_ms_{0};  // steady clock, ms
  mutable std::mutex primary_mu_;
  std::string primary_;
};

}  // namespace smppguard::cluster
